using SharpSeek.Tests.Support;

namespace SharpSeek.Tests.Cli;

/// <summary>
/// <c>sharpseek serve</c> as a process: SIGTERM (systemd, docker stop) stops it cleanly and promptly; each request is a
/// log line on stderr; the operations flags parse.
/// </summary>
[Collection("Console")]
public sealed class ServeSignalTests
{
    [Fact]
    public async Task Sigterm_stops_the_server_and_the_process_exits_with_0()
    {
        var (p, http) = await SharpSeekProcess.ServeAsync(["--model", Fixtures.Path("llamacpp", "models", "tiny-qwen2-f32.gguf"),
            "--cors-origin", "http://localhost:3000", "--cors-origin", "https://app.example", "--metrics-public", "--api-key", "k"]);
        using (p)
        using (http)
        {
            // Public despite the key (--metrics-public), and logged.
            Assert.True((await http.GetAsync("metrics")).IsSuccessStatusCode);
            for (int i = 0; i < 50 && !p.Err.Contains("GET /metrics", StringComparison.Ordinal); i++) await Task.Delay(100);
            Assert.Matches(@"info: SharpSeek\.Server\.Requests\[1\] GET /metrics model=- status=200 prompt_tokens=0 completion_tokens=0 ms=[\d.]+", p.Err);
            p.Signal("TERM");
            Assert.True(await p.WaitForExitAsync(TimeSpan.FromSeconds(15)), $"still running 15 s after SIGTERM: {p.Err}");
            Assert.Equal(0, p.ExitCode);
            Assert.Contains("sharpseek: stopped", p.Err);
        }
    }

    [Theory]
    [InlineData("localhost:3000")]
    [InlineData("http://localhost:3000/")]
    [InlineData("http://localhost:3000/app")]
    [InlineData("ftp://files.example")]
    public void A_cors_origin_that_is_not_an_origin_is_refused(string origin)
    {
        var (code, _, err) = CliRunner.Run("serve", "--port", "0", "--cors-origin", origin);
        Assert.Equal(1, code);
        Assert.Contains($"--cors-origin '{origin}' is not an origin", err, StringComparison.Ordinal);
    }
}
