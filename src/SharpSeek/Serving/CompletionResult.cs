namespace SharpSeek.Serving;

/// <summary>A whole completion: reasoning, answer, finish reason ("stop" / "length"), usage, and log-probs if asked for.</summary>
public sealed record CompletionResult(string Reasoning, string Content, string FinishReason, CompletionUsage Usage)
{
    public IReadOnlyList<TokenInfo>? Logprobs { get; init; }
}
