using System.Net;
using System.Text;
using System.Text.Json;

namespace SharpSeek.Server.Tests;

/// <summary>
/// Issue 17.4 and 17.10: bad bodies get 400 and oversized ones 413, in OpenAI's error shape on /v1 and Ollama's
/// (<c>{"error": "..."}</c>) on /api; a prompt longer than the context is a 400 that says by how much.
/// </summary>
public sealed class RequestLimitTests : IAsyncLifetime
{
    private LiveServer _server = null!;

    public async Task InitializeAsync() => _server = await LiveServer.StartAsync(maxBodyBytes: 64 << 10);

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private async Task<(HttpStatusCode Status, JsonElement Body)> Post(string path, byte[] body, bool chunked = false)
    {
        HttpContent content = chunked ? new StreamContent(new MemoryStream(body)) : new ByteArrayContent(body);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        if (chunked) content.Headers.ContentLength = null;
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = content };
        if (chunked) request.Headers.TransferEncodingChunked = true;
        using var response = await _server.Http.SendAsync(request);
        string text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, JsonDocument.Parse(text).RootElement.Clone());
    }

    private static byte[] Chat(string content) => Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new { messages = new[] { new { role = "user", content } }, max_tokens = 2 }));

    private static string OpenAiMessage(JsonElement body) => body.GetProperty("error").GetProperty("message").GetString()!;

    private static string OllamaMessage(JsonElement body) => body.GetProperty("error").GetString()!;

    [Theory]
    [InlineData("v1/chat/completions")]
    [InlineData("api/chat")]
    public async Task Invalid_utf8_in_a_json_string_is_400(string path)
    {
        byte[] body = Chat("hello XX");
        int at = Array.IndexOf(body, (byte)'X');
        body[at] = 0xFF;
        body[at + 1] = 0xFE;
        var (status, json) = await Post(path, body);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("invalid UTF-8", path.StartsWith("api", StringComparison.Ordinal) ? OllamaMessage(json) : OpenAiMessage(json));
    }

    [Theory]
    [InlineData("v1/chat/completions")]
    [InlineData("api/chat")]
    public async Task A_lone_surrogate_escape_is_400(string path)
    {
        var (status, json) = await Post(path, Encoding.UTF8.GetBytes("""{"messages":[{"role":"user","content":"a\ud800b"}]}"""));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("lone surrogate", path.StartsWith("api", StringComparison.Ordinal) ? OllamaMessage(json) : OpenAiMessage(json));
    }

    [Fact]
    public async Task Ollama_chat_with_a_message_that_is_not_an_object_is_400()
    {
        var (status, json) = await Post("api/chat", Encoding.UTF8.GetBytes("""{"model":"sharpseek","messages":[1]}"""));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("must be an object", OllamaMessage(json));
    }

    [Theory]
    [InlineData("v1/chat/completions", false)]
    [InlineData("v1/chat/completions", true)]
    [InlineData("api/chat", false)]
    [InlineData("api/generate", true)]
    public async Task A_body_over_the_limit_is_413(string path, bool chunked)
    {
        var (status, json) = await Post(path, Chat(new string('a', 100 << 10)), chunked);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
        string message = path.StartsWith("api", StringComparison.Ordinal) ? OllamaMessage(json) : OpenAiMessage(json);
        Assert.Contains("65536 bytes", message);
    }

    [Fact]
    public async Task A_prompt_longer_than_the_context_is_400_saying_by_how_much()
    {
        // ContextSize 256; about 60 KB of text is thousands of tokens, and tokenizing stops after 256 of them.
        var words = string.Join(' ', Enumerable.Range(0, 9000).Select(i => (i % 7) switch { 0 => "alpha", 1 => "beta", 2 => "gamma", 3 => "delta", 4 => "ok", 5 => "x", _ => "zeta" }));
        var (status, json) = await Post("v1/chat/completions", Chat(words));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        var error = json.GetProperty("error");
        Assert.Equal("context_length_exceeded", error.GetProperty("code").GetString());
        Assert.Matches(@"about \d+ tokens too long", error.GetProperty("message").GetString()!);

        (status, json) = await Post("api/chat", Chat(words));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("tokens too long", OllamaMessage(json));
    }
}
