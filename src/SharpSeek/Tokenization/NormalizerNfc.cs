namespace SharpSeek.Tokenization;

/// <summary>Unicode NFC (Qwen2/Qwen3).</summary>
public sealed class NormalizerNfc : Normalizer
{
    /// <inheritdoc/>
    public override string Normalize(string text) => UnicodeNfc.Normalize(text);
}
