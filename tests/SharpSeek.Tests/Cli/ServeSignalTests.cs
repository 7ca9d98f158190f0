using SharpSeek.Tests.Support;

namespace SharpSeek.Tests.Cli;

/// <summary><c>sharpseek serve</c> as a process: SIGTERM (systemd, docker stop) stops it cleanly and promptly.</summary>
public sealed class ServeSignalTests
{
    [Fact]
    public async Task Sigterm_stops_the_server_and_the_process_exits_with_0()
    {
        var (p, http) = await SharpSeekProcess.ServeAsync(["--model", Fixtures.Path("llamacpp", "models", "tiny-qwen2-f32.gguf")]);
        using (p)
        using (http)
        {
            p.Signal("TERM");
            Assert.True(await p.WaitForExitAsync(TimeSpan.FromSeconds(15)), $"still running 15 s after SIGTERM: {p.Err}");
            Assert.Equal(0, p.ExitCode);
            Assert.Contains("sharpseek: stopped", p.Err);
        }
    }
}
