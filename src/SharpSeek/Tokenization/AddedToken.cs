namespace SharpSeek.Tokenization;

/// <summary>
/// A token matched atomically in text before normalization and BPE (Hugging Face <c>added_tokens</c>).
/// <paramref name="Special"/> tokens are the control tokens (BOS/EOS/pad/placeholders) that decoding may skip.
/// </summary>
public sealed record AddedToken(int Id, string Content, bool Special, bool LStrip = false, bool RStrip = false);
