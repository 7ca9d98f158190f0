using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace SharpSeek.Server.Tests;

/// <summary>The web app's page and its conversation API; conversations survive a restart (SQLite on disk).</summary>
public sealed class WebAppTests : IDisposable
{
    private readonly string _data = Directory.CreateTempSubdirectory("webapp-").FullName;

    public void Dispose() => Directory.Delete(_data, recursive: true);

    [Fact]
    public async Task Page_and_assets_are_served_without_a_cdn()
    {
        await using var server = await LiveServer.StartAsync(dataDirectory: _data);
        string html = await server.Http.GetStringAsync("");
        Assert.Contains("<textarea id=\"input\"", html);
        Assert.DoesNotContain("https://", html);
        foreach (string asset in new[] { "app.js", "app.css", "markdown.js" })
        {
            using var r = await server.Http.GetAsync("assets/" + asset);
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            Assert.DoesNotContain("cdn", await r.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
        }
        // Every script and stylesheet the page names is served by the app itself, and each vendored library carries its licence.
        var referenced = System.Text.RegularExpressions.Regex.Matches(html, "(?:src|href)=\"(/assets/[^\"]+)\"").Select(m => m.Groups[1].Value).ToList();
        Assert.Contains("/assets/vendor/katex/katex.min.js", referenced);
        Assert.Contains("/assets/vendor/markdown-it/markdown-it.min.js", referenced);
        Assert.Contains("/assets/vendor/highlight.js/highlight.min.js", referenced);
        foreach (string path in referenced.Concat(["/assets/vendor/katex/fonts/KaTeX_Main-Regular.woff2", "/assets/vendor/markdown-it/LICENSE.txt",
                     "/assets/vendor/markdown-it-texmath/LICENSE.txt", "/assets/vendor/katex/LICENSE.txt", "/assets/vendor/highlight.js/LICENSE.txt"]))
        {
            using var r = await server.Http.GetAsync(path.TrimStart('/'));
            Assert.True(r.StatusCode == HttpStatusCode.OK, $"{path}: {r.StatusCode}");
        }
        // Assets revalidate by the build's ETag.
        using var first = await server.Http.GetAsync("assets/app.js");
        using var again = new HttpRequestMessage(HttpMethod.Get, "assets/app.js");
        again.Headers.IfNoneMatch.Add(first.Headers.ETag!);
        Assert.Equal(HttpStatusCode.NotModified, (await server.Http.SendAsync(again)).StatusCode);
    }

    [Fact]
    public async Task Conversations_stream_persist_across_restart_and_can_be_renamed_and_deleted()
    {
        string id;
        await using (var server = await LiveServer.StartAsync(reasoning: true, dataDirectory: _data))
        {
            var created = await (await server.Http.PostAsync("app/conversations", new StringContent("{}", Encoding.UTF8, "application/json"))).Content.ReadFromJsonAsync<JsonElement>();
            id = created.GetProperty("id").GetString()!;
            using var send = await server.Http.PostAsync($"app/conversations/{id}/messages", new StringContent("""{"content":"Hello there"}""", Encoding.UTF8, "application/json"));
            Assert.Equal("text/event-stream", send.Content.Headers.ContentType!.MediaType);
            string sse = await send.Content.ReadAsStringAsync();
            Assert.Contains("\"reasoning\"", sse);
            Assert.Contains("\"done\":true", sse);
            using var rename = await server.Http.PatchAsync($"app/conversations/{id}", new StringContent("""{"title":"Greetings"}""", Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.OK, rename.StatusCode);
        }
        await using (var server = await LiveServer.StartAsync(reasoning: true, dataDirectory: _data))
        {
            var list = await server.Http.GetFromJsonAsync<JsonElement>("app/conversations");
            Assert.Equal("Greetings", Assert.Single(list.EnumerateArray()).GetProperty("title").GetString());
            var c = await server.Http.GetFromJsonAsync<JsonElement>($"app/conversations/{id}");
            var messages = c.GetProperty("messages").EnumerateArray().ToList();
            Assert.Equal(2, messages.Count);
            Assert.Equal("Hello there", messages[0].GetProperty("content").GetString());
            Assert.False(string.IsNullOrEmpty(messages[1].GetProperty("reasoning").GetString()));
            using var del = await server.Http.DeleteAsync($"app/conversations/{id}");
            Assert.Equal(HttpStatusCode.NoContent, del.StatusCode);
            using var gone = await server.Http.GetAsync($"app/conversations/{id}");
            Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        }
        Assert.True(File.Exists(Path.Combine(_data, "conversations.db")));
    }
}
