#:property PublishAot=false
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
// The fleet benchmark (docs/PERFORMANCE.md, "Fleet"): REPLICAS `sharpseek serve` processes of MODEL and `sharpseek gateway`
// on loopback; CONVERSATIONS multi-turn conversations of TURNS turns each run interleaved (each conversation sends its next
// turn when the last one is answered, at most INFLIGHT requests at once) through the gateway, streaming. Per policy it
// reports the prefix-cache hit ratio (cached prompt tokens over prompt tokens, from each answer's usage) and the time to
// first token (first reasoning or content delta). Every run starts fresh replicas. `kill` runs the prefix policy and
// SIGKILLs one replica a third of the way through, restarts it 1 s later and counts failed, retried and hung requests.
// usage: dotnet run bench/tools/fleet-bench.cs -c Release -- CLI_DLL MODEL RUNS [CONVERSATIONS TURNS INFLIGHT REPLICAS]
//   RUNS: comma-separated, e.g. prefix,round-robin,prefix,round-robin,kill; prefix@N runs the prefix policy with --balance-abs N
string cli = args[0], model = args[1];
string[] runs = args[2].Split(',');
int conversations = args.Length > 3 ? int.Parse(args[3]) : 20;
int turns = args.Length > 4 ? int.Parse(args[4]) : 5;
int inflight = args.Length > 5 ? int.Parse(args[5]) : 6;
int replicaCount = args.Length > 6 ? int.Parse(args[6]) : 3;
var inv = CultureInfo.InvariantCulture;

foreach (string run in runs)
{
    bool kill = run == "kill";
    string policy = kill ? "prefix" : run.Split('@')[0];
    string[] bound = run.Contains('@') ? ["--balance-abs", run.Split('@')[1]] : [];
    int[] ports = [.. Enumerable.Range(0, replicaCount).Select(_ => FreePort())];
    int gatewayPort = FreePort();
    string[] urls = [.. ports.Select(p => $"http://127.0.0.1:{p}")];
    var replicas = ports.Select(p => Start("serve", "--model", model, "--port", p.ToString(inv), "--data-dir", Path.Combine(Path.GetTempPath(), "fleet-bench-" + Guid.NewGuid().ToString("N")))).ToArray();
    var gateway = Start(["gateway", "--policy", policy, "--port", gatewayPort.ToString(inv), "--health-interval", "0.5", .. bound, "--backend", .. urls]);
    using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{gatewayPort}/"), Timeout = Timeout.InfiniteTimeSpan };
    foreach (string u in urls) await WaitOk(u + "/ready");
    await WaitOk($"http://127.0.0.1:{gatewayPort}/ready");

    var results = new List<Result>();
    var gate = new SemaphoreSlim(inflight);
    int total = conversations * turns, done = 0;
    var killAt = new TaskCompletionSource();
    var histories = new JsonArray[conversations];
    var clock = Stopwatch.StartNew();
    var tasks = Enumerable.Range(0, conversations).Select(async c =>
    {
        var messages = new JsonArray
        {
            new JsonObject { ["role"] = "system", ["content"] = "You are a careful calculator. Work through the column method step by step, then give the answer in a box." },
            new JsonObject { ["role"] = "user", ["content"] = Homework(c) },
        };
        histories[c] = messages;
        for (int t = 0; t < turns; t++)
        {
            await gate.WaitAsync();
            Result r;
            try { r = await Ask(http, messages, c, t); }
            finally { gate.Release(); }
            lock (results) results.Add(r);
            if (Interlocked.Increment(ref done) == total / 3) killAt.TrySetResult();
            messages.Add(new JsonObject { ["role"] = "assistant", ["content"] = r.Content });
            messages.Add(new JsonObject { ["role"] = "user", ["content"] = $"Now add {t + 1} to that." });
        }
    }).ToList();

    string? killNote = null;
    if (kill)
    {
        await killAt.Task;
        int victim = 1;
        replicas[victim].Kill(entireProcessTree: true);
        double killedAt = clock.Elapsed.TotalSeconds;
        await Task.Delay(1000);
        replicas[victim] = Start("serve", "--model", model, "--port", ports[victim].ToString(inv), "--data-dir", Path.Combine(Path.GetTempPath(), "fleet-bench-" + Guid.NewGuid().ToString("N")));
        await WaitOk(urls[victim] + "/ready");
        double readyAt = clock.Elapsed.TotalSeconds;
        double rejoinedAt = double.NaN;
        while (clock.Elapsed.TotalSeconds < readyAt + 60)
        {
            var status = JsonNode.Parse(await http.GetStringAsync("gateway/status"))!;
            if (status["backends"]!.AsArray().Any(b => ((string)b!["address"]!).StartsWith(urls[victim], StringComparison.Ordinal) && (bool)b["available"]!)) { rejoinedAt = clock.Elapsed.TotalSeconds; break; }
            await Task.Delay(100);
        }
        killNote = string.Create(inv, $"replica {urls[victim]} killed at {killedAt:0.0} s (after {total / 3} answers), restarted and ready at {readyAt:0.0} s, back in the gateway's rotation at {rejoinedAt:0.0} s");
    }
    // A request is hung when it has not finished 120 s after the workload's last one started.
    var all = Task.WhenAll(tasks);
    bool finished = await Task.WhenAny(all, Task.Delay(TimeSpan.FromSeconds(600))) == all;
    double wall = clock.Elapsed.TotalSeconds;
    var gw = JsonNode.Parse(await http.GetStringAsync("gateway/status"))!;

    var ok = results.Where(r => r.Outcome == "ok").ToList();
    long prompt = ok.Sum(r => r.PromptTokens), cached = ok.Sum(r => r.CachedTokens);
    var ttft = ok.Select(r => r.Ttft).Order().ToList();
    var later = ok.Where(r => r.Turn > 0).Select(r => r.Ttft).Order().ToList();
    Console.WriteLine(string.Create(inv,
        $"{run}: {results.Count}/{total} answered in {wall:0.0} s; hit ratio {(double)cached / Math.Max(1, prompt):0.000} ({cached}/{prompt} prompt tokens); " +
        $"TTFT p50 {Pct(ttft, 50) * 1000:0} ms p90 {Pct(ttft, 90) * 1000:0} ms mean {ttft.DefaultIfEmpty().Average() * 1000:0} ms; turns 2+ p50 {Pct(later, 50) * 1000:0} ms; " +
        $"failed {results.Count(r => r.Outcome != "ok")} ({string.Join(", ", results.Where(r => r.Outcome != "ok").GroupBy(r => r.Outcome).Select(g => $"{g.Count()} {g.Key}"))}); " +
        $"hung {total - results.Count}{(finished ? "" : " (workload did not finish)")}; gateway retried {gw["retried"]}, broken streams {gw["broken_streams"]}, affinity overrides {gw["affinity_overrides"]}; " +
        $"routed {string.Join("/", gw["backends"]!.AsArray().Select(b => (long)b!["routed"]!))}"));
    if (killNote is not null)
    {
        // Once it is back, the restarted replica gets its conversations again: one more turn of each.
        var after = await Task.WhenAll(Enumerable.Range(0, conversations).Select(c => Ask(http, histories[c], c, turns)));
        Console.WriteLine("  " + killNote + string.Create(inv, $"; then one more turn of each conversation: {after.Count(a => a.Outcome == "ok")}/{conversations} ok, {after.Count(a => a.Backend.StartsWith(urls[1], StringComparison.Ordinal))} served by the restarted replica"));
    }

    gateway.Kill(entireProcessTree: true);
    foreach (var r in replicas) r.Kill(entireProcessTree: true);
}

// A conversation's own opening: ten sums that only it asks (about 150 tokens: every digit is a token of the bundled model).
static string Homework(int c) => "Here are my homework sums, please check them one by one: " +
    string.Join("; ", Enumerable.Range(0, 10).Select(i => $"{1000 + (c * 7919 + i * 104729) % 9000} + {100 + (c * 31 + i * 97) % 900}")) + ". Start with the first.";

static double Pct(List<double> sorted, int p) => sorted.Count == 0 ? double.NaN : sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p / 100.0 * sorted.Count) - 1)];

static async Task<Result> Ask(HttpClient http, JsonArray messages, int conversation, int turn)
{
    var body = new JsonObject
    {
        ["messages"] = messages.DeepClone(), ["max_tokens"] = 32, ["temperature"] = 0, ["stream"] = true,
        ["stream_options"] = new JsonObject { ["include_usage"] = true },
    };
    var sw = Stopwatch.StartNew();
    double ttft = double.NaN;
    var content = new StringBuilder();
    long prompt = 0, cached = 0;
    using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
    try
    {
        using var r = await http.SendAsync(new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions") { Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json") },
            HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        if (r.StatusCode != HttpStatusCode.OK) return new(conversation, turn, $"status {(int)r.StatusCode}", ttft, 0, 0, "");
        string backend = r.Headers.TryGetValues("X-SharpSeek-Backend", out var b) ? b.Single() : "";
        using var reader = new StreamReader(await r.Content.ReadAsStreamAsync(timeout.Token));
        bool doneSeen = false;
        while (await reader.ReadLineAsync(timeout.Token) is { } line)
        {
            if (!line.StartsWith("data: ", StringComparison.Ordinal)) continue;
            string data = line[6..];
            if (data == "[DONE]") { doneSeen = true; break; }
            var chunk = JsonNode.Parse(data)!;
            if (chunk["error"] is not null) return new(conversation, turn, "error event", ttft, 0, 0, "");
            if (chunk["usage"] is { } u && u.GetValueKind() == System.Text.Json.JsonValueKind.Object)
            {
                prompt = (long)u["prompt_tokens"]!;
                cached = (long)u["prompt_cache_hit_tokens"]!;
            }
            if (chunk["choices"] is JsonArray { Count: > 0 } ch && ch[0]!["delta"] is { } d)
            {
                string? text = (string?)d["content"], reasoning = (string?)d["reasoning_content"];
                if (double.IsNaN(ttft) && (!string.IsNullOrEmpty(text) || !string.IsNullOrEmpty(reasoning))) ttft = sw.Elapsed.TotalSeconds;
                if (!string.IsNullOrEmpty(text)) content.Append(text);
            }
        }
        return new(conversation, turn, doneSeen ? "ok" : "cut without an error event", ttft, prompt, cached, content.ToString(), backend);
    }
    catch (OperationCanceledException) { return new(conversation, turn, "timed out (hung)", ttft, 0, 0, ""); }
    catch (Exception e) { return new(conversation, turn, "exception " + e.GetType().Name, ttft, 0, 0, ""); }
}

Process Start(params string[] a)
{
    var psi = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
    psi.ArgumentList.Add("exec");
    psi.ArgumentList.Add(cli);
    foreach (string s in a) psi.ArgumentList.Add(s);
    var p = Process.Start(psi)!;
    p.ErrorDataReceived += (_, _) => { };
    p.OutputDataReceived += (_, _) => { };
    p.BeginErrorReadLine();
    p.BeginOutputReadLine();
    return p;
}

static int FreePort()
{
    using var l = new TcpListener(IPAddress.Loopback, 0);
    l.Start();
    return ((IPEndPoint)l.LocalEndpoint).Port;
}

static async Task WaitOk(string url)
{
    using var h = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
    for (var c = Stopwatch.StartNew(); c.Elapsed < TimeSpan.FromSeconds(120); await Task.Delay(100))
    {
        try { if ((await h.GetAsync(url)).IsSuccessStatusCode) return; }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException) { }
    }
    throw new TimeoutException(url + " never became ready");
}

record Result(int Conversation, int Turn, string Outcome, double Ttft, long PromptTokens, long CachedTokens, string Content, string Backend = "");
