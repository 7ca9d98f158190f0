using System.Reflection;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using SharpSeek.Chat;
using SharpSeek.Serving;

namespace SharpSeek.Server.WebApp;

/// <summary>
/// The web chat app: static assets embedded in this assembly (no CDN; markdown-it, KaTeX and highlight.js are vendored
/// from npm at build time, see <c>WebApp/package.json</c>) at <c>/</c>, and a small JSON API under <c>/app</c> over
/// <see cref="ConversationStore"/>. Sending a message streams SSE events <c>{"reasoning"}</c> / <c>{"content"}</c> and a
/// final <c>{"done"}</c>, sent only once the answer is saved; a stopped answer (a hang-up) is saved too. The same call
/// regenerates the last answer (<c>"regenerate": true</c>) or resends an edited question (<c>"edit": messageId</c>, which
/// drops that message and everything after it), with the settings the page sends: <c>system</c>, <c>temperature</c>,
/// <c>max_tokens</c>, <c>think</c>, <c>model</c>.
/// </summary>
internal static class WebAppEndpoints
{
    public static void Map(WebApplication app, ConversationStore store)
    {
        app.MapGet("/", (HttpContext ctx) => Asset(ctx, "index.html"));
        app.MapGet("/favicon.ico", () => Results.Redirect("/assets/favicon.svg", permanent: true));
        app.MapGet("/assets/{*path}", (HttpContext ctx, string path) => Asset(ctx, path));
        app.MapGet("/app/conversations", () => Results.Json(store.List().Select(Header)));
        app.MapPost("/app/conversations", async (HttpContext ctx) =>
        {
            var body = ctx.Request.ContentLength > 0 ? await RequestJson.ReadObjectAsync(ctx.Request) : default;
            string title = body.ValueKind == System.Text.Json.JsonValueKind.Object ? RequestJson.String(body, "title") ?? "New chat" : "New chat";
            return Results.Json(Header(store.Create(title)));
        });
        app.MapGet("/app/conversations/{id}", (string id) => store.Get(id) is { } c
            ? Results.Json(new { c.Id, c.Title, messages = store.Messages(id).Select(m => new { m.Id, m.Role, m.Content, m.Reasoning }) })
            : throw new ApiException(404, "no such conversation", code: "not_found"));
        app.MapMethods("/app/conversations/{id}", ["PATCH"], async (HttpContext ctx, string id) =>
        {
            var body = await RequestJson.ReadObjectAsync(ctx.Request);
            string title = RequestJson.String(body, "title")?.Trim() is { Length: > 0 } t ? t : throw ApiException.BadRequest("'title' is required", "title");
            return store.Rename(id, title) ? Results.Json(new { id, title }) : throw new ApiException(404, "no such conversation", code: "not_found");
        });
        app.MapDelete("/app/conversations/{id}", (string id) => store.Delete(id) ? Results.NoContent() : throw new ApiException(404, "no such conversation", code: "not_found"));
        app.MapPost("/app/conversations/{id}/messages", Send);
    }

    private static object Header(StoredConversation c) => new { c.Id, c.Title, updated = c.Updated.ToUnixTimeMilliseconds() };

    private static async Task Send(HttpContext ctx, string id, ConversationStore store, ModelHost host)
    {
        var body = await RequestJson.ReadObjectAsync(ctx.Request);
        bool regenerate = RequestJson.Bool(body, "regenerate") ?? false;
        long? edit = RequestJson.Integer(body, "edit");
        string? text = RequestJson.String(body, "content");
        if (regenerate && (text is not null || edit is not null)) throw ApiException.BadRequest("'regenerate' takes no 'content' or 'edit'", "regenerate");
        if (!regenerate && string.IsNullOrEmpty(text)) throw ApiException.BadRequest("'content' is required", "content");
        bool think = RequestJson.Bool(body, "think") ?? true;
        string? system = RequestJson.String(body, "system");
        double temperature = RequestJson.Number(body, "temperature") ?? 0.6;
        if (!(temperature is >= 0 and <= 2)) throw ApiException.BadRequest($"temperature must be between 0 and 2, is {temperature}", "temperature");
        long maxTokens = RequestJson.Integer(body, "max_tokens") ?? 2048;
        if (maxTokens < 1) throw ApiException.BadRequest($"max_tokens must be at least 1, is {maxTokens}", "max_tokens");
        if (store.Get(id) is not { } conversation) throw new ApiException(404, "no such conversation", code: "not_found");
        var pipeline = (await host.AcquireAsync(ctx, RequestJson.String(body, "model"))).Pipeline;

        var stored = store.Messages(id);
        long? truncateFrom = null;
        if (regenerate)
        {
            // The answer to the last question goes; the question is asked again.
            var lastUser = stored.LastOrDefault(m => m.Role == "user") ?? throw ApiException.BadRequest("there is no question to answer again", "regenerate");
            text = lastUser.Content;
            truncateFrom = lastUser.Id + 1;
            stored = [.. stored.TakeWhile(m => m.Id <= lastUser.Id)];
        }
        else if (edit is { } from)
        {
            if (!stored.Any(m => m.Id == from && m.Role == "user")) throw ApiException.BadRequest($"message {from} is not a question of this conversation", "edit");
            truncateFrom = from;
            stored = [.. stored.TakeWhile(m => m.Id < from)];
        }
        var history = new List<ChatMessage>();
        if (!string.IsNullOrWhiteSpace(system)) history.Add(ChatMessage.System(system));
        history.AddRange(stored.Select(m => new ChatMessage(m.Role, m.Content) { ReasoningContent = m.Reasoning }));
        if (!regenerate) history.Add(ChatMessage.User(text!));
        var prompt = pipeline.PrepareChat(history, think);
        var sampling = temperature == 0 ? Generation.SamplingOptions.Greedy : new Generation.SamplingOptions { Temperature = (float)temperature, TopP = 0.95f };
        var streams = Choices.Start(ctx, pipeline, prompt, new CompletionOptions { MaxTokens = (int)Math.Min(maxTokens, int.MaxValue), Sampling = sampling }, 1);
        // Only once the answer is queued does the conversation change: a refused request (400, 429) leaves it as it was.
        if (truncateFrom is { } cut) store.Truncate(id, cut);
        if (!regenerate) store.Add(id, "user", text!);
        if (conversation.Title == "New chat") store.Rename(id, text!.Length > 40 ? text[..40] + "…" : text);
        var reasoning = new StringBuilder();
        var content = new StringBuilder();
        var sse = new SseWriter(ctx.Response);
        var ct = ctx.RequestAborted;
        bool saved = false;
        void Save()
        {
            if (saved) return;
            saved = true;
            store.Add(id, "assistant", content.ToString(), reasoning.Length > 0 ? reasoning.ToString() : null);
        }
        try
        {
            using var stream = streams[0];
            sse.Start();
            await foreach (var c in stream.ReadAsync(ct))
            {
                reasoning.Append(c.Reasoning);
                content.Append(c.Content);
                if (c.Reasoning.Length > 0) await sse.WriteAsync(w => { w.WriteStartObject(); w.WriteString("reasoning", c.Reasoning); w.WriteEndObject(); }, ct);
                if (c.Content.Length > 0) await sse.WriteAsync(w => { w.WriteStartObject(); w.WriteString("content", c.Content); w.WriteEndObject(); }, ct);
                if (c.FinishReason is not null)
                {
                    // The reply is committed before the browser hears "done": a crash after "done" cannot lose it.
                    Save();
                    await sse.WriteAsync(w => { w.WriteStartObject(); w.WriteBoolean("done", true); w.WriteString("finish_reason", c.FinishReason); w.WriteNumber("tokens", c.Usage!.CompletionTokens); w.WriteEndObject(); }, ct);
                }
            }
        }
        finally
        {
            // Stopped or failed before the end, what was said is kept.
            Save();
        }
    }

    private static readonly string AssetTag = $"\"{typeof(WebAppEndpoints).Assembly.ManifestModule.ModuleVersionId:N}\"";

    /// <summary>An embedded file; the build's identity is its ETag, so a browser revalidates and gets a 304 until the server is rebuilt.</summary>
    private static IResult Asset(HttpContext ctx, string name)
    {
        var stream = name.Contains("..", StringComparison.Ordinal) ? null : typeof(WebAppEndpoints).Assembly.GetManifestResourceStream("webapp/" + name);
        if (stream is null) throw new ApiException(404, $"no asset {name}", code: "not_found");
        ctx.Response.Headers.CacheControl = "no-cache";
        ctx.Response.Headers.ETag = AssetTag;
        if (ctx.Request.Headers.IfNoneMatch == AssetTag)
        {
            stream.Dispose();
            return Results.StatusCode(304);
        }
        string type = Path.GetExtension(name) switch
        {
            ".html" => "text/html; charset=utf-8",
            ".js" => "text/javascript; charset=utf-8",
            ".css" => "text/css; charset=utf-8",
            ".svg" => "image/svg+xml",
            ".woff2" => "font/woff2",
            ".txt" or "" => "text/plain; charset=utf-8",
            _ => "application/octet-stream",
        };
        return Results.Stream(stream, type);
    }
}
