namespace SharpSeek.Generation;

public enum FinishReason
{
    /// <summary>An end-of-sequence or stop token was produced.</summary>
    Stop,
    /// <summary>max_tokens was reached.</summary>
    Length,
    /// <summary>The context is full.</summary>
    ContextFull,
}

/// <summary>What one sequence asks of the decode step.</summary>
public sealed record GenerationOptions
{
    public int MaxTokens { get; init; } = 256;
    public SamplingOptions Sampling { get; init; } = SamplingOptions.Greedy;
    /// <summary>Extra stop tokens; the model's EOS tokens always stop unless <see cref="IgnoreEos"/>.</summary>
    public IReadOnlyCollection<int> StopTokens { get; init; } = [];
    public bool IgnoreEos { get; init; }
    /// <summary>Whether the stop token itself is yielded.</summary>
    public bool IncludeStopToken { get; init; }
    /// <summary>Which tokens may come next (a grammar); null: any.</summary>
    public ITokenConstraint? Constraint { get; init; }
    /// <summary>-1: no log-probabilities; 0: the chosen token's; n: also the n most likely (of the unconstrained model).</summary>
    public int TopLogprobs { get; init; } = -1;
    /// <summary>Speculative decoding (drafts verified in one forward); <see cref="Speculation.None"/> by default.</summary>
    public Speculation Speculation { get; init; } = Speculation.None;
}

/// <summary>A candidate token and its log-probability.</summary>
public readonly record struct TokenLogprob(int Token, float Logprob);

/// <summary>One generated token, with its log-probability when asked for (computed before any sampling filter).</summary>
public readonly record struct GeneratedToken(int Token, float Logprob, TokenLogprob[]? Top);
