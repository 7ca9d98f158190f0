using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using SharpSeek.Tests.Support;

namespace SharpSeek.Tests.Cli;

/// <summary>
/// <c>sharpseek serve</c> as a process, drained by SIGTERM as Kubernetes does it: <c>/ready</c> turns 503, new requests get
/// 503 with Retry-After, a short running request finishes, a long one is cancelled after <c>--drain-seconds</c> with an
/// error event, and the process exits 0.
/// </summary>
public sealed class ServeDrainTests
{
    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    [Fact]
    public async Task Sigterm_drains_then_exits_0()
    {
        var (p, http) = await SharpSeekProcess.ServeAsync(["--model", Fixtures.Path("llamacpp", "models", "tiny-qwen2-f32.gguf"), "--parallel", "5", "--drain-seconds", "2",
            "--data-dir", Path.Combine(Path.GetTempPath(), "sharpseek-drain-" + Guid.NewGuid().ToString("N"))]);
        using (p)
        using (http)
        {
            // Four choices of up to 4,000 tokens: far longer than the 2 s of drain; and a short one that finishes in it.
            using var endless = await http.SendAsync(new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions")
            {
                Content = Json("""{"messages":[{"role":"user","content":"hi"}],"max_tokens":100000,"ignore_eos":true,"stream":true,"n":4}"""),
            }, HttpCompletionOption.ResponseHeadersRead);
            var endlessBody = endless.Content.ReadAsStringAsync();
            var shortOne = http.PostAsync("v1/chat/completions", Json("""{"messages":[{"role":"user","content":"hi"}],"max_tokens":3,"ignore_eos":true}"""));
            for (var clock = Stopwatch.StartNew(); !(await http.GetStringAsync("metrics")).Contains("\nsharpseek_requests_in_flight 2\n") && !shortOne.IsCompleted; await Task.Delay(5))
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), "the two requests never ran together");

            var sent = Stopwatch.StartNew();
            p.Signal("TERM");
            HttpResponseMessage ready;
            while ((ready = await http.GetAsync("ready")).StatusCode == HttpStatusCode.OK)
            {
                ready.Dispose();
                Assert.True(sent.Elapsed < TimeSpan.FromSeconds(5), "/ready still 200 after SIGTERM");
                await Task.Delay(20);
            }
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
            ready.Dispose();
            using (var refused = await http.PostAsync("v1/chat/completions", Json("""{"messages":[{"role":"user","content":"hi"}],"max_tokens":3}""")))
            {
                Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
                Assert.NotNull(refused.Headers.RetryAfter);
                Assert.Equal("server_draining", JsonDocument.Parse(await refused.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetProperty("code").GetString());
            }

            using (var done = await shortOne)
                Assert.True(done.StatusCode == HttpStatusCode.OK, await done.Content.ReadAsStringAsync());
            string body = await endlessBody.WaitAsync(TimeSpan.FromSeconds(20));
            string last = body.Split("\n\n", StringSplitOptions.RemoveEmptyEntries)[^1];
            Assert.StartsWith("data: {\"error\":", last);
            Assert.Contains("server_draining", last);

            Assert.True(await p.WaitForExitAsync(TimeSpan.FromSeconds(20)), $"still running 20 s after SIGTERM: {p.Err}");
            Assert.Equal(0, p.ExitCode);
            // Not before the drain time (the long request held it), and not long after.
            Assert.InRange(sent.Elapsed, TimeSpan.FromSeconds(1.9), TimeSpan.FromSeconds(15));
            Assert.Contains("sharpseek: drained (1 request(s) cancelled after 2 s)", p.Err);
            Assert.Contains("sharpseek: stopped", p.Err);
        }
    }
}
