using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.Extensions.AI;
using SharpSeek.Chat;
using SharpSeek.Generation;
using AiChatMessage = Microsoft.Extensions.AI.ChatMessage;
using SsChatMessage = SharpSeek.Chat.ChatMessage;

namespace SharpSeek.Serving;

/// <summary>
/// In-process <see cref="IChatClient"/>: streams <see cref="TextReasoningContent"/> then <see cref="TextContent"/>, and a final
/// update with the finish reason and <see cref="UsageContent"/>. Honours <see cref="ChatOptions"/> max tokens, temperature,
/// top-p, top-k, stop sequences and seed; <c>AdditionalProperties["think"] = false</c> answers without reasoning (true asks
/// a model with a thinking switch to reason) and <c>AdditionalProperties["chat_template_kwargs"]</c> passes template variables.
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
        contents.Add(new TextContent(r.Content));
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
        var prompt = Pipeline.PrepareChat(new ChatPromptRequest(converted) { Think = think, TemplateKwargs = kwargs });
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
        };
        return Pipeline.Start(prompt, completion);
    }

    private static SsChatMessage Convert(AiChatMessage m)
    {
        var text = new StringBuilder();
        var reasoning = new StringBuilder();
        foreach (var c in m.Contents)
        {
            if (c is TextReasoningContent r) reasoning.Append(r.Text);
            else if (c is TextContent t) text.Append(t.Text);
        }
        return new SsChatMessage(m.Role.Value, text.ToString()) { ReasoningContent = reasoning.Length > 0 ? reasoning.ToString() : null };
    }

    private static ChatFinishReason Finish(string reason) => reason == "length" ? ChatFinishReason.Length : ChatFinishReason.Stop;

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
