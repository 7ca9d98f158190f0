using System.Text.Json;
using Microsoft.AspNetCore.Http;
using SharpSeek.Chat;
using SharpSeek.Serving;

namespace SharpSeek.Server;

/// <summary>
/// <c>POST /v1/chat/completions</c>, OpenAI's shape with DeepSeek's <c>reasoning_content</c>: reasoning deltas stream
/// before content deltas, usage comes in both dialects, and unknown fields are ignored. Ollama's <c>keep_alive</c> (how long the
/// model stays loaded) is honoured here too, as an extension.
/// </summary>
internal static class ChatCompletionsEndpoint
{
    public static async Task Handle(HttpContext ctx, ModelHost host)
    {
        var body = await RequestJson.ReadObjectAsync(ctx.Request);
        string? model = RequestJson.String(body, "model");
        var messages = ReadMessages(body);
        int topLogprobs = -1;
        if (RequestJson.Bool(body, "logprobs") == true)
        {
            long top = RequestJson.Integer(body, "top_logprobs") ?? 0;
            if (top < 0 || top > 20) throw ApiException.BadRequest($"top_logprobs must be between 0 and 20, is {top}", "top_logprobs");
            topLogprobs = (int)top;
        }
        var options = Sampling.Read(body, int.MaxValue, topLogprobs);
        int n = Sampling.N(body);
        bool stream = RequestJson.Bool(body, "stream") ?? false;
        bool includeUsage = RequestJson.Object(body, "stream_options") is { } so && RequestJson.Bool(so, "include_usage") == true;
        var request = new ChatPromptRequest(messages) { Think = ReadThinking(body), TemplateKwargs = ReadTemplateKwargs(body) };
        var keepAlive = KeepAlive.Read(body);
        // The request is read whole before its model is loaded: a bad one never costs a load.
        var lease = await host.AcquireAsync(ctx, model, keepAlive);
        var pipeline = lease.Pipeline;
        PreparedPrompt prompt;
        try { prompt = pipeline.PrepareChat(request); }
        catch (SharpSeekException e) { throw Choices.BadPrompt(e, "messages"); }

        var streams = Choices.Start(ctx, pipeline, prompt, options, n);
        string id = OpenAiJson.NewId("chatcmpl-");
        long created = OpenAiJson.Now;
        string name = string.IsNullOrEmpty(model) ? lease.Name : model;
        var ct = ctx.RequestAborted;
        try
        {
            if (stream) await Stream(ctx, streams, id, created, name, includeUsage, ct);
            else await Whole(ctx, streams, id, created, name, ct);
        }
        finally
        {
            foreach (var s in streams) s.Dispose();
        }
    }

    private static async Task Whole(HttpContext ctx, List<CompletionStream> streams, string id, long created, string model, CancellationToken ct)
    {
        var results = await Task.WhenAll(streams.Select(s => s.CollectAsync(ct)));
        await SseWriter.JsonAsync(ctx.Response, w =>
        {
            w.WriteStartObject();
            w.WriteString("id", id);
            w.WriteString("object", "chat.completion");
            w.WriteNumber("created", created);
            w.WriteString("model", model);
            w.WriteString("system_fingerprint", "fp_sharpseek");
            w.WriteStartArray("choices");
            for (int i = 0; i < results.Length; i++)
            {
                var r = results[i];
                w.WriteStartObject();
                w.WriteNumber("index", i);
                w.WriteStartObject("message");
                w.WriteString("role", "assistant");
                w.WriteString("content", r.Content);
                if (r.Reasoning.Length > 0) w.WriteString("reasoning_content", r.Reasoning);
                w.WriteEndObject();
                OpenAiJson.ChatLogprobs(w, r.Logprobs);
                w.WriteString("finish_reason", r.FinishReason);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            OpenAiJson.Usage(w, OpenAiJson.Sum([.. results.Select(r => r.Usage)]));
            w.WriteEndObject();
        });
    }

    private static async Task Stream(HttpContext ctx, List<CompletionStream> streams, string id, long created, string model, bool includeUsage, CancellationToken ct)
    {
        var sse = new SseWriter(ctx.Response);
        sse.Start();
        // The role chunk goes out at once: clients see the stream begin even while the request waits in the queue.
        for (int i = 0; i < streams.Count; i++)
        {
            int index = i;
            await sse.WriteAsync(w => Chunk(w, id, created, model, index, d =>
            {
                d.WriteString("role", "assistant");
                d.WriteString("content", "");
            }, null, null), ct);
        }
        var usages = new CompletionUsage[streams.Count];
        try
        {
            await foreach (var (index, c) in Choices.Merge(streams, ct))
            {
                if (c.Reasoning.Length > 0 || (c.Logprobs is not null && c.Content.Length == 0))
                    await sse.WriteAsync(w => Chunk(w, id, created, model, index, d =>
                    {
                        d.WriteNull("content");
                        d.WriteString("reasoning_content", c.Reasoning);
                    }, c.Content.Length == 0 ? c.Logprobs : null, null), ct);
                if (c.Content.Length > 0)
                    await sse.WriteAsync(w => Chunk(w, id, created, model, index, d => d.WriteString("content", c.Content), c.Logprobs, null), ct);
                if (c.FinishReason is not null)
                {
                    usages[index] = c.Usage!;
                    await sse.WriteAsync(w => Chunk(w, id, created, model, index, _ => { }, null, c.FinishReason), ct);
                }
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Headers are sent: the error goes into the stream in OpenAI's shape.
            var api = Choices.Map(e) as ApiException ?? new ApiException(500, e.Message, "server_error");
            await sse.WriteAsync(w => OpenAiJson.Error(w, api), ct);
            return;
        }
        if (includeUsage)
        {
            await sse.WriteAsync(w =>
            {
                Header(w, id, created, model);
                w.WriteStartArray("choices");
                w.WriteEndArray();
                OpenAiJson.Usage(w, OpenAiJson.Sum(usages));
                w.WriteEndObject();
            }, ct);
        }
        await sse.DoneAsync(ct);
    }

    private static void Header(Utf8JsonWriter w, string id, long created, string model)
    {
        w.WriteStartObject();
        w.WriteString("id", id);
        w.WriteString("object", "chat.completion.chunk");
        w.WriteNumber("created", created);
        w.WriteString("model", model);
        w.WriteString("system_fingerprint", "fp_sharpseek");
    }

    private static void Chunk(Utf8JsonWriter w, string id, long created, string model, int index, Action<Utf8JsonWriter> delta, IReadOnlyList<TokenInfo>? logprobs, string? finish)
    {
        Header(w, id, created, model);
        w.WriteStartArray("choices");
        w.WriteStartObject();
        w.WriteNumber("index", index);
        w.WriteStartObject("delta");
        delta(w);
        w.WriteEndObject();
        OpenAiJson.ChatLogprobs(w, logprobs);
        if (finish is null) w.WriteNull("finish_reason"); else w.WriteString("finish_reason", finish);
        w.WriteEndObject();
        w.WriteEndArray();
        w.WriteEndObject();
    }

    /// <summary>DeepSeek's switch <c>"thinking": {"type": "enabled"|"disabled"}</c>; absent: the template's default.</summary>
    internal static bool? ReadThinking(JsonElement body)
    {
        if (!body.TryGetProperty("thinking", out JsonElement th) || th.ValueKind == JsonValueKind.Null) return null;
        if (th.ValueKind == JsonValueKind.Object && RequestJson.String(th, "type") is { } type)
        {
            return type switch
            {
                "enabled" => true,
                "disabled" => false,
                _ => throw ApiException.BadRequest($"thinking.type must be 'enabled' or 'disabled', is '{type}'", "thinking"),
            };
        }
        throw ApiException.BadRequest("thinking must be an object such as {\"type\": \"disabled\"}", "thinking");
    }

    /// <summary><c>chat_template_kwargs</c> (vLLM's and SGLang's convention), e.g. <c>{"enable_thinking": false}</c>.</summary>
    internal static IReadOnlyDictionary<string, JsonElement>? ReadTemplateKwargs(JsonElement body)
    {
        if (!body.TryGetProperty("chat_template_kwargs", out JsonElement kw) || kw.ValueKind == JsonValueKind.Null) return null;
        try { return TemplateKwargs.FromElement(kw, "chat_template_kwargs"); }
        catch (SharpSeekException e) { throw ApiException.BadRequest(e.Message, "chat_template_kwargs"); }
    }

    /// <summary>Reads <c>messages</c>: roles system/developer/user/assistant/tool; assistant turns may carry reasoning_content and tool_calls.</summary>
    internal static List<ChatMessage> ReadMessages(JsonElement body)
    {
        var array = RequestJson.Array(body, "messages") ?? throw ApiException.BadRequest("'messages' is required", "messages");
        var list = new List<ChatMessage>();
        foreach (var m in array.EnumerateArray())
        {
            if (m.ValueKind != JsonValueKind.Object) throw ApiException.BadRequest("each message must be an object", "messages");
            string role = RequestJson.String(m, "role") ?? throw ApiException.BadRequest("each message needs a 'role'", "messages");
            role = role == "developer" ? "system" : role;
            if (role is not ("system" or "user" or "assistant" or "tool"))
                throw ApiException.BadRequest($"unknown message role '{role}'", "messages");
            string? content = RequestJson.Content(m);
            IReadOnlyList<ChatToolCall>? calls = null;
            if (role == "assistant" && RequestJson.Array(m, "tool_calls") is { } tc)
            {
                calls = [.. tc.EnumerateArray().Select(c =>
                {
                    var f = RequestJson.Object(c, "function") ?? throw ApiException.BadRequest("a tool call needs a 'function'", "messages");
                    return new ChatToolCall(RequestJson.String(f, "name") ?? "", RequestJson.String(f, "arguments") ?? "{}")
                    {
                        Id = RequestJson.String(c, "id"),
                        Type = RequestJson.String(c, "type") ?? "function",
                    };
                })];
            }
            if (content is null && calls is null && role != "assistant") throw ApiException.BadRequest($"a {role} message needs 'content'", "messages");
            list.Add(new ChatMessage(role, content ?? (calls is null ? "" : null))
            {
                ToolCalls = calls,
                ReasoningContent = RequestJson.String(m, "reasoning_content"),
                ToolCallId = role == "tool" ? RequestJson.String(m, "tool_call_id") : null,
                Name = role == "tool" ? RequestJson.String(m, "name") : null,
            });
        }
        if (list.Count == 0) throw ApiException.BadRequest("'messages' must not be empty", "messages");
        return list;
    }
}
