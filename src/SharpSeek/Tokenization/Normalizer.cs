namespace SharpSeek.Tokenization;

/// <summary>A Hugging Face normalizer: rewrites text (outside added tokens) before pre-tokenization.</summary>
public abstract class Normalizer
{
    /// <summary>The normalized text (the same instance when nothing changes).</summary>
    public abstract string Normalize(string text);
}

/// <summary>Unicode NFC (Qwen2/Qwen3).</summary>
public sealed class NormalizerNfc : Normalizer
{
    /// <inheritdoc/>
    public override string Normalize(string text) => UnicodeNfc.Normalize(text);
}

/// <summary>Hugging Face's <c>Sequence</c> normalizer: the steps in order (an empty sequence changes nothing).</summary>
public sealed class NormalizerSequence(IReadOnlyList<Normalizer> steps) : Normalizer
{
    /// <summary>The steps.</summary>
    public IReadOnlyList<Normalizer> Steps { get; } = steps;

    /// <inheritdoc/>
    public override string Normalize(string text)
    {
        for (int i = 0; i < Steps.Count; i++) text = Steps[i].Normalize(text);
        return text;
    }
}
