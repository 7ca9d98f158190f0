using System.Text.Json;
using System.Text.RegularExpressions;
using SharpSeek.Chat.Jinja;

namespace SharpSeek.Chat;

/// <summary>
/// The model's own Jinja <c>chat_template</c>, rendered as transformers' <c>apply_chat_template</c> does, with
/// <c>messages</c>, <c>tools</c>, <c>documents</c> (none), <c>add_generation_prompt</c>, <c>bos_token</c>/<c>eos_token</c>
/// and the template kwargs. Everything taken from the request is content; only the template's own text is markup.
/// </summary>
public sealed partial class JinjaChatTemplate : ChatTemplate
{
    private static readonly HashSet<string> Reserved = new(StringComparer.Ordinal)
        { "messages", "tools", "documents", "add_generation_prompt", "bos_token", "eos_token" };

    private readonly JinjaTemplate _template;
    private readonly bool _argumentsAsObjects;

    /// <summary>Parses <paramref name="source"/>; <paramref name="bosToken"/>/<paramref name="eosToken"/> are the tokenizer's (null: not defined).</summary>
    /// <exception cref="JinjaException">the template does not parse or uses a construct this engine lacks (with line and column).</exception>
    public JinjaChatTemplate(string source, string? bosToken, string? eosToken)
    {
        _template = JinjaTemplate.Parse(source);
        BosToken = bosToken;
        EosToken = eosToken;
        _argumentsAsObjects = ArgumentsSerialized().IsMatch(source);
        EndOfTurnToken = source.Contains(DeepSeekTokens.Eos, StringComparison.Ordinal) ? DeepSeekTokens.Eos
            : source.Contains("<|im_end|>", StringComparison.Ordinal) ? "<|im_end|>"
            : source.Contains("<|eot_id|>", StringComparison.Ordinal) ? "<|eot_id|>"
            : eosToken ?? "";
    }

    /// <summary>The template text.</summary>
    public string Source => _template.Source;

    /// <summary>The BOS text passed as <c>bos_token</c>.</summary>
    public string? BosToken { get; }

    /// <summary>The EOS text passed as <c>eos_token</c>.</summary>
    public string? EosToken { get; }

    /// <inheritdoc/>
    public override ChatFormat Format => ChatFormat.Jinja;

    /// <inheritdoc/>
    public override string EndOfTurnToken { get; }

    /// <inheritdoc/>
    public override bool SupportsReasoning => Source.Contains("<think>", StringComparison.Ordinal);

    /// <summary>What <c>strftime_now</c> formats (null: the current time).</summary>
    public DateTimeOffset? Now { get; init; }

    /// <inheritdoc/>
    protected override JinjaString RenderCore(ChatPromptRequest request) => _template.Render(Variables(request), Now);

    /// <summary>The template variables for <paramref name="request"/>, as transformers builds them.</summary>
    /// <exception cref="SharpSeekException">a template kwarg uses a reserved name.</exception>
    public IReadOnlyDictionary<string, object?> Variables(ChatPromptRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var vars = new Dictionary<string, object?>(StringComparer.Ordinal);
        if (request.Think is bool think)
        {
            vars["enable_thinking"] = think;
            vars["thinking"] = think;
        }
        foreach (var (key, value) in request.TemplateKwargs ?? new Dictionary<string, JsonElement>())
        {
            if (Reserved.Contains(key)) throw new SharpSeekException($"chat_template_kwargs: '{key}' is set by the server and cannot be passed as a template kwarg");
            vars[key] = JinjaValue.FromJson(value);
        }
        vars["messages"] = new JinjaList(request.Messages.Select(m => (object?)Message(m)).ToList());
        vars["tools"] = request.Tools is { Count: > 0 } tools ? new JinjaList(tools.Select(t => (object?)Tool(t)).ToList()) : null;
        vars["documents"] = null;
        vars["add_generation_prompt"] = request.AddGenerationPrompt;
        if (BosToken is not null) vars["bos_token"] = JinjaString.Markup(BosToken);
        if (EosToken is not null) vars["eos_token"] = JinjaString.Markup(EosToken);
        return vars;
    }

    private JinjaDict Message(ChatMessage m)
    {
        var d = new JinjaDict();
        d.Set("role", JinjaString.FromContent(m.Role));
        d.Set("content", m.Content is null ? null : JinjaString.FromContent(m.Content));
        if (m.ReasoningContent is not null) d.Set("reasoning_content", JinjaString.FromContent(m.ReasoningContent));
        if (m.ToolCalls is { Count: > 0 } calls)
        {
            var list = new List<object?>();
            foreach (ChatToolCall c in calls)
            {
                var call = new JinjaDict();
                if (c.Id is not null) call.Set("id", JinjaString.FromContent(c.Id));
                call.Set("type", JinjaString.FromContent(c.Type));
                var function = new JinjaDict();
                function.Set("name", JinjaString.FromContent(c.Name));
                function.Set("arguments", Arguments(c.Arguments));
                call.Set("function", function);
                list.Add(call);
            }
            d.Set("tool_calls", new JinjaList(list));
        }
        if (m.ToolCallId is not null) d.Set("tool_call_id", JinjaString.FromContent(m.ToolCallId));
        if (m.Name is not null) d.Set("name", JinjaString.FromContent(m.Name));
        return d;
    }

    private object? Arguments(string json)
    {
        if (!_argumentsAsObjects) return JinjaString.FromContent(json);
        try
        {
            using JsonDocument doc = JsonDocument.Parse(json);
            return doc.RootElement.ValueKind == JsonValueKind.Object ? JinjaValue.FromJson(doc.RootElement) : JinjaString.FromContent(json);
        }
        catch (JsonException) { return JinjaString.FromContent(json); }
    }

    private static object? Tool(ChatTool t)
    {
        if (t.Definition is JsonElement def) return JinjaValue.FromJson(def);
        var function = new JinjaDict();
        function.Set("name", JinjaString.FromContent(t.Name));
        if (t.Description is not null) function.Set("description", JinjaString.FromContent(t.Description));
        if (t.Parameters is JsonElement p) function.Set("parameters", JinjaValue.FromJson(p));
        var d = new JinjaDict();
        d.Set("type", JinjaString.FromContent(t.Type));
        d.Set("function", function);
        return d;
    }

    // Templates that serialize tool-call arguments themselves (Qwen's, Llama's) expect objects, as vLLM passes them.
    [GeneratedRegex(@"arguments\s*\|\s*tojson")]
    private static partial Regex ArgumentsSerialized();
}
