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
/// </summary>
internal static class OllamaEndpoints
{
    public static void Map(WebApplication app)
    {
        app.MapPost("/api/chat", Chat);
        app.MapPost("/api/generate", Generate);
        app.MapGet("/api/tags", Tags);
        app.MapGet("/api/ps", Tags);
        app.MapPost("/api/show", Show);
        app.MapGet("/api/version", (HttpContext ctx) => SseWriter.JsonAsync(ctx.Response, w => { w.WriteStartObject(); w.WriteString("version", "0.12.0"); w.WriteEndObject(); }));
    }

    private static async Task Chat(HttpContext ctx, ModelHost host)
    {
        var body = await RequestJson.ReadObjectAsync(ctx.Request);
        string? model = RequestJson.String(body, "model");
        var pipeline = host.For(model);
        var messages = new List<ChatMessage>();
        foreach (var m in (RequestJson.Array(body, "messages") ?? throw ApiException.BadRequest("'messages' is required", "messages")).EnumerateArray())
        {
            if (m.ValueKind != JsonValueKind.Object) throw ApiException.BadRequest("each message must be an object", "messages");
            string role = RequestJson.String(m, "role") ?? throw ApiException.BadRequest("each message needs a 'role'", "messages");
            if (role is not ("system" or "user" or "assistant" or "tool")) throw ApiException.BadRequest($"unknown message role '{role}'", "messages");
            messages.Add(new ChatMessage(role, RequestJson.String(m, "content") ?? "") { ReasoningContent = RequestJson.String(m, "thinking") });
        }
        PreparedPrompt prompt;
        try { prompt = pipeline.PrepareChat(new ChatPromptRequest(messages) { Think = Think(body) }); }
        catch (SharpSeekException e) { throw Choices.BadPrompt(e, "messages"); }
        await Run(ctx, pipeline, prompt, Options(body, split: true), model ?? pipeline.Bundle.Name, chat: true, RequestJson.Bool(body, "stream") ?? true);
    }

    private static async Task Generate(HttpContext ctx, ModelHost host)
    {
        var body = await RequestJson.ReadObjectAsync(ctx.Request);
        string? model = RequestJson.String(body, "model");
        var pipeline = host.For(model);
        string text = RequestJson.String(body, "prompt") ?? "";
        string? suffix = RequestJson.String(body, "suffix");
        bool raw = RequestJson.Bool(body, "raw") ?? false;
        PreparedPrompt prompt;
        try
        {
            if (raw || suffix is not null) prompt = pipeline.PrepareText(text, suffix);
            else
            {
                var messages = new List<ChatMessage>();
                if (RequestJson.String(body, "system") is { } system) messages.Add(ChatMessage.System(system));
                messages.Add(ChatMessage.User(text));
                prompt = pipeline.PrepareChat(new ChatPromptRequest(messages) { Think = Think(body) });
            }
        }
        catch (SharpSeekException e) { throw Choices.BadPrompt(e, "prompt"); }
        // A load request (empty prompt) just answers done, as Ollama does.
        if (text.Length == 0 && suffix is null)
        {
            await SseWriter.JsonAsync(ctx.Response, w => { w.WriteStartObject(); w.WriteString("model", model ?? pipeline.Bundle.Name); w.WriteString("created_at", DateTime.UtcNow.ToString("O")); w.WriteString("response", ""); w.WriteBoolean("done", true); w.WriteEndObject(); });
            return;
        }
        await Run(ctx, pipeline, prompt, Options(body, split: !raw && suffix is null), model ?? pipeline.Bundle.Name, chat: false, RequestJson.Bool(body, "stream") ?? true);
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
                void Final(Utf8JsonWriter w)
                {
                    w.WriteStartObject();
                    w.WriteString("model", model);
                    w.WriteString("created_at", DateTime.UtcNow.ToString("O"));
                    if (streaming) Piece(w, chat, c.Reasoning, c.Content);
                    else Piece(w, chat, reasoning.ToString(), content.ToString());
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

    private static void Piece(Utf8JsonWriter w, bool chat, string reasoning, string content)
    {
        if (chat)
        {
            w.WriteStartObject("message");
            w.WriteString("role", "assistant");
            w.WriteString("content", content);
            if (reasoning.Length > 0) w.WriteString("thinking", reasoning);
            w.WriteEndObject();
        }
        else
        {
            w.WriteString("response", content);
            if (reasoning.Length > 0) w.WriteString("thinking", reasoning);
        }
    }

    private static Task Tags(HttpContext ctx, ModelHost host)
    {
        var bundle = host.Pipeline.Bundle;
        var info = Models.ModelInfo.Of(bundle.Model);
        // Links (a hub cache snapshot) count as the files they name.
        long size = File.Exists(bundle.Model.Path) ? Formats.RegularFile.Target(bundle.Model.Path).Length
            : Directory.Exists(bundle.Model.Path) ? Directory.EnumerateFiles(bundle.Model.Path).Sum(f => Formats.RegularFile.Target(f).Length) : 0;
        return SseWriter.JsonAsync(ctx.Response, w =>
        {
            w.WriteStartObject();
            w.WriteStartArray("models");
            foreach (string name in host.Names)
            {
                w.WriteStartObject();
                w.WriteString("name", name + ":latest");
                w.WriteString("model", name + ":latest");
                w.WriteString("modified_at", host.Created.ToString("O"));
                w.WriteNumber("size", size);
                w.WriteString("digest", "sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(bundle.Model.Path))));
                Details(w, info);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        });
    }

    private static void Details(Utf8JsonWriter w, Models.ModelInfo info)
    {
        w.WriteStartObject("details");
        w.WriteString("parent_model", "");
        w.WriteString("format", info.Path.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase) ? "gguf" : "safetensors");
        w.WriteString("family", info.ModelType);
        w.WriteStartArray("families");
        w.WriteStringValue(info.ModelType);
        w.WriteEndArray();
        w.WriteString("parameter_size", info.Parameters >= 1_000_000 ? $"{info.Parameters / 1e6:0.#}M" : $"{info.Parameters}");
        w.WriteString("quantization_level", string.Join("/", info.DTypes.Keys));
        w.WriteEndObject();
    }

    private static async Task Show(HttpContext ctx, ModelHost host)
    {
        var body = await RequestJson.ReadObjectAsync(ctx.Request);
        var pipeline = host.For(RequestJson.String(body, "model") ?? RequestJson.String(body, "name"));
        var info = Models.ModelInfo.Of(pipeline.Bundle.Model);
        await SseWriter.JsonAsync(ctx.Response, w =>
        {
            w.WriteStartObject();
            w.WriteString("license", "");
            w.WriteString("modelfile", "");
            w.WriteString("parameters", "");
            w.WriteString("template", pipeline.Bundle.Template.Format.ToString());
            Details(w, info);
            w.WriteStartObject("model_info");
            w.WriteString("general.architecture", info.Architecture);
            w.WriteNumber("general.parameter_count", info.Parameters);
            w.WriteNumber("context_length", pipeline.Scheduler.ContextSize);
            w.WriteEndObject();
            w.WriteStartArray("capabilities");
            w.WriteStringValue("completion");
            if (pipeline.Bundle.Template.SupportsReasoning) w.WriteStringValue("thinking");
            w.WriteEndArray();
            w.WriteString("modified_at", host.Created.ToString("O"));
            w.WriteEndObject();
        });
    }
}
