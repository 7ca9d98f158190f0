using SharpSeek.Generation;

namespace SharpSeek.Serving;

/// <summary>One sequence to generate: prompt ids, length limit, sampling, stop ids, and how many top log-probabilities to report.</summary>
public sealed record SequenceRequest(int[] Prompt, int MaxTokens, SamplingOptions Sampling)
{
    /// <summary>Tokens that end the sequence (not yielded).</summary>
    public IReadOnlySet<int> StopTokens { get; init; } = new HashSet<int>();

    /// <summary>-1: no log-probabilities; 0: the chosen token's; n: also the n most likely.</summary>
    public int TopLogprobs { get; init; } = -1;

    /// <summary>Which tokens may come next (a grammar); null: any. Log-probabilities stay those of the unconstrained model.</summary>
    public ITokenConstraint? Constraint { get; init; }

    /// <summary>Speculative decoding for this sequence; null: the scheduler's (<see cref="SchedulerOptions.Speculation"/>).</summary>
    public Speculation? Speculation { get; init; }
}
