using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;

namespace SharpSeek.Server.Tests;

/// <summary>
/// What an operator needs: one log line per request (method, route, model, status, tokens, milliseconds) through
/// Microsoft.Extensions.Logging, CORS for the origins given with <c>--cors-origin</c>, and <c>/metrics</c> behind the API
/// key unless <c>--metrics-public</c>.
/// </summary>
public sealed partial class ServerOperationsTests
{
    /// <summary>Collects formatted log lines by category.</summary>
    private sealed class CollectingLogs : ILoggerProvider
    {
        public readonly ConcurrentQueue<(string Category, LogLevel Level, string Message)> Lines = new();

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        public void Dispose() { }

        public IReadOnlyList<string> Requests => [.. Lines.Where(l => l.Category == "SharpSeek.Server.Requests").Select(l => l.Message)];

        private sealed class Logger(CollectingLogs owner, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
            public bool IsEnabled(LogLevel logLevel) => true;
            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                owner.Lines.Enqueue((category, logLevel, formatter(state, exception)));
        }
    }

    [GeneratedRegex(@"^(?<method>\S+) (?<route>\S+) model=(?<model>\S+) status=(?<status>\d+) prompt_tokens=(?<prompt>\d+) completion_tokens=(?<completion>\d+) ms=(?<ms>[\d.]+)$")]
    private static partial Regex LogLine();

    private static async Task<Match> WaitForLineAsync(CollectingLogs logs, int count)
    {
        // The line is written when the response has ended, a moment after the client has read it.
        for (int i = 0; i < 100 && logs.Requests.Count < count; i++) await Task.Delay(50);
        var line = logs.Requests.ElementAtOrDefault(count - 1) ?? throw new Xunit.Sdk.XunitException($"expected {count} request lines, got: " + string.Join(" | ", logs.Requests));
        var m = LogLine().Match(line);
        Assert.True(m.Success, "not a request line: " + line);
        return m;
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    [Fact]
    public async Task Every_request_gets_one_line_with_route_model_status_tokens_and_time()
    {
        var logs = new CollectingLogs();
        await using var server = await LiveServer.StartAsync(configure: o => o with { Logging = l => l.AddProvider(logs) });
        string name = server.Pipeline.Bundle.Name;

        using (var r = await server.Http.PostAsync("v1/chat/completions", Json("""{"messages":[{"role":"user","content":"hi"}],"max_tokens":5,"ignore_eos":true}""")))
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        var chat = await WaitForLineAsync(logs, 1);
        Assert.Equal("POST", chat.Groups["method"].Value);
        Assert.Equal("/v1/chat/completions", chat.Groups["route"].Value);
        Assert.Equal(name, chat.Groups["model"].Value);
        Assert.Equal("200", chat.Groups["status"].Value);
        Assert.True(int.Parse(chat.Groups["prompt"].Value) > 0);
        Assert.Equal("5", chat.Groups["completion"].Value);

        // Streaming, two choices: the tokens of both, the prompt once.
        string streamed = await (await server.Http.PostAsync("v1/chat/completions", Json("""{"messages":[{"role":"user","content":"hi"}],"max_tokens":3,"n":2,"stream":true,"ignore_eos":true}"""))).Content.ReadAsStringAsync();
        Assert.Contains("[DONE]", streamed);
        var stream = await WaitForLineAsync(logs, 2);
        Assert.Equal("6", stream.Groups["completion"].Value);
        Assert.Equal(chat.Groups["prompt"].Value, stream.Groups["prompt"].Value);

        // Ollama's route, and an error: the status the client got, no model.
        using (var r = await server.Http.PostAsync("api/generate", Json("""{"prompt":"hi","stream":false,"options":{"num_predict":2}}""")))
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        var ollama = await WaitForLineAsync(logs, 3);
        Assert.Equal("/api/generate", ollama.Groups["route"].Value);
        using (var r = await server.Http.PostAsync("v1/chat/completions", Json("""{"model":"nope","messages":[{"role":"user","content":"hi"}]}""")))
            Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
        var missing = await WaitForLineAsync(logs, 4);
        Assert.Equal("404", missing.Groups["status"].Value);
        Assert.Equal("-", missing.Groups["model"].Value);
        Assert.Equal("0", missing.Groups["completion"].Value);

        // A route with a parameter is logged by its template, an unknown path by itself.
        await server.Http.GetAsync("app/conversations/0123456789abcdef");
        Assert.Equal("/app/conversations/{id}", (await WaitForLineAsync(logs, 5)).Groups["route"].Value);
        await server.Http.GetAsync("no/such/page");
        var unknown = await WaitForLineAsync(logs, 6);
        Assert.Equal("/no/such/page", unknown.Groups["route"].Value);
        Assert.Equal("404", unknown.Groups["status"].Value);
        Assert.Equal(6, logs.Requests.Count);
        // The framework's own informational chatter (hosting, routing) stays out.
        Assert.DoesNotContain(logs.Lines, l => l.Level < LogLevel.Warning && l.Category.StartsWith("Microsoft", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_client_that_hangs_up_is_logged_as_499()
    {
        var logs = new CollectingLogs();
        // A context long enough that the answer is still streaming when the client leaves.
        await using var server = await LiveServer.StartAsync(scheduler: new Serving.SchedulerOptions { ContextSize = 1 << 16 }, configure: o => o with { Logging = l => l.AddProvider(logs) });
        using var cts = new CancellationTokenSource();
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions") { Content = Json("""{"messages":[{"role":"user","content":"hi"}],"max_tokens":100000,"stream":true,"ignore_eos":true}""") };
        using var response = await server.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cts.Token);
        using (var body = new StreamReader(await response.Content.ReadAsStreamAsync(cts.Token)))
        {
            for (int i = 0; i < 5; i++) await body.ReadLineAsync(cts.Token);
            cts.Cancel();
        }
        response.Dispose();
        var line = await WaitForLineAsync(logs, 1);
        Assert.Equal("499", line.Groups["status"].Value);
        Assert.True(int.Parse(line.Groups["completion"].Value) > 0);
    }

    [Fact]
    public async Task Metrics_need_the_api_key_unless_public()
    {
        await using (var server = await LiveServer.StartAsync(apiKey: "k1"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await server.Http.GetAsync("metrics")).StatusCode);
            using var withKey = new HttpRequestMessage(HttpMethod.Get, "metrics") { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", "k1") } };
            using var ok = await server.Http.SendAsync(withKey);
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
            Assert.Contains("sharpseek_model_loaded 1", await ok.Content.ReadAsStringAsync());
            // The page, its assets and the health check stay public.
            Assert.Equal(HttpStatusCode.OK, (await server.Http.GetAsync("health")).StatusCode);
        }
        await using (var server = await LiveServer.StartAsync(apiKey: "k1", configure: o => o with { MetricsPublic = true }))
        {
            Assert.Equal(HttpStatusCode.OK, (await server.Http.GetAsync("metrics")).StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, (await server.Http.GetAsync("v1/models")).StatusCode);
        }
    }

    [Fact]
    public async Task Cors_answers_preflights_for_the_given_origins_only_even_behind_a_key()
    {
        const string Allowed = "http://localhost:3000", Other = "http://evil.example";
        await using var server = await LiveServer.StartAsync(apiKey: "k1", configure: o => o with { CorsOrigins = [Allowed, "https://app.example"] });

        using var preflight = new HttpRequestMessage(HttpMethod.Options, "v1/chat/completions");
        preflight.Headers.Add("Origin", Allowed);
        preflight.Headers.Add("Access-Control-Request-Method", "POST");
        preflight.Headers.Add("Access-Control-Request-Headers", "authorization,content-type");
        using var pre = await server.Http.SendAsync(preflight);
        Assert.Equal(HttpStatusCode.NoContent, pre.StatusCode);
        Assert.Equal(Allowed, pre.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.Contains("authorization", string.Join(",", pre.Headers.GetValues("Access-Control-Allow-Headers")), StringComparison.OrdinalIgnoreCase);

        // The real call: allowed origin with the key gets the header; a refused one too, so the page can read its 401.
        using var call = new HttpRequestMessage(HttpMethod.Get, "v1/models") { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", "k1") } };
        call.Headers.Add("Origin", Allowed);
        using var ok = await server.Http.SendAsync(call);
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Equal(Allowed, ok.Headers.GetValues("Access-Control-Allow-Origin").Single());
        using var noKey = new HttpRequestMessage(HttpMethod.Get, "v1/models");
        noKey.Headers.Add("Origin", Allowed);
        using var refused = await server.Http.SendAsync(noKey);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.True(refused.Headers.Contains("Access-Control-Allow-Origin"));

        // Another origin gets no CORS headers, so its page cannot read the answer.
        using var other = new HttpRequestMessage(HttpMethod.Get, "v1/models") { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", "k1") } };
        other.Headers.Add("Origin", Other);
        using var otherResponse = await server.Http.SendAsync(other);
        Assert.False(otherResponse.Headers.Contains("Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task Without_cors_origins_no_cors_headers_are_sent()
    {
        await using var server = await LiveServer.StartAsync();
        using var call = new HttpRequestMessage(HttpMethod.Get, "v1/models");
        call.Headers.Add("Origin", "http://localhost:3000");
        using var r = await server.Http.SendAsync(call);
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.False(r.Headers.Contains("Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task Stop_strings_apply_to_the_answer_not_the_reasoning()
    {
        // The bundled model reasons in column steps ("2+3 2+3=5 carry0 got5") before "The answer is \boxed{5}."
        await using var server = await LiveServer.StartAsync(modelPath: System.IO.Path.Combine(Fixtures.RepoRoot, "models", "sharpseek-tiny"));
        async Task<JsonElement> AskAsync(string stop) =>
            (await (await server.Http.PostAsync("v1/chat/completions", Json($$"""{"messages":[{"role":"user","content":"What is 2 + 3?"}],"temperature":0,"stop":[{{stop}}]}""")))
                .Content.ReadFromJsonAsync<JsonElement>()).GetProperty("choices")[0];
        var inReasoning = await AskAsync("\"carry\"");
        Assert.Contains("carry", inReasoning.GetProperty("message").GetProperty("reasoning_content").GetString());
        Assert.Contains(@"\boxed{5}", inReasoning.GetProperty("message").GetProperty("content").GetString());
        var inAnswer = await AskAsync("\"boxed\"");
        Assert.Equal("stop", inAnswer.GetProperty("finish_reason").GetString());
        Assert.Equal("The answer is \\", inAnswer.GetProperty("message").GetProperty("content").GetString());
    }
}
