using System.Diagnostics;
using System.Net.Sockets;

namespace SharpSeek.Tests.Cli;

/// <summary><c>sharpseek serve</c> as a process: SIGTERM (systemd, docker stop) stops it cleanly and promptly.</summary>
public sealed class ServeSignalTests
{
    [Fact]
    public async Task Sigterm_stops_the_server_and_the_process_exits_with_0()
    {
        int port;
        using (var probe = new TcpListener(System.Net.IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
        }
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (string a in (string[])["exec", Path.Combine(AppContext.BaseDirectory, "sharpseek.dll"), "serve", "--model",
                     Fixtures.Path("llamacpp", "models", "tiny-qwen2-f32.gguf"), "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture)])
            psi.ArgumentList.Add(a);
        using Process p = Process.Start(psi)!;
        var err = new System.Text.StringBuilder();
        p.ErrorDataReceived += (_, e) => { lock (err) err.AppendLine(e.Data); };
        p.BeginErrorReadLine();
        p.BeginOutputReadLine();
        try
        {
            using var http = new HttpClient();
            var ready = Stopwatch.StartNew();
            while (true)
            {
                try { if ((await http.GetAsync($"http://127.0.0.1:{port}/ready")).IsSuccessStatusCode) break; }
                catch (HttpRequestException) { }
                Assert.True(ready.Elapsed < TimeSpan.FromSeconds(60), $"server not ready: {err}");
                await Task.Delay(200);
            }
            using (var kill = Process.Start("kill", ["-TERM", p.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])) kill.WaitForExit();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            try { await p.WaitForExitAsync(timeout.Token); }
            catch (OperationCanceledException) { Assert.Fail($"still running 15 s after SIGTERM: {err}"); }
            Assert.Equal(0, p.ExitCode);
            lock (err) Assert.Contains("sharpseek: stopped", err.ToString());
        }
        finally
        {
            if (!p.HasExited) p.Kill();
        }
    }
}
