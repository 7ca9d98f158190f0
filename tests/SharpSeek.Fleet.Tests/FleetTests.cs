using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace SharpSeek.Fleet.Tests;

/// <summary>
/// The fleet as users run it: three <c>sharpseek serve</c> replicas of the bundled model and <c>sharpseek gateway</c>,
/// all real processes on loopback. Multi-turn conversations stay on one replica and hit its prefix cache; a replica
/// killed with SIGKILL mid-stream costs the streams it was serving an error event (none hangs), later turns go to the
/// others, and when it restarts it rejoins and gets its conversations back.
/// </summary>
[Collection("Fleet")]
public sealed class FleetTests
{
    private const string System = "You are a careful calculator. Work through the column method step by step, then give the answer in a box.";

    private static string Port(int p) => p.ToString(CultureInfo.InvariantCulture);

    private static JsonObject Request(List<JsonObject> messages, bool stream, int maxTokens) => new()
    {
        ["messages"] = new JsonArray([.. messages.Select(m => m.DeepClone())]),
        ["max_tokens"] = maxTokens,
        ["temperature"] = 0,
        ["stream"] = stream,
    };

    private static List<JsonObject> Conversation(int i) =>
    [
        new() { ["role"] = "system", ["content"] = System },
        new() { ["role"] = "user", ["content"] = $"What is {100 + i * 37} + {29 + i}?" },
    ];

    [Fact]
    public async Task Conversations_keep_their_replica_and_survive_a_replica_killed_mid_stream()
    {
        int[] ports = [Repo.FreePort(), Repo.FreePort(), Repo.FreePort()];
        int gatewayPort = Repo.FreePort();
        var replicas = ports.Select(p => SharpseekProcess.Replica(p, "--parallel", "4")).ToArray();
        string[] urls = [.. ports.Select(p => $"http://127.0.0.1:{Port(p)}")];
        using var gateway = new SharpseekProcess(["gateway", "--backend", .. urls, "--port", Port(gatewayPort), "--health-interval", "0.5"]);
        try
        {
            foreach (var (r, u) in replicas.Zip(urls)) await r.WaitOkAsync(u + "/ready");
            await gateway.WaitOkAsync($"http://127.0.0.1:{Port(gatewayPort)}/ready");
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{Port(gatewayPort)}/"), Timeout = TimeSpan.FromSeconds(60) };
            // The gateway is ready as soon as one replica is; one that its first probe found still loading stays out of the
            // ring until the next probe, and rejoining moves keys. Affinity is promised for a steady set of replicas.
            await AllAvailableAsync(http, urls.Length);

            // Six conversations × three turns: each stays on one replica and its later turns hit the prefix cache.
            var home = new Dictionary<int, string>();
            for (int c = 0; c < 6; c++)
            {
                var messages = Conversation(c);
                for (int turn = 0; turn < 3; turn++)
                {
                    using var r = await http.PostAsync("v1/chat/completions", new StringContent(Request(messages, false, 12).ToJsonString(), Encoding.UTF8, "application/json"));
                    Assert.True(r.StatusCode == HttpStatusCode.OK, await r.Content.ReadAsStringAsync());
                    string backend = r.Headers.GetValues("X-SharpSeek-Backend").Single();
                    if (turn == 0) home[c] = backend;
                    else Assert.Equal(home[c], backend);
                    var body = JsonNode.Parse(await r.Content.ReadAsStringAsync())!;
                    if (turn > 0) Assert.True((long)body["usage"]!["prompt_cache_hit_tokens"]! > 0, $"conversation {c} turn {turn} missed the cache");
                    messages.Add(new JsonObject { ["role"] = "assistant", ["content"] = (string?)body["choices"]![0]!["message"]!["content"] ?? "" });
                    messages.Add(new JsonObject { ["role"] = "user", ["content"] = $"Now add {turn + 1}." });
                }
            }
            Assert.True(home.Values.Distinct().Count() >= 2, "six conversations all hashed to one replica");

            // SIGKILL the replica of conversation 0 while streams run on every replica.
            string victim = home[0];
            int victimIndex = Array.FindIndex(urls, u => victim.StartsWith(u, StringComparison.Ordinal));
            var streams = Enumerable.Range(0, 6).Select(c => StreamAsync(http, Request(Conversation(c), true, 400))).ToList();
            await Task.Delay(300);
            replicas[victimIndex].Process.Kill(entireProcessTree: true);
            var outcomes = await Task.WhenAll(streams).WaitAsync(TimeSpan.FromSeconds(60));   // none may hang
            Assert.All(outcomes, o => Assert.True(o is "done" or "error event" or "retried", o));
            Assert.Contains("done", outcomes);

            // Conversation 0 now goes elsewhere and still gets answers.
            using (var r = await http.PostAsync("v1/chat/completions", new StringContent(Request(Conversation(0), false, 4).ToJsonString(), Encoding.UTF8, "application/json")))
            {
                Assert.Equal(HttpStatusCode.OK, r.StatusCode);
                Assert.NotEqual(victim, r.Headers.GetValues("X-SharpSeek-Backend").Single());
            }

            // Restarted on its port, the replica rejoins and consistent hashing gives it its conversations back.
            replicas[victimIndex].Dispose();
            replicas[victimIndex] = SharpseekProcess.Replica(ports[victimIndex], "--parallel", "4");
            await replicas[victimIndex].WaitOkAsync(urls[victimIndex] + "/ready");
            for (var clock = Stopwatch.StartNew(); ; await Task.Delay(250))
            {
                using var r = await http.PostAsync("v1/chat/completions", new StringContent(Request(Conversation(0), false, 2).ToJsonString(), Encoding.UTF8, "application/json"));
                Assert.Equal(HttpStatusCode.OK, r.StatusCode);
                if (r.Headers.GetValues("X-SharpSeek-Backend").Single() == victim) break;
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), "the restarted replica did not get its conversation back");
            }
        }
        finally
        {
            foreach (var r in replicas) r.Dispose();
        }
    }

    /// <summary>Waits until the gateway counts all <paramref name="replicas"/> replicas available (its status page).</summary>
    private static async Task AllAvailableAsync(HttpClient http, int replicas)
    {
        for (var clock = Stopwatch.StartNew(); ; await Task.Delay(100))
        {
            using var status = JsonDocument.Parse(await http.GetStringAsync("gateway/status"));
            var backends = status.RootElement.GetProperty("backends").EnumerateArray().ToList();
            if (backends.Count == replicas && backends.All(b => b.GetProperty("available").GetBoolean() && b.GetProperty("active_health").GetString() == "Healthy")) return;
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"the gateway did not see all {replicas} replicas healthy: {status.RootElement}");
        }
    }

    /// <summary>Reads a stream to its end: "done" ([DONE] seen), "error event" (ended by one), or what else happened.</summary>
    private static async Task<string> StreamAsync(HttpClient http, JsonObject request)
    {
        try
        {
            using var r = await http.SendAsync(new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions")
            {
                Content = new StringContent(request.ToJsonString(), Encoding.UTF8, "application/json"),
            }, HttpCompletionOption.ResponseHeadersRead);
            if (r.StatusCode != HttpStatusCode.OK) return $"status {(int)r.StatusCode}: {await r.Content.ReadAsStringAsync()}";
            string body = await r.Content.ReadAsStringAsync();
            if (body.Contains("data: [DONE]")) return "done";
            var last = body.Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Select(e => e.Trim()).Last(e => e.Length > 0);
            return last.StartsWith("data: {\"error\"", StringComparison.Ordinal) ? "error event" : "cut without an error event: " + last;
        }
        catch (Exception e)
        {
            return "exception: " + e.Message;
        }
    }

    [Fact]
    public void Unknown_policy_is_a_clear_error_listing_the_policies()
    {
        using var p = new SharpseekProcess("gateway", "--backend", "http://127.0.0.1:9", "--policy", "fastest");
        Assert.True(p.Process.WaitForExit(30_000));
        // The overload without a timeout also waits for the asynchronous readers to reach the end of stderr; a fixed 100 ms
        // wait for them once left the error message unread on a loaded machine.
        p.Process.WaitForExit();
        Assert.Equal(1, p.Process.ExitCode);
        Assert.Contains("error: unknown --policy 'fastest': the policies are prefix, least-load, round-robin", p.Stderr);
    }
}

[CollectionDefinition("Fleet", DisableParallelization = true)]
public sealed class FleetCollection;
