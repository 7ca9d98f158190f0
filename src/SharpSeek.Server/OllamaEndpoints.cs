using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using SharpSeek.Chat;
using SharpSeek.Generation;
using SharpSeek.Serving;

namespace SharpSeek.Server;

/// <summary>
/// Ollama's API for tools that speak it: <c>/api/chat</c> (with <c>thinking</c>), <c>/api/generate</c>, <c>/api/tags</c>,
/// <c>/api/show</c>, <c>/api/ps</c>, <c>/api/version</c>. Streams NDJSON by default; durations are in nanoseconds.
/// <c>keep_alive</c> sets how long the model stays loaded after the request; a chat without messages or a generate
/// without a prompt loads the model (<c>done_reason: load</c>), or with <c>keep_alive: 0</c> unloads it (<c>unload</c>).
/// </summary>
internal static class OllamaEndpoints
{
    public static void Map(WebApplication app)
    {
        app.MapPost("/api/chat", Chat);
        app.MapPost("/api/generate", Generate);
        app.MapGet("/api/tags", Tags);
        app.MapGet("/api/ps", Ps);
        app.MapPost("/api/show", Show);
        app.MapGet("/api/version", (HttpContext ctx) => SseWriter.JsonAsync(ctx.Response, w => { w.WriteStartObject(); w.WriteString("version", "0.12.0"); w.WriteEndObject(); }));
    }

    private static async Task Chat(HttpContext ctx, ModelHost host)
    {
        var body = await RequestJson.ReadObjectAsync(ctx.Request);
        string? model = RequestJson.String(body, "model");
        var keepAlive = KeepAlive.Read(body);
        var messages = new List<ChatMessage>();
        foreach (var m in (RequestJson.Array(body, "messages") ?? throw ApiException.BadRequest("'messages' is required", "messages")).EnumerateArray())
        {
            if (m.ValueKind != JsonValueKind.Object) throw ApiException.BadRequest("each message must be an object", "messages");
            string role = RequestJson.String(m, "role") ?? throw ApiException.BadRequest("each message needs a 'role'", "messages");
            if (role is not ("system" or "user" or "assistant" or "tool")) throw ApiException.BadRequest($"unknown message role '{role}'", "messages");
            IReadOnlyList<ChatToolCall>? calls = RequestJson.Array(m, "tool_calls") is { } tc ? ToolsJson.ReadCalls(tc) : null;
            string content = RequestJson.String(m, "content") ?? "";
            messages.Add(new ChatMessage(role, calls is not null && content.Length == 0 ? null : content)
            {
                ReasoningContent = RequestJson.String(m, "thinking"),
                ToolCalls = calls,
                Name = role == "tool" ? RequestJson.String(m, "tool_name") : null,
            });
        }
        var options = Options(body, split: true) with { Output = ToolsJson.OllamaFormat(body) };
        var toolRequest = ToolsJson.ReadOllama(body);   // with SharpSeek's extension: OpenAI's tool_choice
        if (messages.Count == 0)
        {
            await LoadOrUnload(ctx, host, model, keepAlive, chat: true);
            return;
        }
        var lease = await host.AcquireAsync(ctx, model, keepAlive);
        var tools = toolRequest?.Resolve(lease.Pipeline);
        options = options with { Tools = tools };
        PreparedPrompt prompt;
        try { prompt = lease.Pipeline.PrepareChat(new ChatPromptRequest(messages) { Think = Think(body) }, tools); }
        catch (SharpSeekException e) { throw Choices.BadPrompt(e, "messages"); }
        await Run(ctx, lease.Pipeline, prompt, options, model ?? lease.Name, chat: true, RequestJson.Bool(body, "stream") ?? true);
    }

    /// <summary>Ollama's load and unload requests: no messages or prompt, only the model and perhaps <c>keep_alive</c>.</summary>
    private static async Task LoadOrUnload(HttpContext ctx, ModelHost host, string? model, KeepAlive? keepAlive, bool chat)
    {
        string name, reason;
        if (keepAlive is { UnloadsAtOnce: true })
        {
            name = host.Find(model).Name;
            RequestLog.Model(ctx, name);
            host.Pool.Unload(name);
            reason = "unload";
        }
        else
        {
            name = (await host.AcquireAsync(ctx, model, keepAlive)).Name;
            reason = "load";
        }
        await SseWriter.JsonAsync(ctx.Response, w =>
        {
            w.WriteStartObject();
            w.WriteString("model", model ?? name);
            w.WriteString("created_at", DateTime.UtcNow.ToString("O"));
            if (chat) Piece(w, chat, "", "");
            else w.WriteString("response", "");
            w.WriteString("done_reason", reason);
            w.WriteBoolean("done", true);
            w.WriteEndObject();
        });
    }

    private static async Task Generate(HttpContext ctx, ModelHost host)
    {
        var body = await RequestJson.ReadObjectAsync(ctx.Request);
        string? model = RequestJson.String(body, "model");
        var keepAlive = KeepAlive.Read(body);
        string text = RequestJson.String(body, "prompt") ?? "";
        string? suffix = RequestJson.String(body, "suffix");
        bool raw = RequestJson.Bool(body, "raw") ?? false;
        string? system = RequestJson.String(body, "system");
        var options = Options(body, split: !raw && suffix is null) with { Output = ToolsJson.OllamaFormat(body) };
        // A load request (empty prompt) answers done once the model is loaded, as Ollama does; with keep_alive 0 it unloads.
        if (text.Length == 0 && suffix is null)
        {
            await LoadOrUnload(ctx, host, model, keepAlive, chat: false);
            return;
        }
        var lease = await host.AcquireAsync(ctx, model, keepAlive);
        var pipeline = lease.Pipeline;
        PreparedPrompt prompt;
        try
        {
            if (raw || suffix is not null) prompt = pipeline.PrepareText(text, suffix);
            else
            {
                var messages = new List<ChatMessage>();
                if (system is not null) messages.Add(ChatMessage.System(system));
                messages.Add(ChatMessage.User(text));
                prompt = pipeline.PrepareChat(new ChatPromptRequest(messages) { Think = Think(body) });
            }
        }
        catch (SharpSeekException e) { throw Choices.BadPrompt(e, "prompt"); }
        await Run(ctx, pipeline, prompt, options, model ?? lease.Name, chat: false, RequestJson.Bool(body, "stream") ?? true);
    }

    // Ollama's "think": true/false (or a level such as "high", which means on); absent: the template's default.
    private static bool? Think(JsonElement body) =>
        !body.TryGetProperty("think", out var t) ? null : t.ValueKind switch
        {
            JsonValueKind.False => false,
            JsonValueKind.True or JsonValueKind.String => true,
            JsonValueKind.Null => null,
            _ => throw ApiException.BadRequest("think must be true or false", "think"),
        };

    private static CompletionOptions Options(JsonElement body, bool split)
    {
        var o = RequestJson.Object(body, "options");
        double temperature = 0.8, topP = 0.9;
        long topK = 40, predict = -1;
        long? seed = null;
        IReadOnlyList<string> stop = [];
        if (o is { } opts)
        {
            temperature = RequestJson.Number(opts, "temperature") ?? temperature;
            topP = RequestJson.Number(opts, "top_p") ?? topP;
            topK = RequestJson.Integer(opts, "top_k") ?? topK;
            predict = RequestJson.Integer(opts, "num_predict") ?? predict;
            seed = RequestJson.Integer(opts, "seed");
            stop = RequestJson.Stop(opts);
        }
        if (temperature < 0) throw ApiException.BadRequest($"temperature must be ≥ 0, is {temperature}", "temperature");
        if (!(topP > 0 && topP <= 1)) throw ApiException.BadRequest($"top_p must be in (0, 1], is {topP}", "top_p");
        return new CompletionOptions
        {
            MaxTokens = predict < 0 ? int.MaxValue : (int)Math.Min(predict, int.MaxValue),
            Sampling = new SamplingOptions { Temperature = (float)temperature, TopP = (float)topP, TopK = (int)Math.Max(0, topK), Seed = seed is long s ? unchecked((ulong)s) : null },
            Stop = stop,
            SplitReasoning = split,
        };
    }

    private static async Task Run(HttpContext ctx, ChatPipeline pipeline, PreparedPrompt prompt, CompletionOptions options, string model, bool chat, bool streaming)
    {
        var streams = Choices.Start(ctx, pipeline, prompt, options, 1);
        using var completion = streams[0];
        var ct = ctx.RequestAborted;
        var clock = Stopwatch.StartNew();
        long firstToken = 0;
        var reasoning = new StringBuilder();
        var content = new StringBuilder();
        var writer = new SseWriter(ctx.Response, ndjson: true);
        if (streaming) writer.Start();
        await foreach (var c in completion.ReadAsync(ct))
        {
            if (firstToken == 0) firstToken = clock.Elapsed.Ticks * 100;
            if (c.FinishReason is not null)
            {
                reasoning.Append(c.Reasoning);
                content.Append(c.Content);
                long total = clock.Elapsed.Ticks * 100;
                // Ollama sends tool calls whole (arguments as an object), in a message before the final one when streaming.
                var (objects, unparsed) = CallObjects(completion.ToolCalls);
                if (unparsed.Length > 0) content.Append(unparsed);
                if (streaming && (objects.Count > 0 || unparsed.Length > 0))
                    await writer.WriteAsync(w =>
                    {
                        w.WriteStartObject();
                        w.WriteString("model", model);
                        w.WriteString("created_at", DateTime.UtcNow.ToString("O"));
                        Piece(w, chat, "", unparsed, objects);
                        w.WriteBoolean("done", false);
                        w.WriteEndObject();
                    }, ct);
                void Final(Utf8JsonWriter w)
                {
                    w.WriteStartObject();
                    w.WriteString("model", model);
                    w.WriteString("created_at", DateTime.UtcNow.ToString("O"));
                    if (streaming) Piece(w, chat, c.Reasoning, c.Content);
                    else Piece(w, chat, reasoning.ToString(), content.ToString(), objects);
                    w.WriteString("done_reason", c.FinishReason);
                    w.WriteBoolean("done", true);
                    w.WriteNumber("total_duration", total);
                    w.WriteNumber("load_duration", 0);
                    w.WriteNumber("prompt_eval_count", c.Usage!.PromptTokens);
                    w.WriteNumber("prompt_eval_duration", firstToken);
                    w.WriteNumber("eval_count", c.Usage.CompletionTokens);
                    w.WriteNumber("eval_duration", total - firstToken);
                    w.WriteEndObject();
                }
                if (streaming) await writer.WriteAsync(Final, ct);
                else await SseWriter.JsonAsync(ctx.Response, Final);
                return;
            }
            if (!streaming)
            {
                reasoning.Append(c.Reasoning);
                content.Append(c.Content);
                continue;
            }
            await writer.WriteAsync(w =>
            {
                w.WriteStartObject();
                w.WriteString("model", model);
                w.WriteString("created_at", DateTime.UtcNow.ToString("O"));
                Piece(w, chat, c.Reasoning, c.Content);
                w.WriteBoolean("done", false);
                w.WriteEndObject();
            }, ct);
        }
    }

    /// <summary>Calls whose arguments are a JSON object, as Ollama sends them; the others (not JSON: kept as the model wrote them) as text.</summary>
    private static (List<(string Name, JsonElement Arguments)> Objects, string Unparsed) CallObjects(IReadOnlyList<Tools.ToolCall> calls)
    {
        var objects = new List<(string, JsonElement)>();
        var unparsed = new StringBuilder();
        foreach (var call in calls)
        {
            if (call.ParsedArguments is { ValueKind: JsonValueKind.Object } o) objects.Add((call.Name, o));
            else unparsed.Append($"{{\"name\": {JsonSerializer.Serialize(call.Name)}, \"arguments\": {call.Arguments}}}");
        }
        return (objects, unparsed.ToString());
    }

    private static void Piece(Utf8JsonWriter w, bool chat, string reasoning, string content, IReadOnlyList<(string Name, JsonElement Arguments)>? calls = null)
    {
        if (chat)
        {
            w.WriteStartObject("message");
            w.WriteString("role", "assistant");
            w.WriteString("content", content);
            if (reasoning.Length > 0) w.WriteString("thinking", reasoning);
            if (calls is { Count: > 0 })
            {
                w.WriteStartArray("tool_calls");
                for (int i = 0; i < calls.Count; i++)
                {
                    w.WriteStartObject();
                    w.WriteStartObject("function");
                    w.WriteNumber("index", i);
                    w.WriteString("name", calls[i].Name);
                    w.WritePropertyName("arguments");
                    calls[i].Arguments.WriteTo(w);
                    w.WriteEndObject();
                    w.WriteEndObject();
                }
                w.WriteEndArray();
            }
            w.WriteEndObject();
        }
        else
        {
            w.WriteString("response", content);
            if (reasoning.Length > 0) w.WriteString("thinking", reasoning);
        }
    }

    /// <summary><c>/api/tags</c>: every model the server has, loaded or not (described from its files, never loaded for it).</summary>
    private static Task Tags(HttpContext ctx, ModelHost host)
    {
        var models = host.Catalog.Models.Select(m => (Model: m, Summary: host.Summary(m))).ToList();
        return SseWriter.JsonAsync(ctx.Response, w =>
        {
            w.WriteStartObject();
            w.WriteStartArray("models");
            foreach (var (m, summary) in models)
                foreach (string name in host.IsSingle ? host.Names : [m.Name])
                {
                    w.WriteStartObject();
                    w.WriteString("name", name + ":latest");
                    w.WriteString("model", name + ":latest");
                    w.WriteString("modified_at", (summary?.Modified ?? host.Created.UtcDateTime).ToString("O"));
                    w.WriteNumber("size", summary?.Bytes ?? ModelSummary.WeightBytes(m.Path));
                    w.WriteString("digest", Digest(m));
                    Details(w, summary?.Format ?? (m.Path.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase) ? "gguf" : "safetensors"),
                        summary?.ModelType ?? "", summary?.Parameters ?? 0, summary?.Quantization ?? "");
                    w.WriteEndObject();
                }
            w.WriteEndArray();
            w.WriteEndObject();
        });
    }

    /// <summary><c>/api/ps</c>: the models loaded now, with their memory (weights and KV-cache budget) and when they will be unloaded.</summary>
    private static Task Ps(HttpContext ctx, ModelHost host)
    {
        var loaded = host.Pool.Loaded.Where(m => m.Ready).ToList();
        var now = DateTimeOffset.UtcNow;
        return SseWriter.JsonAsync(ctx.Response, w =>
        {
            w.WriteStartObject();
            w.WriteStartArray("models");
            foreach (var m in loaded)
            {
                w.WriteStartObject();
                w.WriteString("name", m.Model.Name + ":latest");
                w.WriteString("model", m.Model.Name + ":latest");
                w.WriteNumber("size", m.Bytes);
                w.WriteString("digest", Digest(m.Model));
                Details(w, m.Info!);
                // In use: the keep-alive counts from now. Kept for good: like Ollama, a date the longest Go duration ahead.
                var expires = m.ExpiresAt ?? now + (m.KeepAlive.Duration ?? TimeSpan.FromTicks(long.MaxValue / 100));
                w.WriteString("expires_at", expires.ToString("O"));
                w.WriteNumber("size_vram", 0);
                w.WriteNumber("context_length", m.Pipeline!.Scheduler.ContextSize);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        });
    }

    private static string Digest(CatalogModel m) =>
        "sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(m.Path)));

    private static void Details(Utf8JsonWriter w, Models.ModelInfo info) =>
        Details(w, info.Path.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase) ? "gguf" : "safetensors", info.ModelType, info.Parameters,
            info.DTypes.MaxBy(d => d.Value.Elements).Key ?? "");

    private static void Details(Utf8JsonWriter w, string format, string family, long parameters, string quantization)
    {
        w.WriteStartObject("details");
        w.WriteString("parent_model", "");
        w.WriteString("format", format);
        w.WriteString("family", family);
        w.WriteStartArray("families");
        if (family.Length > 0) w.WriteStringValue(family);
        w.WriteEndArray();
        w.WriteString("parameter_size", parameters >= 1_000_000_000 ? $"{parameters / 1e9:0.#}B" : parameters >= 1_000_000 ? $"{parameters / 1e6:0.#}M" : $"{parameters}");
        w.WriteString("quantization_level", quantization);
        w.WriteEndObject();
    }

    /// <summary><c>/api/show</c>: a loaded model in full; one not loaded from its files, without loading it (its template, thinking and tools show once it is loaded).</summary>
    private static async Task Show(HttpContext ctx, ModelHost host)
    {
        var body = await RequestJson.ReadObjectAsync(ctx.Request);
        var entry = host.Find(RequestJson.String(body, "model") ?? RequestJson.String(body, "name"));
        var loaded = host.Pool.Loaded.FirstOrDefault(m => m.Ready && m.Model == entry);
        var summary = loaded is null ? host.Summary(entry) ?? throw new ApiException(500, $"the model '{entry.Name}' cannot be read; loading it says why", "server_error", "model") : null;
        await SseWriter.JsonAsync(ctx.Response, w =>
        {
            w.WriteStartObject();
            w.WriteString("license", "");
            w.WriteString("modelfile", "");
            w.WriteString("parameters", "");
            w.WriteString("template", loaded?.Pipeline!.Bundle.Template.Format.ToString() ?? "");
            if (loaded is not null) Details(w, loaded.Info!);
            else Details(w, summary!.Format, summary.ModelType, summary.Parameters, summary.Quantization);
            w.WriteStartObject("model_info");
            w.WriteString("general.architecture", loaded?.Info!.Architecture ?? summary!.Architecture);
            w.WriteNumber("general.parameter_count", loaded?.Info!.Parameters ?? summary!.Parameters);
            w.WriteNumber("context_length", loaded?.Pipeline!.Scheduler.ContextSize ?? Math.Min(summary!.ContextLength, host.ContextSize));
            w.WriteEndObject();
            Capabilities.Write(w, loaded?.Pipeline);
            w.WriteString("modified_at", (summary?.Modified ?? host.Created.UtcDateTime).ToString("O"));
            w.WriteBoolean("loaded", loaded is not null);
            w.WriteEndObject();
        });
    }
}
