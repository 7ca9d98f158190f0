namespace SharpSeek.Tokenization;

/// <summary>A Hugging Face normalizer: rewrites text (outside added tokens) before pre-tokenization.</summary>
public abstract class Normalizer
{
    /// <summary>The normalized text (the same instance when nothing changes).</summary>
    public abstract string Normalize(string text);
}
