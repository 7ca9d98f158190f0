using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SharpSeek.Gateway;

namespace SharpSeek.Fleet.Tests;

/// <summary>
/// The gateway against stand-in replicas that fail on purpose: a 503 (draining) or a refused connection is retried once
/// on another replica, a stream cut mid-way ends with an error event, unreachable replicas are routed around, and with
/// none left the client gets 503 in OpenAI's error shape.
/// </summary>
public sealed class GatewayBehaviourTests
{
    /// <summary>A stand-in replica: <c>/ready</c> 200 and a chat handler given by the test.</summary>
    private sealed class FakeReplica : IAsyncDisposable
    {
        private readonly WebApplication _app;
        public int Calls;

        private FakeReplica(WebApplication app) => _app = app;

        public string Url => _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();

        public static async Task<FakeReplica> StartAsync(Func<HttpContext, Task> chat)
        {
            var b = WebApplication.CreateSlimBuilder();
            b.Logging.ClearProviders();
            b.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
            var app = b.Build();
            var replica = new FakeReplica(app);
            app.MapGet("/ready", () => Results.Json(new { status = "ok" }));
            app.MapPost("/v1/chat/completions", ctx =>
            {
                Interlocked.Increment(ref replica.Calls);
                return chat(ctx);
            });
            await app.StartAsync();
            return replica;
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }

    private static Task Answer(HttpContext ctx, string text) => ctx.Response.WriteAsJsonAsync(new { choices = new[] { new { message = new { content = text } } } });

    private static async Task<GatewayServer> GatewayAsync(string policy, params string[] backends)
    {
        var g = GatewayServer.Create(new GatewayOptions { Backends = backends, Port = 0, Policy = policy, HealthInterval = TimeSpan.FromMilliseconds(300) });
        await g.StartAsync();
        return g;
    }

    private static HttpClient Client(GatewayServer g) => new() { BaseAddress = new Uri(g.Urls[0].TrimEnd('/') + "/"), Timeout = TimeSpan.FromSeconds(30) };

    private static StringContent Chat(string user, bool stream = false) =>
        new($$"""{"messages":[{"role":"user","content":"{{user}}"}],"stream":{{(stream ? "true" : "false")}}}""", Encoding.UTF8, "application/json");

    private static string DeadUrl() => $"http://127.0.0.1:{Repo.FreePort()}";

    [Fact]
    public async Task A_draining_replica_s_503_is_retried_once_on_another_replica()
    {
        await using var draining = await FakeReplica.StartAsync(ctx =>
        {
            ctx.Response.StatusCode = 503;
            ctx.Response.Headers.RetryAfter = "1";
            return ctx.Response.WriteAsync("""{"error":{"message":"draining","code":"server_draining"}}""");
        });
        await using var good = await FakeReplica.StartAsync(ctx => Answer(ctx, "from the good one"));
        await using var gateway = await GatewayAsync(GatewayPolicies.RoundRobin, draining.Url, good.Url);
        using var http = Client(gateway);
        for (int i = 0; i < 4; i++)
        {
            using var r = await http.PostAsync("v1/chat/completions", Chat("hi " + i));
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            Assert.Contains("from the good one", await r.Content.ReadAsStringAsync());
        }
        // The first 503 retried it and took the replica out of rotation (passive health), so it was asked once.
        Assert.Equal(1, draining.Calls);
        Assert.Equal(1, gateway.Counters.RetryCount);
        Assert.Equal(4, good.Calls);
    }

    [Fact]
    public async Task A_refused_connection_is_retried_and_an_unreachable_replica_is_routed_around()
    {
        await using var good = await FakeReplica.StartAsync(ctx => Answer(ctx, "ok"));
        string dead = DeadUrl();
        await using var gateway = await GatewayAsync(GatewayPolicies.RoundRobin, dead, good.Url);
        using var http = Client(gateway);
        for (int i = 0; i < 6; i++)
        {
            using var r = await http.PostAsync("v1/chat/completions", Chat("hi " + i));
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        }
        Assert.Equal(6, good.Calls);
        Assert.InRange(gateway.Counters.RetryCount, 0, 1);   // 1 unless the first probe marked it down before the first request
        using var status = JsonDocument.Parse(await http.GetStringAsync("gateway/status"));
        var backends = status.RootElement.GetProperty("backends").EnumerateArray().ToList();
        Assert.False(backends.Single(b => b.GetProperty("address").GetString()!.StartsWith(dead, StringComparison.Ordinal)).GetProperty("available").GetBoolean());
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("ready")).StatusCode);
    }

    [Fact]
    public async Task No_healthy_replica_is_503_in_openai_s_error_shape()
    {
        await using var gateway = await GatewayAsync(GatewayPolicies.Prefix, DeadUrl(), DeadUrl());
        using var http = Client(gateway);
        // Before the probes have run, both are unknown: the request tries one, retries the other, and fails as a 502.
        using (var first = await http.PostAsync("v1/chat/completions", Chat("hi")))
            Assert.True(first.StatusCode is HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable, first.StatusCode.ToString());
        for (var clock = System.Diagnostics.Stopwatch.StartNew(); (await http.GetAsync("ready")).StatusCode == HttpStatusCode.OK; await Task.Delay(50))
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), "the probes never marked the replicas down");
        using var r = await http.PostAsync("v1/chat/completions", Chat("hi"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, r.StatusCode);
        Assert.NotNull(r.Headers.RetryAfter);
        Assert.StartsWith("application/json", r.Content.Headers.ContentType!.ToString());
        var error = JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement.GetProperty("error");
        Assert.Equal("no_healthy_backend", error.GetProperty("code").GetString());
        Assert.Equal("server_error", error.GetProperty("type").GetString());
        Assert.False(string.IsNullOrEmpty(error.GetProperty("message").GetString()));
        // Ollama's clients get Ollama's shape.
        using var o = await http.PostAsync("api/chat", Chat("hi"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, o.StatusCode);
        Assert.Equal(JsonValueKind.String, JsonDocument.Parse(await o.Content.ReadAsStringAsync()).RootElement.GetProperty("error").ValueKind);
    }

    [Fact]
    public async Task A_stream_cut_mid_way_ends_with_an_error_event_not_a_hang()
    {
        await using var breaking = await FakeReplica.StartAsync(async ctx =>
        {
            ctx.Response.ContentType = "text/event-stream";
            await ctx.Response.WriteAsync("data: {\"choices\":[{\"delta\":{\"content\":\"partial\"}}]}\n\n");
            await ctx.Response.Body.FlushAsync();
            await Task.Delay(100);
            ctx.Abort();   // the replica dies mid-stream
        });
        await using var gateway = await GatewayAsync(GatewayPolicies.Prefix, breaking.Url);
        using var http = Client(gateway);
        using var r = await http.SendAsync(new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions") { Content = Chat("hi", stream: true) }, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        string body = await r.Content.ReadAsStringAsync().WaitAsync(TimeSpan.FromSeconds(10));
        var events = body.Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Select(e => e.Trim()).Where(e => e.Length > 0).ToList();
        Assert.Contains("partial", events[0]);
        var error = JsonDocument.Parse(events[^1]["data: ".Length..]).RootElement.GetProperty("error");
        Assert.Equal("backend_failed", error.GetProperty("code").GetString());
        Assert.Equal(1, gateway.Counters.BrokenStreamCount);
        Assert.Equal(0, gateway.Counters.RetryCount);   // bytes had reached the client: not retried
    }

    [Fact]
    public async Task Prefix_policy_keeps_a_conversation_on_one_replica_until_its_load_exceeds_the_bound()
    {
        var release = new TaskCompletionSource();
        await using var a = await FakeReplica.StartAsync(async ctx => { await release.Task; await Answer(ctx, "a"); });
        await using var b = await FakeReplica.StartAsync(async ctx => { await release.Task; await Answer(ctx, "b"); });
        var g = GatewayServer.Create(new GatewayOptions { Backends = [a.Url, b.Url], Port = 0, Bound = new LoadBound(2, 1.5) });
        await g.StartAsync();
        await using var _ = g;
        using var http = Client(g);
        // Six concurrent turns of one conversation: the first three go to its replica (3 - 0 > 2 only at the fourth),
        // then the other replica takes the overflow, so the preferred one never runs more than 3 ahead.
        var turns = Enumerable.Range(0, 6).Select(_ => http.PostAsync("v1/chat/completions", Chat("same conversation"))).ToList();
        for (var clock = System.Diagnostics.Stopwatch.StartNew(); a.Calls + b.Calls < 6; await Task.Delay(10))
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"only {a.Calls + b.Calls} arrived");
        int preferred = Math.Max(a.Calls, b.Calls), other = Math.Min(a.Calls, b.Calls);
        Assert.True(preferred - other <= 3 && other >= 1, $"{a.Calls} / {b.Calls}");
        Assert.True(g.Counters.AffinityOverrideCount >= 1);
        release.SetResult();
        foreach (var t in turns) (await t).Dispose();
        // Unloaded again: every turn of the conversation goes to the same replica.
        int beforeA = a.Calls, beforeB = b.Calls;
        for (int i = 0; i < 5; i++) (await http.PostAsync("v1/chat/completions", Chat("same conversation"))).Dispose();
        Assert.True((a.Calls - beforeA, b.Calls - beforeB) is (5, 0) or (0, 5), $"{a.Calls - beforeA} / {b.Calls - beforeB}");
    }
}
