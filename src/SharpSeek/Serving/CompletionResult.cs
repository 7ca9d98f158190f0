using SharpSeek.Tools;

namespace SharpSeek.Serving;

/// <summary>A whole completion: reasoning, answer, finish reason ("stop" / "length" / "tool_calls"), usage, tool calls, and log-probs if asked for.</summary>
public sealed record CompletionResult(string Reasoning, string Content, string FinishReason, CompletionUsage Usage)
{
    /// <summary>The tool calls of the answer (arguments as the model wrote them).</summary>
    public IReadOnlyList<ToolCall> ToolCalls { get; init; } = [];

    public IReadOnlyList<TokenInfo>? Logprobs { get; init; }
}
