using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.AI;
using SharpSeek.Chat;
using SharpSeek.Generation;
using SharpSeek.Structured;
using SharpSeek.Tools;
using AiChatMessage = Microsoft.Extensions.AI.ChatMessage;
using SsChatMessage = SharpSeek.Chat.ChatMessage;

namespace SharpSeek.Serving;

/// <summary>
/// In-process <see cref="IChatClient"/>: streams <see cref="TextReasoningContent"/> then <see cref="TextContent"/>, and a final
/// update with the finish reason and <see cref="UsageContent"/>. Honours <see cref="ChatOptions"/> max tokens, temperature,
/// top-p, top-k, stop sequences and seed; <c>AdditionalProperties["think"] = false</c> answers without reasoning (true asks
/// a model with a thinking switch to reason) and <c>AdditionalProperties["chat_template_kwargs"]</c> passes template variables.
/// Tools: <see cref="ChatOptions.Tools"/> (function declarations; <c>AdditionalProperties["strict"] = true</c> on a function
/// or the options forces its arguments to follow its schema), <see cref="ChatOptions.ToolMode"/> and
/// <see cref="ChatOptions.AllowMultipleToolCalls"/>; calls come back as <see cref="FunctionCallContent"/> (arguments that are
/// not JSON keep the model's text in <see cref="AIContent.RawRepresentation"/> and set <see cref="FunctionCallContent.Exception"/>),
/// and history may hold calls and <see cref="FunctionResultContent"/>, so <c>UseFunctionInvocation()</c> works.
/// <see cref="ChatOptions.ResponseFormat"/> JSON (with or without a schema) is enforced by a grammar.
/// Thread-safe: concurrent calls are batched by the pipeline's scheduler. Cancellation stops within one step.
/// </summary>
public sealed class SharpSeekChatClient : IChatClient
{
    private readonly bool _ownsPipeline;
    private readonly ChatClientMetadata _metadata;

    public SharpSeekChatClient(ChatPipeline pipeline, bool ownsPipeline = false)
    {
        Pipeline = pipeline;
        _ownsPipeline = ownsPipeline;
        _metadata = new ChatClientMetadata("sharpseek", null, pipeline.Bundle.Name);
    }

    public ChatPipeline Pipeline { get; }

    /// <summary>Loads a model (directory or .gguf) and owns it.</summary>
    public static SharpSeekChatClient Load(string path, SchedulerOptions? options = null) =>
        new(new ChatPipeline(ModelBundle.Load(path), options, ownsBundle: true), ownsPipeline: true);

    public async Task<ChatResponse> GetResponseAsync(IEnumerable<AiChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        using var stream = Start(messages, options);
        var r = await stream.CollectAsync(cancellationToken).ConfigureAwait(false);
        var contents = new List<AIContent>();
        if (r.Reasoning.Length > 0) contents.Add(new TextReasoningContent(r.Reasoning));
        if (r.Content.Length > 0 || r.ToolCalls.Count == 0) contents.Add(new TextContent(r.Content));
        contents.AddRange(r.ToolCalls.Select(Call));
        return new ChatResponse(new AiChatMessage(ChatRole.Assistant, contents))
        {
            ModelId = Pipeline.Bundle.Name,
            FinishReason = Finish(r.FinishReason),
            Usage = Usage(r.Usage),
            CreatedAt = DateTimeOffset.UtcNow,
        };
    }

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<AiChatMessage> messages, ChatOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        using var stream = Start(messages, options);
        string id = "chatcmpl-" + Guid.NewGuid().ToString("N")[..24];
        await foreach (var c in stream.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var contents = new List<AIContent>();
            if (c.Reasoning.Length > 0) contents.Add(new TextReasoningContent(c.Reasoning));
            if (c.Content.Length > 0) contents.Add(new TextContent(c.Content));
            // Function calls go out whole, with the last update (function invocation needs complete arguments).
            if (c.FinishReason is not null) contents.AddRange(stream.ToolCalls.Select(Call));
            if (c.Usage is { } u) contents.Add(new UsageContent(Usage(u)));
            if (contents.Count == 0) continue;
            yield return new ChatResponseUpdate(ChatRole.Assistant, contents)
            {
                ResponseId = id,
                MessageId = id,
                ModelId = Pipeline.Bundle.Name,
                FinishReason = c.FinishReason is { } f ? Finish(f) : null,
            };
        }
    }

    private CompletionStream Start(IEnumerable<AiChatMessage> messages, ChatOptions? options)
    {
        var converted = messages.Select(Convert).ToList();
        var extra = options?.AdditionalProperties;
        bool? think = extra?.TryGetValue("think", out object? t) == true && t is bool b ? b : null;
        IReadOnlyDictionary<string, System.Text.Json.JsonElement>? kwargs = null;
        if (extra?.TryGetValue("chat_template_kwargs", out object? kw) == true && kw is not null)
            kwargs = TemplateKwargs.FromElement(kw is System.Text.Json.JsonElement je ? je : System.Text.Json.JsonSerializer.SerializeToElement(kw), "chat_template_kwargs");
        var tools = Tools(options);
        var prompt = Pipeline.PrepareChat(new ChatPromptRequest(converted) { Think = think, TemplateKwargs = kwargs }, tools);
        var sampling = new SamplingOptions
        {
            Temperature = options?.Temperature ?? 0.6f,
            TopP = options?.TopP ?? 0.95f,
            TopK = options?.TopK ?? 0,
            Seed = options?.Seed is long s ? unchecked((ulong)s) : null,
        };
        var completion = new CompletionOptions
        {
            MaxTokens = options?.MaxOutputTokens ?? int.MaxValue,
            Sampling = sampling,
            Stop = options?.StopSequences is { } stops ? [.. stops] : [],
            Tools = tools,
            Output = options?.ResponseFormat switch
            {
                ChatResponseFormatJson { Schema: { } schema } => OutputGrammar.JsonSchema(schema),
                ChatResponseFormatJson => OutputGrammar.JsonObject,
                _ => null,
            },
        };
        return Pipeline.Start(prompt, completion);
    }

    /// <summary>The options' function declarations and tool mode for this model; other tool kinds are refused.</summary>
    private ToolSet? Tools(ChatOptions? options)
    {
        if (options?.Tools is not { Count: > 0 } aiTools)
            return options?.ToolMode is RequiredChatToolMode ? throw new ArgumentException("ToolMode requires a tool call but ChatOptions.Tools is empty") : null;
        var list = new List<ToolDefinition>();
        bool strictAll = IsStrict(options.AdditionalProperties);
        foreach (var tool in aiTools)
        {
            if (tool is not AIFunctionDeclaration f)
                throw new NotSupportedException($"tool '{tool.Name}' ({tool.GetType().Name}) is not a function; only function tools are supported");
            list.Add(new ToolDefinition(f.Name, f.Description, f.JsonSchema) { Strict = strictAll || IsStrict(f.AdditionalProperties) });
        }
        var choice = options.ToolMode switch
        {
            NoneChatToolMode => ToolChoice.None,
            RequiredChatToolMode { RequiredFunctionName: { } name } => ToolChoice.Named(name),
            RequiredChatToolMode => ToolChoice.Required,
            _ => ToolChoice.Auto,
        };
        return Pipeline.ResolveTools(list, choice, options.AllowMultipleToolCalls ?? true);
    }

    private static bool IsStrict(IReadOnlyDictionary<string, object?>? properties) =>
        properties is not null && properties.Any(p => p.Key is "strict" or "Strict" or "strictJsonSchema" && p.Value is true);

    private static FunctionCallContent Call(ToolCall call)
    {
        var content = FunctionCallContent.CreateFromParsedArguments(call.Arguments, call.Id, call.Name, static json =>
        {
            using var doc = JsonDocument.Parse(json);
            if (doc.RootElement.ValueKind != JsonValueKind.Object) throw new JsonException("the arguments are not a JSON object");
            return doc.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => (object?)p.Value.Clone());
        });
        content.RawRepresentation = call;
        return content;
    }

    private static SsChatMessage Convert(AiChatMessage m)
    {
        var text = new StringBuilder();
        var reasoning = new StringBuilder();
        var calls = new List<ChatToolCall>();
        string? answers = null;
        foreach (var c in m.Contents)
        {
            switch (c)
            {
                case TextReasoningContent r: reasoning.Append(r.Text); break;
                case TextContent t: text.Append(t.Text); break;
                case FunctionCallContent f:
                    calls.Add(new ChatToolCall(f.Name, f.RawRepresentation is ToolCall raw ? raw.Arguments : JsonSerializer.Serialize(f.Arguments ?? new Dictionary<string, object?>())) { Id = f.CallId });
                    break;
                case FunctionResultContent r:
                    answers = r.CallId;
                    text.Append(r.Result switch { null => "", string s => s, JsonElement e => e.ValueKind == JsonValueKind.String ? e.GetString() : e.GetRawText(), var o => JsonSerializer.Serialize(o) });
                    break;
            }
        }
        string role = m.Role == ChatRole.Tool ? "tool" : m.Role.Value;
        string? content = calls.Count > 0 && text.Length == 0 ? null : text.ToString();
        return new SsChatMessage(role, content)
        {
            ReasoningContent = reasoning.Length > 0 ? reasoning.ToString() : null,
            ToolCalls = calls.Count > 0 ? calls : null,
            ToolCallId = role == "tool" ? answers : null,
        };
    }

    private static ChatFinishReason Finish(string reason) => reason switch
    {
        "length" => ChatFinishReason.Length,
        "tool_calls" => ChatFinishReason.ToolCalls,
        _ => ChatFinishReason.Stop,
    };

    private static UsageDetails Usage(CompletionUsage u) => new()
    {
        InputTokenCount = u.PromptTokens,
        OutputTokenCount = u.CompletionTokens,
        TotalTokenCount = u.TotalTokens,
        CachedInputTokenCount = u.CachedTokens,
        ReasoningTokenCount = u.ReasoningTokens,
    };

    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceKey is not null) return null;
        if (serviceType == typeof(ChatClientMetadata)) return _metadata;
        if (serviceType.IsInstanceOfType(this)) return this;
        if (serviceType.IsInstanceOfType(Pipeline)) return Pipeline;
        if (serviceType.IsInstanceOfType(Pipeline.Bundle)) return Pipeline.Bundle;
        if (serviceType.IsInstanceOfType(Pipeline.Bundle.Model)) return Pipeline.Bundle.Model;
        return null;
    }

    public void Dispose()
    {
        if (_ownsPipeline) Pipeline.Dispose();
    }
}
