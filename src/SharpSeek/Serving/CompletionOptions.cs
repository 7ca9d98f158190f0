using SharpSeek.Generation;
using SharpSeek.Structured;
using SharpSeek.Tools;

namespace SharpSeek.Serving;

/// <summary>What a client may set for one completion.</summary>
public sealed record CompletionOptions
{
    /// <summary>Tokens to generate at most (reasoning included).</summary>
    public int MaxTokens { get; init; } = 1024;

    public SamplingOptions Sampling { get; init; } = SamplingOptions.Greedy;

    /// <summary>Strings that end the completion; they are not part of the output. With a reasoning split they are looked for in the answer only.</summary>
    public IReadOnlyList<string> Stop { get; init; } = [];

    /// <summary>-1: no log-probabilities; 0: the chosen token's; n: also the n most likely.</summary>
    public int TopLogprobs { get; init; } = -1;

    /// <summary>Keep going past the model's end-of-turn tokens (vLLM's and llama.cpp's <c>ignore_eos</c>; for benchmarks and tests).</summary>
    public bool IgnoreEos { get; init; }

    /// <summary>Whether <c>&lt;think&gt;</c> blocks become reasoning; off for raw text completions.</summary>
    public bool SplitReasoning { get; init; } = true;

    /// <summary>
    /// What the answer must be (a JSON object, a schema's value), enforced token by token by a grammar; null: free text.
    /// A reasoning model still thinks freely first: the grammar starts after <c>&lt;/think&gt;</c>.
    /// </summary>
    public OutputGrammar? Output { get; init; }

    /// <summary>Tools on offer (from <see cref="ChatPipeline.ResolveTools"/>): the answer is read for calls, and forced or strict calls are grammar-constrained.</summary>
    public ToolSet? Tools { get; init; }
}

/// <summary>A prompt ready to run: its tokens and whether it leaves the model inside a reasoning block.</summary>
public sealed record PreparedPrompt(int[] Tokens, bool StartsInReasoning);

/// <summary>Token counts of one completion, in the terms both OpenAI and DeepSeek report.</summary>
public sealed record CompletionUsage(int PromptTokens, int CachedTokens, int CompletionTokens, int ReasoningTokens)
{
    public int TotalTokens => PromptTokens + CompletionTokens;
    public int MissTokens => PromptTokens - CachedTokens;
}

/// <summary>A token's text and log-probability, for <c>logprobs</c>.</summary>
public sealed record TokenInfo(string Text, byte[] Bytes, float Logprob, IReadOnlyList<(string Text, byte[] Bytes, float Logprob)> Top);

/// <summary>
/// One streamed piece of a completion: reasoning and/or answer text, tool-call pieces, the tokens it came from (with
/// log-probs when asked), and on the last chunk the finish reason ("stop", "length" or "tool_calls") and usage.
/// </summary>
public sealed record CompletionChunk(string Reasoning, string Content)
{
    /// <summary>Tool-call pieces (id and name first, then argument fragments), when the answer calls tools.</summary>
    public IReadOnlyList<ToolCallDelta>? ToolCalls { get; init; }
    public IReadOnlyList<TokenInfo>? Logprobs { get; init; }
    public string? FinishReason { get; init; }
    public CompletionUsage? Usage { get; init; }
}
