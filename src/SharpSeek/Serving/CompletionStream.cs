using System.Runtime.CompilerServices;
using System.Text;
using SharpSeek.Chat;
using SharpSeek.Generation;
using SharpSeek.Tokenization;
using SharpSeek.Tools;

namespace SharpSeek.Serving;

/// <summary>
/// The text side of one running sequence: tokens → text → reasoning/answer split → stop strings. Stop strings are looked
/// for in the answer only (as DeepSeek's API does): a stop string the model happens to write while it reasons does not end
/// the completion, which would leave the answer empty. Without a reasoning split they apply to all the text.
/// Disposing it (or cancelling the read) cancels the sequence, which frees its place at the next step.
/// </summary>
public sealed class CompletionStream : IDisposable
{
    private readonly ChatPipeline _pipeline;
    private readonly SequenceHandle _handle;
    private readonly PreparedPrompt _prompt;
    private readonly CompletionOptions _options;
    private int _produced;

    internal CompletionStream(ChatPipeline pipeline, SequenceHandle handle, PreparedPrompt prompt, CompletionOptions options)
    {
        _pipeline = pipeline;
        _handle = handle;
        _prompt = prompt;
        _options = options;
    }

    public int PromptTokens => _prompt.Tokens.Length;

    /// <summary>Tokens read so far (all of them once the stream has ended); for request logs.</summary>
    public int CompletionTokens => Volatile.Read(ref _produced);

    /// <summary>The chunks; the last one carries the finish reason and usage.</summary>
    public async IAsyncEnumerable<CompletionChunk> ReadAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        using var cancel = cancellationToken.Register(_handle.Cancel);
        Tokenizer tok = _pipeline.Bundle.Tokenizer;
        var detok = new StreamingDetokenizer(tok);
        var stops = new StopStringMatcher(_options.Stop);
        var parser = new ReasoningParser(_prompt.StartsInReasoning);
        // Calls are read from the answer only: a call written inside the reasoning block is not a call.
        var calls = _calls = _options.Tools is { ParsesCalls: true } tools ? tools.Format.CreateParser() : null;
        int reasoningTokens = 0;
        bool wantLogprobs = _options.TopLogprobs >= 0;
        try
        {
            while (await _handle.Tokens.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                while (_handle.Tokens.TryRead(out var g))
                {
                    // Tokens already produced are not handed out after cancellation.
                    cancellationToken.ThrowIfCancellationRequested();
                    Interlocked.Increment(ref _produced);
                    string text = detok.Push(g.Token);
                    var delta = _options.SplitReasoning ? parser.Push(text) : new ReasoningDelta("", text);
                    if (_options.SplitReasoning && (parser.InReasoning || delta.Reasoning.Length > 0 && delta.Content.Length == 0)) reasoningTokens++;
                    string content = stops.Push(delta.Content);
                    IReadOnlyList<TokenInfo>? lp = wantLogprobs ? [Info(tok, g)] : null;
                    var answer = calls is null ? ToolCallUpdate.Text(content) : calls.Push(content);
                    if (delta.Reasoning.Length > 0 || !answer.IsEmpty || lp is not null)
                        yield return new CompletionChunk(delta.Reasoning, answer.Content) { Logprobs = lp, ToolCalls = answer.Calls.Count > 0 ? answer.Calls : null };
                    if (stops.Stopped)
                    {
                        _handle.Cancel();
                        break;
                    }
                }
                if (stops.Stopped) break;
            }
        }
        finally
        {
            _handle.Cancel();
        }
        cancellationToken.ThrowIfCancellationRequested();
        string tailReasoning = "", tailContent = "";
        if (!stops.Stopped)
        {
            string rest = detok.Flush();
            var tail = _options.SplitReasoning ? parser.Push(rest) : new ReasoningDelta("", rest);
            var end = _options.SplitReasoning ? parser.Flush() : new ReasoningDelta("", "");
            tailReasoning = tail.Reasoning + end.Reasoning;
            tailContent = stops.Push(tail.Content + end.Content);
            tailContent += stops.Flush();
        }
        IReadOnlyList<ToolCallDelta>? lastCalls = null;
        if (calls is not null)
        {
            var a = calls.Push(tailContent);
            var b = calls.Flush();
            tailContent = a.Content + b.Content;
            lastCalls = [.. a.Calls, .. b.Calls];
        }
        string finish = stops.Stopped || _handle.FinishReason == FinishReason.Stop ? "stop" : "length";
        // OpenAI's rule: an answer that ends in tool calls finishes with "tool_calls" (one cut off by max_tokens stays "length").
        if (finish == "stop" && calls is { Calls.Count: > 0 }) finish = "tool_calls";
        var usage = new CompletionUsage(_prompt.Tokens.Length, _handle.CachedTokens, _produced, reasoningTokens);
        yield return new CompletionChunk(tailReasoning, tailContent)
        {
            FinishReason = finish,
            Usage = usage,
            ToolCalls = lastCalls is { Count: > 0 } ? lastCalls : null,
        };
    }

    private ToolCallParser? _calls;

    /// <summary>
    /// The answer's tool calls, whole (arguments as written); complete once the last chunk, the one with the finish reason,
    /// has been read. The chunks carry the same calls as deltas, for streaming.
    /// </summary>
    public IReadOnlyList<ToolCall> ToolCalls => _calls?.Calls ?? [];

    /// <summary>Reads the whole completion.</summary>
    public async Task<CompletionResult> CollectAsync(CancellationToken cancellationToken = default)
    {
        var reasoning = new StringBuilder();
        var content = new StringBuilder();
        List<TokenInfo>? logprobs = _options.TopLogprobs >= 0 ? [] : null;
        string finish = "stop";
        CompletionUsage? usage = null;
        await foreach (var c in ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            reasoning.Append(c.Reasoning);
            content.Append(c.Content);
            if (c.Logprobs is not null) logprobs?.AddRange(c.Logprobs);
            if (c.FinishReason is not null) finish = c.FinishReason;
            if (c.Usage is not null) usage = c.Usage;
        }
        return new CompletionResult(reasoning.ToString(), content.ToString(), finish, usage!)
        {
            Logprobs = logprobs,
            ToolCalls = [.. ToolCalls],
        };
    }

    private static TokenInfo Info(Tokenizer tok, GeneratedToken g)
    {
        var top = g.Top is null ? [] : g.Top.Select(t => (Text(tok, t.Token), tok.GetTokenBytes(t.Token).ToArray(), t.Logprob)).ToList();
        return new TokenInfo(Text(tok, g.Token), tok.GetTokenBytes(g.Token).ToArray(), g.Logprob, top);
    }

    private static string Text(Tokenizer tok, int id) => tok.Decode([id]);

    public void Dispose() => _handle.Cancel();
}
