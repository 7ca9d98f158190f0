namespace SharpSeek.Generation;

/// <summary>
/// How the next token is chosen. A temperature below <see cref="GreedyBelowTemperature"/> (0 included) means greedy
/// (argmax); the other filters then do nothing.
/// </summary>
public sealed record SamplingOptions
{
    /// <summary>
    /// Temperatures below this sample greedily, as vLLM does below its 1e-5. At this floor the most likely token already
    /// takes all the mass (a logit gap of 0.001 becomes e^−100), and below about 3e-39 1/T overflows to infinity and the
    /// probabilities become NaN.
    /// </summary>
    public const float GreedyBelowTemperature = 1e-5f;

    public float Temperature { get; init; }
    /// <summary>Keep the k most likely tokens (0 = off).</summary>
    public int TopK { get; init; }
    /// <summary>Keep the smallest set whose probability reaches p (1 = off).</summary>
    public float TopP { get; init; } = 1;
    /// <summary>Drop tokens less likely than min_p × the most likely one (0 = off).</summary>
    public float MinP { get; init; }
    /// <summary>CTRL-style penalty on tokens already in the sequence: positive logits divided, negative multiplied (1 = off).</summary>
    public float RepetitionPenalty { get; init; } = 1;
    /// <summary>Seed of the sampling RNG; null picks one from the clock.</summary>
    public ulong? Seed { get; init; }

    public static SamplingOptions Greedy { get; } = new();

    /// <summary>Throws a <see cref="SharpSeekException"/> naming the first bad parameter.</summary>
    public void Validate()
    {
        if (!(Temperature >= 0) || float.IsInfinity(Temperature)) throw new SharpSeekException($"temperature must be ≥ 0, is {Temperature}");
        if (TopK < 0) throw new SharpSeekException($"top_k must be ≥ 0, is {TopK}");
        if (!(TopP > 0 && TopP <= 1)) throw new SharpSeekException($"top_p must be in (0, 1], is {TopP}");
        if (!(MinP >= 0 && MinP <= 1)) throw new SharpSeekException($"min_p must be in [0, 1], is {MinP}");
        if (!(RepetitionPenalty > 0) || float.IsInfinity(RepetitionPenalty)) throw new SharpSeekException($"repetition_penalty must be > 0, is {RepetitionPenalty}");
    }
}
