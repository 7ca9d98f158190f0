using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using SharpSeek.Serving;

namespace SharpSeek.Server.Tests;

/// <summary>
/// What a load balancer reads from a replica: the endpoint picker's gauges on <c>/metrics</c>, <c>/ready</c> against
/// <c>/health</c>, and the drain (new requests 503 with Retry-After, running ones finish or end with an error event).
/// </summary>
public sealed class ReadinessDrainTests
{
    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static double Gauge(string metrics, string name)
    {
        string line = metrics.Split('\n').Single(l => l.StartsWith(name + " ", StringComparison.Ordinal));
        return double.Parse(line[(name.Length + 1)..], CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task Endpoint_picker_gauges_report_queue_running_cache_use_and_hit_ratio()
    {
        await using var server = await LiveServer.StartAsync(scheduler: new SchedulerOptions { ContextSize = 256, MaxActive = 2, PrefixCacheEntries = 4 });
        string before = await server.Http.GetStringAsync("metrics");
        Assert.Equal(0, Gauge(before, "sharpseek_num_requests_waiting"));
        Assert.Equal(0, Gauge(before, "sharpseek_num_requests_running"));
        Assert.Equal(0, Gauge(before, "sharpseek_kv_cache_usage_perc"));
        Assert.Equal(0, Gauge(before, "sharpseek_prefix_cache_hit_ratio"));
        Assert.Contains("sharpseek_cache_config_info{block_size=\"16\",num_gpu_blocks=\"96\"} 1", before);   // (2 + 4) × 256 / 16

        // The same 40-token conversation twice: the second reuses two 16-token blocks of the first.
        string ask = """{"messages":[{"role":"user","content":"Count the words in this sentence, which is long enough to fill a few blocks of the prefix cache."}],"max_tokens":4,"temperature":0}""";
        (await server.Http.PostAsync("v1/chat/completions", Json(ask))).EnsureSuccessStatusCode();
        using var second = await server.Http.PostAsync("v1/chat/completions", Json(ask));
        var usage = JsonDocument.Parse(await second.Content.ReadAsStringAsync()).RootElement.GetProperty("usage");
        long prompt = usage.GetProperty("prompt_tokens").GetInt64(), cached = usage.GetProperty("prompt_cache_hit_tokens").GetInt64();
        Assert.True(cached > 0, "the second request should hit the prefix cache");

        string after = await server.Http.GetStringAsync("metrics");
        Assert.Equal((double)cached / (2 * prompt), Gauge(after, "sharpseek_prefix_cache_hit_ratio"), 12);
        // Nothing runs now; the prefix cache holds the finished sequence: its bytes over the budget.
        var m = server.Pipeline.Scheduler.Metrics;
        double usage01 = Gauge(after, "sharpseek_kv_cache_usage_perc");
        Assert.Equal((double)server.Pipeline.Scheduler.PrefixCache.Bytes / m.CacheBudgetBytes, usage01, 12);
        Assert.InRange(usage01, 1e-6, 1);
        Assert.Equal(server.Pipeline.Scheduler.PrefixCache.Bytes, (long)Gauge(after, "sharpseek_kv_cache_bytes"));
        Assert.Equal(0, Gauge(after, "sharpseek_num_requests_running"));
    }

    [Fact]
    public async Task Running_requests_are_counted_while_they_decode()
    {
        await using var server = await LiveServer.StartAsync(scheduler: new SchedulerOptions { ContextSize = 4096, MaxActive = 1, MaxQueue = 4 });
        string endless = """{"messages":[{"role":"user","content":"hi"}],"max_tokens":100000,"ignore_eos":true,"stream":true}""";
        using var cts = new CancellationTokenSource();
        var a = server.Http.SendAsync(new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions") { Content = Json(endless) }, HttpCompletionOption.ResponseHeadersRead, cts.Token);
        var b = server.Http.SendAsync(new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions") { Content = Json(endless) }, HttpCompletionOption.ResponseHeadersRead, cts.Token);
        using var ra = await a;
        using var rb = await b;
        // Both streams have begun (the role chunk goes out before admission); wait for the scheduler to admit one.
        string metrics = "";
        for (var clock = System.Diagnostics.Stopwatch.StartNew(); clock.Elapsed < TimeSpan.FromSeconds(10); await Task.Delay(20))
        {
            metrics = await server.Http.GetStringAsync("metrics");
            if (Gauge(metrics, "sharpseek_num_requests_running") == 1 && Gauge(metrics, "sharpseek_num_requests_waiting") == 1
                && Gauge(metrics, "sharpseek_kv_cache_usage_perc") > 0) break;
        }
        Assert.Equal(1, Gauge(metrics, "sharpseek_num_requests_running"));
        Assert.Equal(1, Gauge(metrics, "sharpseek_num_requests_waiting"));
        Assert.Equal(2, Gauge(metrics, "sharpseek_requests_in_flight"));
        Assert.True(Gauge(metrics, "sharpseek_kv_cache_usage_perc") > 0);
        cts.Cancel();
    }

    [Fact]
    public async Task Drain_refuses_new_requests_finishes_short_ones_and_cuts_off_long_ones_with_an_error_event()
    {
        await using var server = await LiveServer.StartAsync(scheduler: new SchedulerOptions { ContextSize = 4096, MaxActive = 5 }, drainTime: TimeSpan.FromSeconds(1));
        Assert.Equal(HttpStatusCode.OK, (await server.Http.GetAsync("ready")).StatusCode);
        // A first request compiles the decode path, which alone can take longer than the 1 s grace in a fresh process.
        (await server.Http.PostAsync("v1/chat/completions", Json("""{"messages":[{"role":"user","content":"hi"}],"max_tokens":3}"""))).EnsureSuccessStatusCode();
        // Four choices of up to 4,000 tokens each: 4–7 s on a 2-core machine, several times the 1 s grace (a fifth slot is
        // left for the short one).
        using var endless = await server.Http.SendAsync(new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions")
        {
            Content = Json("""{"messages":[{"role":"user","content":"hi"}],"max_tokens":100000,"ignore_eos":true,"stream":true,"n":4}"""),
        }, HttpCompletionOption.ResponseHeadersRead);
        var endlessBody = endless.Content.ReadAsStringAsync();
        // The drain must begin while the short one runs. It runs for some tens of milliseconds, so the wait for it can
        // miss it; then it has finished before the drain, shows nothing, and another one is sent.
        Task<HttpResponseMessage> shortOne;
        for (int attempt = 1; ; attempt++)
        {
            shortOne = server.Http.PostAsync("v1/chat/completions", Json("""{"messages":[{"role":"user","content":"hi"}],"max_tokens":32,"ignore_eos":true}"""));
            for (var wait = System.Diagnostics.Stopwatch.StartNew(); server.Drain.InFlight < 2 && !shortOne.IsCompleted && wait.Elapsed < TimeSpan.FromSeconds(10);) await Task.Delay(1);
            if (server.Drain.InFlight >= 2) break;
            (await shortOne).EnsureSuccessStatusCode();
            Assert.True(attempt < 20, "the short request never ran while the long one did");
        }

        var drained = server.Drain.RunAsync();
        using var ready = await server.Http.GetAsync("ready");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.Equal("draining", JsonDocument.Parse(await ready.Content.ReadAsStringAsync()).RootElement.GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.OK, (await server.Http.GetAsync("health")).StatusCode);
        using var refused = await server.Http.PostAsync("v1/chat/completions", Json("""{"messages":[{"role":"user","content":"hi"}],"max_tokens":3}"""));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.NotNull(refused.Headers.RetryAfter);
        Assert.Equal("server_draining", JsonDocument.Parse(await refused.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetProperty("code").GetString());
        using var ollama = await server.Http.PostAsync("api/chat", Json("""{"model":"x","messages":[{"role":"user","content":"hi"}]}"""));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ollama.StatusCode);

        using var done = await shortOne;
        Assert.True(done.StatusCode == HttpStatusCode.OK, await done.Content.ReadAsStringAsync());
        Assert.Equal("length", JsonDocument.Parse(await done.Content.ReadAsStringAsync()).RootElement.GetProperty("choices")[0].GetProperty("finish_reason").GetString());

        var clock = System.Diagnostics.Stopwatch.StartNew();
        await drained.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.InRange(clock.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(8));
        string body = await endlessBody.WaitAsync(TimeSpan.FromSeconds(10));
        string last = body.Split("\n\n", StringSplitOptions.RemoveEmptyEntries)[^1];
        Assert.True(server.Drain.Cancelled == 1, $"{server.Drain.Cancelled} requests were cut off; the long stream ended with: {last}");
        Assert.StartsWith("data: {\"error\":", last);
        Assert.Contains("server_draining", last);
        Assert.DoesNotContain("[DONE]", body);
        Assert.Equal(0, server.Drain.InFlight);
    }
}
