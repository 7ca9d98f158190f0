using System.Net;
using System.Text;
using SharpSeek.Tests.Support;

namespace SharpSeek.Tests.Cli;

/// <summary>
/// Issue 17.3 with a real <c>sharpseek serve</c> process: FIFOs under the names of the prefix blocks a prompt needs used
/// to hang the scheduler in open() while it held the prefix-cache lock, so completions and /metrics never answered and
/// SIGTERM did not stop the process. Now they are skipped, and everything keeps answering.
/// </summary>
public sealed class ServePrefixFifoTests : IDisposable
{
    private readonly TempDir _cache = new(), _data = new();

    public void Dispose()
    {
        _cache.Dispose();
        _data.Dispose();
    }

    private static readonly string Body = "{\"max_tokens\":2,\"temperature\":0,\"messages\":[{\"role\":\"system\",\"content\":\"" +
        string.Concat(Enumerable.Repeat("SharpSeek keeps the context of long prompts on disk so that a restart does not lose it. ", 4)) +
        "\"},{\"role\":\"user\",\"content\":\"Summarise that.\"}]}";

    private Task<(SharpSeekProcess, HttpClient)> Serve() =>
        SharpSeekProcess.ServeAsync(["--model", Fixtures.Path("llamacpp", "models", "tiny-ds2-v3-q8_0.gguf"), "--ctx", "512",
            "--prefix-cache-dir", _cache.Path, "--data-dir", _data.Path]);

    [Fact]
    public async Task Fifos_in_the_prefix_cache_dir_do_not_hang_the_server()
    {
        var (first, http1) = await Serve();
        using (first)
        using (http1)
        {
            using var r = await http1.PostAsync("v1/chat/completions", new StringContent(Body, Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            first.Signal("TERM");
            Assert.True(await first.WaitForExitAsync(TimeSpan.FromSeconds(15)));
        }
        var blocks = Directory.GetFiles(_cache.Path, "*.kvblock");
        Assert.NotEmpty(blocks);
        foreach (var f in blocks)
        {
            File.Delete(f);
            Fifo.Make(f);
        }

        var (server, http) = await Serve();
        using (server)
        using (http)
        {
            using (var r = await http.PostAsync("v1/chat/completions", new StringContent(Body, Encoding.UTF8, "application/json")))
                Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            string metrics = await http.GetStringAsync("metrics");
            Assert.Contains("sharpseek_prefix_cache_disk_bytes", metrics);
            // A FIFO made after the start is met at load time rather than by the scan: the same.
            foreach (var f in Directory.GetFiles(_cache.Path, "*.kvblock").Where(f => new FileInfo(f).Length > 0))
            {
                File.Delete(f);
                Fifo.Make(f);
            }
            using (var r = await http.PostAsync("v1/chat/completions", new StringContent(Body.Replace("Summarise", "Shorten", StringComparison.Ordinal), Encoding.UTF8, "application/json")))
                Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            Assert.Contains("sharpseek_requests_completed_total", await http.GetStringAsync("metrics"));
            server.Signal("TERM");
            Assert.True(await server.WaitForExitAsync(TimeSpan.FromSeconds(15)), $"still running 15 s after SIGTERM: {server.Err}");
            Assert.Equal(0, server.ExitCode);
            Assert.Contains("FIFO", server.Err);
        }
    }
}
