using System.Text.Json;
using Microsoft.AspNetCore.Http;
using SharpSeek.Serving;

namespace SharpSeek.Server;

/// <summary>
/// <c>POST /v1/completions</c> (also DeepSeek's <c>/beta/completions</c>): raw text completion, fill-in-the-middle
/// through <c>suffix</c>, <c>echo</c>, and legacy <c>logprobs</c> (an integer: how many alternatives).
/// </summary>
internal static class CompletionsEndpoint
{
    public static async Task Handle(HttpContext ctx, ModelHost host)
    {
        var body = await RequestJson.ReadObjectAsync(ctx.Request);
        string? model = RequestJson.String(body, "model");
        string text = Prompt(body);
        string? suffix = RequestJson.String(body, "suffix");
        bool echo = RequestJson.Bool(body, "echo") ?? false;
        long? lp = RequestJson.Integer(body, "logprobs");
        if (lp < 0 || lp > 20) throw ApiException.BadRequest($"logprobs must be between 0 and 20, is {lp}", "logprobs");
        var options = Sampling.Read(body, 16, lp is long l ? (int)l : -1) with { SplitReasoning = false };
        int n = Sampling.N(body);
        bool stream = RequestJson.Bool(body, "stream") ?? false;
        bool includeUsage = RequestJson.Object(body, "stream_options") is { } so && RequestJson.Bool(so, "include_usage") == true;
        var lease = await host.AcquireAsync(ctx, model, KeepAlive.Read(body));
        var pipeline = lease.Pipeline;
        PreparedPrompt prompt;
        try { prompt = pipeline.PrepareText(text, suffix); }
        catch (SharpSeekException e) { throw Choices.BadPrompt(e, suffix is null ? "prompt" : "suffix"); }

        var streams = Choices.Start(ctx, pipeline, prompt, options, n);
        string id = OpenAiJson.NewId("cmpl-");
        long created = OpenAiJson.Now;
        string name = string.IsNullOrEmpty(model) ? lease.Name : model;
        var ct = ctx.RequestAborted;
        string prefix = echo ? text : "";
        try
        {
            if (!stream)
            {
                var results = await Task.WhenAll(streams.Select(s => s.CollectAsync(ct)));
                await SseWriter.JsonAsync(ctx.Response, w =>
                {
                    Header(w, id, created, name);
                    w.WriteStartArray("choices");
                    for (int i = 0; i < results.Length; i++)
                        Choice(w, i, prefix + results[i].Content, results[i].Logprobs, prefix.Length, results[i].FinishReason);
                    w.WriteEndArray();
                    OpenAiJson.Usage(w, OpenAiJson.Sum([.. results.Select(r => r.Usage)]));
                    w.WriteEndObject();
                });
                return;
            }
            var sse = new SseWriter(ctx.Response);
            sse.Start();
            var usages = new CompletionUsage[streams.Count];
            var offsets = new int[streams.Count];
            if (echo)
                for (int i = 0; i < streams.Count; i++)
                {
                    int index = i;
                    await sse.WriteAsync(w => { Header(w, id, created, name); w.WriteStartArray("choices"); Choice(w, index, prefix, null, 0, null); w.WriteEndArray(); w.WriteEndObject(); }, ct);
                    offsets[i] = prefix.Length;
                }
            await foreach (var (index, c) in Choices.Merge(streams, ct))
            {
                if (c.FinishReason is not null) usages[index] = c.Usage!;
                if (c.Content.Length == 0 && c.FinishReason is null && c.Logprobs is null) continue;
                int offset = offsets[index];
                offsets[index] += c.Content.Length;
                await sse.WriteAsync(w => { Header(w, id, created, name); w.WriteStartArray("choices"); Choice(w, index, c.Content, c.Logprobs, offset, c.FinishReason); w.WriteEndArray(); w.WriteEndObject(); }, ct);
            }
            if (includeUsage)
                await sse.WriteAsync(w => { Header(w, id, created, name); w.WriteStartArray("choices"); w.WriteEndArray(); OpenAiJson.Usage(w, OpenAiJson.Sum(usages)); w.WriteEndObject(); }, ct);
            await sse.DoneAsync(ct);
        }
        finally
        {
            foreach (var s in streams) s.Dispose();
        }
    }

    private static string Prompt(JsonElement body)
    {
        if (!body.TryGetProperty("prompt", out var p) || p.ValueKind == JsonValueKind.Null) throw ApiException.BadRequest("'prompt' is required", "prompt");
        if (p.ValueKind == JsonValueKind.String) return p.GetString()!;
        if (p.ValueKind == JsonValueKind.Array && p.GetArrayLength() == 1 && p[0].ValueKind == JsonValueKind.String) return p[0].GetString()!;
        throw ApiException.BadRequest("'prompt' must be a string (or an array of one string)", "prompt");
    }

    private static void Header(Utf8JsonWriter w, string id, long created, string model)
    {
        w.WriteStartObject();
        w.WriteString("id", id);
        w.WriteString("object", "text_completion");
        w.WriteNumber("created", created);
        w.WriteString("model", model);
        w.WriteString("system_fingerprint", "fp_sharpseek");
    }

    private static void Choice(Utf8JsonWriter w, int index, string text, IReadOnlyList<TokenInfo>? logprobs, int offset, string? finish)
    {
        w.WriteStartObject();
        w.WriteString("text", text);
        w.WriteNumber("index", index);
        OpenAiJson.TextLogprobs(w, logprobs, offset);
        if (finish is null) w.WriteNull("finish_reason"); else w.WriteString("finish_reason", finish);
        w.WriteEndObject();
    }
}
