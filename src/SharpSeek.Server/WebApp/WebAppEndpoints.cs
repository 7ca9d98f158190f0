using System.Reflection;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using SharpSeek.Chat;
using SharpSeek.Serving;

namespace SharpSeek.Server.WebApp;

/// <summary>
/// The web chat app: static assets embedded in this assembly (no CDN) at <c>/</c>, and a small JSON API under <c>/app</c>
/// over <see cref="ConversationStore"/>. Sending a message streams SSE events <c>{"reasoning"}</c> / <c>{"content"}</c> and a
/// final <c>{"done"}</c>, sent only once the answer is saved; a stopped answer (a hang-up) is saved too.
/// </summary>
internal static class WebAppEndpoints
{
    public static void Map(WebApplication app, ConversationStore store)
    {
        app.MapGet("/", () => Asset("index.html"));
        app.MapGet("/assets/{name}", (string name) => Asset(name));
        app.MapGet("/app/conversations", () => Results.Json(store.List().Select(Header)));
        app.MapPost("/app/conversations", async (HttpContext ctx) =>
        {
            var body = ctx.Request.ContentLength > 0 ? await RequestJson.ReadObjectAsync(ctx.Request) : default;
            string title = body.ValueKind == System.Text.Json.JsonValueKind.Object ? RequestJson.String(body, "title") ?? "New chat" : "New chat";
            return Results.Json(Header(store.Create(title)));
        });
        app.MapGet("/app/conversations/{id}", (string id) => store.Get(id) is { } c
            ? Results.Json(new { c.Id, c.Title, messages = store.Messages(id).Select(m => new { m.Role, m.Content, m.Reasoning }) })
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
        string text = RequestJson.String(body, "content") is { Length: > 0 } s ? s : throw ApiException.BadRequest("'content' is required", "content");
        bool think = RequestJson.Bool(body, "think") ?? true;
        var pipeline = host.Pipeline;
        if (store.Get(id) is not { } conversation) throw new ApiException(404, "no such conversation", code: "not_found");
        var history = store.Messages(id).Select(m => new ChatMessage(m.Role, m.Content) { ReasoningContent = m.Reasoning }).ToList();
        history.Add(ChatMessage.User(text));
        var prompt = pipeline.PrepareChat(history, think);
        var streams = Choices.Start(pipeline, prompt, new CompletionOptions { MaxTokens = 2048, Sampling = new Generation.SamplingOptions { Temperature = 0.6f, TopP = 0.95f } }, 1);
        store.Add(id, "user", text);
        if (conversation.Title == "New chat") store.Rename(id, text.Length > 40 ? text[..40] + "…" : text);
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

    private static IResult Asset(string name)
    {
        var stream = typeof(WebAppEndpoints).Assembly.GetManifestResourceStream("webapp/" + name);
        if (stream is null) return Results.NotFound();
        string type = Path.GetExtension(name) switch
        {
            ".html" => "text/html; charset=utf-8",
            ".js" => "text/javascript; charset=utf-8",
            ".css" => "text/css; charset=utf-8",
            ".svg" => "image/svg+xml",
            _ => "application/octet-stream",
        };
        return Results.Stream(stream, type);
    }
}
