using SharpSeek.Chat;
using SharpSeek.Generation;
using SharpSeek.Structured;
using SharpSeek.Tools;

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

    /// <summary>
    /// Whether tools may be offered to a model whose vocabulary and template have no tool format, by describing them in
    /// the system prompt (<see cref="ToolPrompt"/>); off, such a request is refused.
    /// </summary>
    public bool ToolFallback { get; init; }

    /// <summary>The tools of a request for this model: its call format (or the fallback's), validated.</summary>
    /// <exception cref="ToolException">a bad name or choice, or tools for a model that cannot take them.</exception>
    public ToolSet ResolveTools(IReadOnlyList<ToolDefinition> tools, ToolChoice choice, bool parallelCalls = true)
    {
        var format = Bundle.ToolFormat;
        if (format is null && !ToolFallback && tools.Count > 0 && choice.Mode != ToolChoiceMode.None)
            throw new ToolException("tools", $"the chat template of '{Bundle.Name}' has no tool-call format; start the server with --tool-fallback to describe tools in the system prompt instead");
        var set = new ToolSet(tools, choice, parallelCalls, format ?? ToolCallFormat.Hermes, Fallback: format is null);
        set.Validate();
        return set;
    }

    /// <summary>Renders a conversation. Without <paramref name="think"/>, a template that opens a reasoning block closes it at once; <paramref name="tools"/> are described in the prompt.</summary>
    public PreparedPrompt PrepareChat(IReadOnlyList<ChatMessage> messages, bool think = true, ToolSet? tools = null)
    {
        if (messages.Count == 0) throw new SharpSeekException("messages must not be empty");
        if (tools is not null) messages = ToolPrompt.Apply(messages, tools);
        var template = Bundle.Template;
        string text = template.Render(messages, addGenerationPrompt: true);
        bool reasoning = template.PromptOpensReasoning;
        if (reasoning && !think)
        {
            // DeepSeek's non-thinking mode: an empty, closed reasoning block before the answer.
            text += "</think>\n\n";
            reasoning = false;
        }
        return new PreparedPrompt(Bundle.Tokenizer.Encode(text, addSpecialTokens: false, parseSpecial: true), reasoning);
    }

    /// <summary>
    /// A raw prompt (legacy completions); with <paramref name="suffix"/>, a fill-in-the-middle prompt in the format the
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
        return new PreparedPrompt(tok.Encode(prompt, addSpecialTokens: true, parseSpecial: true), false);
    }

    /// <summary>
    /// Queues the completion now (so a full queue or a bad request fails before anything is sent) and returns
    /// its stream. Throws <see cref="QueueFullException"/> or <see cref="SharpSeekException"/>.
    /// </summary>
    public CompletionStream Start(PreparedPrompt prompt, CompletionOptions options)
    {
        int room = Scheduler.ContextSize - prompt.Tokens.Length;
        if (room <= 0) throw new SharpSeekException($"the prompt ({prompt.Tokens.Length} tokens) does not fit the context ({Scheduler.ContextSize} tokens)");
        // A grammar is compiled (or found in the cache) before queueing, so a bad schema fails the request up front.
        var grammar = options.Tools is { } tools ? tools.Grammar(options.Output) : options.Output;
        ITokenConstraint? constraint = grammar is not null ? new GrammarConstraint(Bundle.Grammars.Get(grammar, prompt.StartsInReasoning))
            : Bundle.Model.Config.VocabSize > Bundle.Tokenizer.VocabSize ? new DecodableTokens(Bundle.Tokenizer.VocabSize) : null;
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
