namespace SharpSeek.Tokenization;

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
