using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace SharpSeek.Tests.Support;

/// <summary>
/// The real <c>sharpseek</c> command as a child process (<c>dotnet exec sharpseek.dll</c> from the test's output folder):
/// one-shot runs, and servers that tests signal, kill -9 and measure.
/// </summary>
public sealed class SharpSeekProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _out = new(), _err = new();

    private SharpSeekProcess(IEnumerable<string> args, IReadOnlyDictionary<string, string>? env)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true, RedirectStandardInput = true, UseShellExecute = false };
        psi.ArgumentList.Add("exec");
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "sharpseek.dll"));
        foreach (string a in args) psi.ArgumentList.Add(a);
        if (env is not null) foreach (var (k, v) in env) psi.Environment[k] = v;
        _process = Process.Start(psi)!;
        _process.StandardInput.Close();
        _process.OutputDataReceived += (_, e) => { lock (_out) _out.AppendLine(e.Data); };
        _process.ErrorDataReceived += (_, e) => { lock (_err) _err.AppendLine(e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public int Id => _process.Id;
    public bool HasExited => _process.HasExited;
    public int ExitCode => _process.ExitCode;
    public string Out { get { lock (_out) return _out.ToString(); } }
    public string Err { get { lock (_err) return _err.ToString(); } }

    /// <summary>Runs <c>sharpseek ARGS</c> to its end (failing the test after <paramref name="timeout"/>).</summary>
    public static async Task<(int Code, string Out, string Err)> RunAsync(IEnumerable<string> args, IReadOnlyDictionary<string, string>? env = null, TimeSpan? timeout = null)
    {
        using var p = new SharpSeekProcess(args, env);
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(120));
        try { await p._process.WaitForExitAsync(cts.Token); }
        catch (OperationCanceledException) { Assert.Fail($"sharpseek {string.Join(' ', args)} did not finish: {p.Err}"); }
        p._process.WaitForExit();
        return (p.ExitCode, p.Out, p.Err);
    }

    /// <summary>Starts <c>sharpseek serve ARGS --port P</c> on a free port and waits until /ready answers 200 (the model is loaded).</summary>
    public static async Task<(SharpSeekProcess Process, HttpClient Http)> ServeAsync(IEnumerable<string> args, IReadOnlyDictionary<string, string>? env = null)
    {
        int port;
        using (var probe = new TcpListener(System.Net.IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
        }
        var p = new SharpSeekProcess(["serve", .. args, "--port", port.ToString(CultureInfo.InvariantCulture)], env);
        var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = TimeSpan.FromSeconds(30) };
        var ready = Stopwatch.StartNew();
        while (true)
        {
            try { if ((await http.GetAsync("ready")).IsSuccessStatusCode) break; }
            catch (HttpRequestException) { }
            if (p.HasExited || ready.Elapsed > TimeSpan.FromSeconds(60))
            {
                http.Dispose();
                p.Dispose();
                Assert.Fail($"server not ready: {p.Err}");
            }
            await Task.Delay(100);
        }
        return (p, http);
    }

    /// <summary>Resident set size (VmRSS) in bytes, from /proc.</summary>
    public long ResidentBytes()
    {
        foreach (string line in File.ReadLines($"/proc/{Id}/status"))
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
        throw new InvalidOperationException("no VmRSS line");
    }

    /// <summary>SIGKILL now (kill -9): no shutdown code runs.</summary>
    public void KillHard()
    {
        _process.Kill();
        _process.WaitForExit(10_000);
    }

    public void Signal(string signal)
    {
        using var kill = Process.Start("kill", ["-" + signal, Id.ToString(CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    /// <summary>Waits for the process to exit; false when it is still running after <paramref name="timeout"/>.</summary>
    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try { await _process.WaitForExitAsync(cts.Token); }
        catch (OperationCanceledException) { return false; }
        _process.WaitForExit();
        return true;
    }

    public void Dispose()
    {
        try { if (!_process.HasExited) _process.Kill(entireProcessTree: true); }
        catch (InvalidOperationException) { }
        _process.WaitForExit(10_000);
        _process.Dispose();
    }
}

/// <summary>Named pipes for tests of code that must never block on one.</summary>
public static class Fifo
{
    public static void Make(string path)
    {
        using var p = System.Diagnostics.Process.Start("mkfifo", [path]);
        p.WaitForExit();
        Assert.Equal(0, p.ExitCode);
    }
}
