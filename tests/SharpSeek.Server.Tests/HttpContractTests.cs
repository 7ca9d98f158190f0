using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using SharpSeek.Serving;

namespace SharpSeek.Server.Tests;

/// <summary>The wire contract on raw HTTP: error shapes and statuses, SSE framing, health, metrics, completions.</summary>
public sealed class HttpContractTests : IAsyncLifetime
{
    private LiveServer _server = null!;

    public async Task InitializeAsync() => _server = await LiveServer.StartAsync(reasoning: true, scheduler: new SchedulerOptions { ContextSize = 64 });
    public async Task DisposeAsync() => await _server.DisposeAsync();

    private async Task<(HttpStatusCode Status, JsonElement Body)> Post(string path, string json)
    {
        using var r = await _server.Http.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));
        string text = await r.Content.ReadAsStringAsync();
        return (r.StatusCode, JsonDocument.Parse(text).RootElement.Clone());
    }

    private static void AssertOpenAiError(JsonElement body, string? param = null)
    {
        var e = body.GetProperty("error");
        Assert.False(string.IsNullOrEmpty(e.GetProperty("message").GetString()));
        Assert.Equal(JsonValueKind.String, e.GetProperty("type").ValueKind);
        Assert.True(e.TryGetProperty("param", out var p));
        Assert.True(e.TryGetProperty("code", out _));
        if (param is not null) Assert.Equal(param, p.GetString());
    }

    [Theory]
    [InlineData("{not json", null)]
    [InlineData("[1,2]", null)]
    [InlineData("""{"messages":[{"role":"user","content":"hi"}],"temperature":-0.5}""", "temperature")]
    [InlineData("""{"messages":[{"role":"user","content":"hi"}],"top_p":0}""", "top_p")]
    [InlineData("""{"messages":[{"role":"user","content":"hi"}],"max_tokens":0}""", "max_tokens")]
    [InlineData("""{"messages":[{"role":"user","content":"hi"}],"n":0}""", "n")]
    [InlineData("""{"messages":[{"role":"user","content":"hi"}],"logprobs":true,"top_logprobs":21}""", "top_logprobs")]
    [InlineData("""{"messages":[]}""", "messages")]
    [InlineData("""{"messages":[{"role":"wizard","content":"hi"}]}""", "messages")]
    [InlineData("""{"messages":"hi"}""", "messages")]
    public async Task Bad_requests_are_400_in_openai_shape(string json, string? param)
    {
        var (status, body) = await Post("v1/chat/completions", json);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        AssertOpenAiError(body, param);
    }

    [Fact]
    public async Task Prompt_longer_than_the_context_is_400()
    {
        string longText = string.Join(" ", Enumerable.Repeat("word", 200));
        var (status, body) = await Post("v1/chat/completions", JsonSerializer.Serialize(new { messages = new[] { new { role = "user", content = longText } } }));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("context", body.GetProperty("error").GetProperty("message").GetString());
    }

    [Fact]
    public async Task Unknown_fields_are_ignored_and_reasoning_content_is_accepted()
    {
        var (status, body) = await Post("v1/chat/completions", """
            {"model":"deepseek-reasoner","messages":[{"role":"user","content":[{"type":"text","text":"hi"}]},
             {"role":"assistant","content":"hello","reasoning_content":"they greet"},{"role":"user","content":"again"}],
             "max_completion_tokens":3,"temperature":0,"frobnicate":{"x":1},"user":"me","store":false}
            """);
        Assert.Equal(HttpStatusCode.OK, status);
        var choice = body.GetProperty("choices")[0];
        Assert.Equal("length", choice.GetProperty("finish_reason").GetString());
        Assert.False(string.IsNullOrEmpty(choice.GetProperty("message").GetProperty("reasoning_content").GetString()));
        var usage = body.GetProperty("usage");
        Assert.Equal(3, usage.GetProperty("completion_tokens").GetInt32());
        Assert.Equal(3, usage.GetProperty("completion_tokens_details").GetProperty("reasoning_tokens").GetInt32());
        Assert.Equal(usage.GetProperty("prompt_tokens").GetInt32(), usage.GetProperty("prompt_cache_hit_tokens").GetInt32() + usage.GetProperty("prompt_cache_miss_tokens").GetInt32());
        Assert.Equal(usage.GetProperty("prompt_cache_hit_tokens").GetInt32(), usage.GetProperty("prompt_tokens_details").GetProperty("cached_tokens").GetInt32());
    }

    [Fact]
    public async Task Stream_is_sse_with_role_then_reasoning_then_finish_usage_and_done()
    {
        using var req = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions")
        {
            Content = new StringContent("""{"messages":[{"role":"user","content":"hi"}],"max_tokens":4,"temperature":0,"stream":true,"stream_options":{"include_usage":true},"n":2}""", Encoding.UTF8, "application/json"),
        };
        using var r = await _server.Http.SendAsync(req);
        Assert.Equal("text/event-stream", r.Content.Headers.ContentType!.MediaType);
        string text = await r.Content.ReadAsStringAsync();
        var events = text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.All(events, e => Assert.StartsWith("data: ", e));
        Assert.Equal("data: [DONE]", events[^1]);
        var chunks = events[..^1].Select(e => JsonDocument.Parse(e["data: ".Length..]).RootElement).ToList();
        Assert.Equal("assistant", chunks[0].GetProperty("choices")[0].GetProperty("delta").GetProperty("role").GetString());
        var finishes = chunks.Where(c => c.GetProperty("choices").GetArrayLength() == 1 && c.GetProperty("choices")[0].GetProperty("finish_reason").ValueKind == JsonValueKind.String).ToList();
        Assert.Equal(2, finishes.Count);
        Assert.Equal([0, 1], finishes.Select(f => f.GetProperty("choices")[0].GetProperty("index").GetInt32()).Order());
        var last = chunks[^1];
        Assert.Equal(0, last.GetProperty("choices").GetArrayLength());
        Assert.Equal(8, last.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        Assert.Contains(chunks, c => c.GetProperty("choices").GetArrayLength() == 1 && c.GetProperty("choices")[0].GetProperty("delta").TryGetProperty("reasoning_content", out _));
    }

    [Fact]
    public async Task Legacy_completions_with_echo_logprobs_and_fim()
    {
        var (status, body) = await Post("v1/completions", """{"prompt":"def add(a, b):","max_tokens":3,"temperature":0,"echo":true,"logprobs":2}""");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("text_completion", body.GetProperty("object").GetString());
        var choice = body.GetProperty("choices")[0];
        Assert.StartsWith("def add(a, b):", choice.GetProperty("text").GetString());
        Assert.Equal(3, choice.GetProperty("logprobs").GetProperty("tokens").GetArrayLength());

        // The tiny fixture vocabulary has no FIM tokens: a suffix is a clear 400 naming it (FimCompletionTests has models with them).
        var (fimStatus, fim) = await Post("beta/completions", """{"model":"deepseek-chat","prompt":"def add(a, b):\n    return ","suffix":"\n\nprint(add(1, 2))","max_tokens":3,"temperature":0}""");
        Assert.Equal(HttpStatusCode.BadRequest, fimStatus);
        AssertOpenAiError(fim, "suffix");
    }

    [Fact]
    public async Task Models_health_and_metrics()
    {
        var models = await _server.Http.GetFromJsonAsync<JsonElement>("v1/models");
        Assert.Equal("list", models.GetProperty("object").GetString());
        Assert.Contains(models.GetProperty("data").EnumerateArray(), m => m.GetProperty("id").GetString() == "deepseek-reasoner");
        var health = await _server.Http.GetFromJsonAsync<JsonElement>("health");
        Assert.Equal("ok", health.GetProperty("status").GetString());
        await Post("v1/chat/completions", """{"messages":[{"role":"user","content":"hi"}],"max_tokens":2}""");
        string metrics = await _server.Http.GetStringAsync("metrics");
        foreach (string name in new[] { "sharpseek_tokens_per_second", "sharpseek_queue_depth", "sharpseek_active_sequences", "sharpseek_prefix_cache_hit_tokens_total", "sharpseek_generated_tokens_total", "sharpseek_speculative_draft_tokens_total", "sharpseek_speculative_accepted_tokens_total", "sharpseek_speculative_accept_rate" })
            Assert.Contains("\n" + name + " ", "\n" + metrics);
    }
}

/// <summary>401 with a key, 503 while loading, 429 when the queue is full, and disconnects that free their sequence.</summary>
public sealed class ServerLimitsTests
{
    [Fact]
    public async Task Wrong_or_missing_api_key_is_401()
    {
        await using var server = await LiveServer.StartAsync(apiKey: "sesame");
        string json = """{"messages":[{"role":"user","content":"hi"}],"max_tokens":1}""";
        using var none = await server.Http.PostAsync("v1/chat/completions", new StringContent(json, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
        Assert.Equal("invalid_api_key", JsonDocument.Parse(await none.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetProperty("code").GetString());
        using var good = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions") { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        good.Headers.Authorization = new("Bearer", "sesame");
        using var ok = await server.Http.SendAsync(good);
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        using var health = await server.Http.GetAsync("health");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }

    [Fact]
    public async Task Loading_model_is_503_until_ready()
    {
        using var release = new ManualResetEventSlim();
        var (server, uri) = await LiveServer.StartWithLoaderAsync(() =>
        {
            release.Wait();
            return new ChatPipeline(ModelBundle.Load(Fixtures.DeepSeekModel), ownsBundle: true);
        });
        await using var _ = server;
        using var http = new HttpClient { BaseAddress = uri };
        // Live while loading (a liveness probe must not restart it), not ready (a load balancer sends it nothing yet).
        using var h = await http.GetAsync("health");
        Assert.Equal(HttpStatusCode.OK, h.StatusCode);
        Assert.Equal("loading", JsonDocument.Parse(await h.Content.ReadAsStringAsync()).RootElement.GetProperty("status").GetString());
        using var r = await http.GetAsync("ready");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, r.StatusCode);
        using var c = await http.PostAsync("v1/chat/completions", new StringContent("""{"messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, c.StatusCode);
        Assert.Equal("model_loading", JsonDocument.Parse(await c.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetProperty("code").GetString());
        release.Set();
        await server.Host.Loading;
        using var h2 = await http.GetAsync("health");
        Assert.Equal(HttpStatusCode.OK, h2.StatusCode);
        using var r2 = await http.GetAsync("ready");
        Assert.Equal(HttpStatusCode.OK, r2.StatusCode);
    }

    [Fact]
    public async Task Full_queue_is_429_and_disconnects_free_their_sequences()
    {
        await using var server = await LiveServer.StartAsync(scheduler: new SchedulerOptions { MaxActive = 1, MaxQueue = 1, ContextSize = 4096 });
        string json = """{"messages":[{"role":"user","content":"hi"}],"max_tokens":100000,"stream":true,"ignore_eos":true}""";
        var metrics = server.Pipeline.Scheduler.Metrics;
        // A stream runs ~4,000 tokens, a second or two for the tiny model: a test thread starved that long by a loaded
        // machine hangs up after both have finished on their own, which shows nothing. Such a try is done again.
        for (int attempt = 1; ; attempt++)
        {
            long completed = metrics.Completed, cancelled = metrics.Cancelled;
            var open = new List<HttpResponseMessage>();
            HttpResponseMessage? refused = null;
            for (int i = 0; i < 4 && refused is null; i++)
            {
                var req = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions") { Content = new StringContent(json, Encoding.UTF8, "application/json") };
                var r = await server.Http.SendAsync(req, HttpCompletionOption.ResponseHeadersRead);
                if (r.StatusCode == HttpStatusCode.TooManyRequests) refused = r;
                else open.Add(r);
            }
            Assert.NotNull(refused);
            Assert.Equal("rate_limit_exceeded", JsonDocument.Parse(await refused!.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetProperty("code").GetString());
            Assert.True(refused.Headers.Contains("Retry-After"));

            // Read a little of the running stream, then hang up everything: the sequences must go within a few steps.
            using (var reader = new StreamReader(await open[0].Content.ReadAsStreamAsync())) await reader.ReadLineAsync();
            foreach (var r in open) r.Dispose();
            refused.Dispose();
            for (int i = 0; i < 500 && (metrics.ActiveSequences > 0 || metrics.QueueDepth > 0); i++) await Task.Delay(10);
            Assert.Equal(0, metrics.ActiveSequences);
            Assert.Equal(0, metrics.QueueDepth);
            // Each stream either finished before the hang-up or was cancelled by it; none is left over or lost.
            long finishedAlone = metrics.Completed - completed, hungUp = metrics.Cancelled - cancelled;
            Assert.Equal(open.Count, finishedAlone + hungUp);
            if (hungUp >= 1) break;
            Assert.True(attempt < 3, $"in {attempt} tries both streams finished before the client hung up");
        }
    }
}
