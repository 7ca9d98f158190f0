using SharpSeek.Chat;
using SharpSeek.Structured;

namespace SharpSeek.Serving;

/// <summary>
/// Where a request becomes a generation: messages → chat template → tokens → <see cref="Scheduler"/> →
/// detokenizer → stop strings → reasoning/answer split. Thread-safe: every request gets its own sequence.
/// </summary>
public sealed class ChatPipeline : IDisposable
{
    private readonly bool _ownsBundle;

    public ChatPipeline(ModelBundle bundle, SchedulerOptions? options = null, bool ownsBundle = false)
    {
        Bundle = bundle;
        _ownsBundle = ownsBundle;
        Scheduler = new Scheduler(bundle.Model, options);
    }

    public ModelBundle Bundle { get; }
    public Scheduler Scheduler { get; }

    /// <summary>Template kwargs every chat prompt gets (<c>--template-kwargs</c>); a request's own kwargs override them.</summary>
    public IReadOnlyDictionary<string, System.Text.Json.JsonElement>? DefaultTemplateKwargs { get; init; }

    /// <summary>Renders a conversation with the template's default thinking mode, or, without <paramref name="think"/>, with reasoning off.</summary>
    public PreparedPrompt PrepareChat(IReadOnlyList<ChatMessage> messages, bool think = true) =>
        PrepareChat(new ChatPromptRequest(messages) { Think = think ? null : false });

    /// <summary>
    /// Renders a conversation (with its tools and template kwargs) and encodes it: the template's markup may become
    /// special tokens, message content never does. Whether the completion starts inside a reasoning block follows the
    /// rendered text (does the prompt end in an open <c>&lt;think&gt;</c>?), not the model family.
    /// </summary>
    /// <exception cref="SharpSeekException">no messages, or the template rejects the conversation (its own message).</exception>
    public PreparedPrompt PrepareChat(ChatPromptRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Messages.Count == 0) throw new SharpSeekException("messages must not be empty");
        request = request with { TemplateKwargs = TemplateKwargs.Merge(DefaultTemplateKwargs, request.TemplateKwargs) };
        RenderedPrompt rendered = Bundle.Template.Render(request);
        return new PreparedPrompt(EncodeBounded(rendered.Text, addSpecialTokens: false, rendered.Content), rendered.OpensReasoning);
    }

    /// <summary>
    /// Encodes a prompt, stopping as soon as it cannot fit the context (a prompt leaves room for one token): a huge
    /// message costs tokenizing one context's worth of it, not all of it, and the error says how far over it is.
    /// </summary>
    private int[] EncodeBounded(string text, bool addSpecialTokens, IReadOnlyList<Chat.Jinja.TextRange>? content = null)
    {
        int limit = Scheduler.ContextSize - 1;
        var tok = Bundle.Tokenizer;
        // No token covers more than LongestTokenBytes bytes of text (normalisation may shrink text up to 3×, e.g. Hangul
        // jamo into syllables), so a longer text cannot fit: it is refused from a sample, without tokenizing it all.
        if ((long)System.Text.Encoding.UTF8.GetByteCount(text) > 3L * (limit + 1) * LongestTokenBytes)
        {
            const int sampleChars = 1 << 16;
            int cut = text.Length > sampleChars && char.IsHighSurrogate(text[sampleChars - 1]) ? sampleChars - 1 : sampleChars;
            var sample = new List<int>();
            int sampled = tok.Encode(text[..Math.Min(cut, text.Length)], sample, limit, addSpecialTokens, parseSpecial: true);
            throw PromptTooLongException.From(sample.Count, Math.Max(1, sampled), text.Length, Scheduler.ContextSize);
        }
        var ids = new List<int>(Math.Min(text.Length / 3 + 4, limit + 2));
        int encoded = content is null ? tok.Encode(text, ids, limit, addSpecialTokens, parseSpecial: true) : tok.EncodeMarkedUp(text, content, ids, limit);
        if (ids.Count > limit) throw PromptTooLongException.From(ids.Count, encoded, text.Length, Scheduler.ContextSize);
        return [.. ids];
    }

    /// <summary>Bytes of the longest token of the vocabulary (at least 1).</summary>
    private int LongestTokenBytes => _longestTokenBytes ??= Enumerable.Range(0, Bundle.Tokenizer.VocabSize).Max(i => Math.Max(1, Bundle.Tokenizer.GetTokenBytes(i).Length));

    private int? _longestTokenBytes;


    /// <summary>
    /// A raw prompt (legacy completions): special-token text in it is parsed into control tokens, as in llama.cpp's and
    /// vLLM's completion endpoints (the caller writes the whole prompt, markup included); with <paramref name="suffix"/>, a fill-in-the-middle prompt in the format the
    /// vocabulary has (<see cref="FimFormat"/>: DeepSeek's or Qwen's markers).
    /// </summary>
    public PreparedPrompt PrepareText(string prompt, string? suffix = null)
    {
        var tok = Bundle.Tokenizer;
        if (suffix is not null)
        {
            var fim = FimFormat.Detect(tok) ?? throw new SharpSeekException(
                $"this model has no fill-in-the-middle tokens (neither DeepSeek's {FimFormat.DeepSeek.PrefixToken} nor Qwen's {FimFormat.Qwen.PrefixToken}); suffix is not supported");
            return new PreparedPrompt(fim.Encode(tok, prompt, suffix), false);
        }
        return new PreparedPrompt(EncodeBounded(prompt, addSpecialTokens: true), false);
    }

    /// <summary>
    /// Queues the completion now (so a full queue or a bad request fails before anything is sent) and returns
    /// its stream. Throws <see cref="QueueFullException"/> or <see cref="SharpSeekException"/>.
    /// </summary>
    public CompletionStream Start(PreparedPrompt prompt, CompletionOptions options)
    {
        int room = Scheduler.ContextSize - prompt.Tokens.Length;
        if (room <= 0) throw PromptTooLongException.From(prompt.Tokens.Length, 1, 1, Scheduler.ContextSize);
        // A grammar is compiled (or found in the cache) before queueing, so a bad schema fails the request up front.
        var constraint = options.Output is { } output ? new GrammarConstraint(Bundle.Grammars.Get(output, prompt.StartsInReasoning)) : null;
        var request = new SequenceRequest(prompt.Tokens, Math.Min(options.MaxTokens, room), options.Sampling)
        {
            StopTokens = options.IgnoreEos ? new HashSet<int>() : Bundle.StopTokens,
            TopLogprobs = options.TopLogprobs,
            Constraint = constraint,
        };
        return new CompletionStream(this, Scheduler.Submit(request), prompt, options);
    }

    /// <summary>Runs a completion to its end.</summary>
    public async Task<CompletionResult> CompleteAsync(PreparedPrompt prompt, CompletionOptions options, CancellationToken cancellationToken = default)
    {
        using var stream = Start(prompt, options);
        return await stream.CollectAsync(cancellationToken).ConfigureAwait(false);
    }

    public void Dispose()
    {
        Scheduler.Dispose();
        if (_ownsBundle) Bundle.Dispose();
    }
}
