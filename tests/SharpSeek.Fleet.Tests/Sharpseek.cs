using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace SharpSeek.Fleet.Tests;

/// <summary>The repository, and <c>sharpseek</c> run as a real process from the CLI's own output folder.</summary>
public static class Repo
{
    public static string Root
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "SharpSeek.slnx"))) dir = dir.Parent;
            return dir?.FullName ?? throw new InvalidOperationException("cannot find the repository root above " + AppContext.BaseDirectory);
        }
    }

    /// <summary>Release or Debug, as this test assembly was built (…/bin/CONFIG/net10.0/).</summary>
    public static string Configuration => new DirectoryInfo(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory)).Parent!.Name;

    public static string Cli => Path.Combine(Root, "src", "SharpSeek.Cli", "bin", Configuration, "net10.0", "sharpseek.dll");

    public static string TinyModel => Path.Combine(Root, "models", "sharpseek-tiny");

    public static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}

/// <summary>A <c>sharpseek</c> process with its stderr collected; killed (the whole process) on dispose.</summary>
public sealed class SharpseekProcess : IDisposable
{
    private readonly StringBuilder _err = new();

    public SharpseekProcess(params string[] args)
    {
        Assert.True(File.Exists(Repo.Cli), $"the CLI is not built at {Repo.Cli}");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        psi.ArgumentList.Add("exec");
        psi.ArgumentList.Add(Repo.Cli);
        foreach (string a in args) psi.ArgumentList.Add(a);
        Process = Process.Start(psi)!;
        Process.ErrorDataReceived += (_, e) => { lock (_err) _err.AppendLine(e.Data); };
        Process.OutputDataReceived += (_, _) => { };
        Process.BeginErrorReadLine();
        Process.BeginOutputReadLine();
    }

    public Process Process { get; }

    public string Stderr { get { lock (_err) return _err.ToString(); } }

    /// <summary>A replica: <c>sharpseek serve</c> with the bundled model on <paramref name="port"/>.</summary>
    public static SharpseekProcess Replica(int port, params string[] extra) => new(["serve", "--model", Repo.TinyModel, "--port", port.ToString(CultureInfo.InvariantCulture),
        "--data-dir", Path.Combine(Path.GetTempPath(), "sharpseek-fleet-" + Guid.NewGuid().ToString("N")), .. extra]);

    /// <summary>Waits until GET <paramref name="url"/> answers 200.</summary>
    public async Task WaitOkAsync(string url, TimeSpan? within = null)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var clock = Stopwatch.StartNew();
        while (true)
        {
            Assert.False(Process.HasExited, $"exited with {(Process.HasExited ? Process.ExitCode : 0)}: {Stderr}");
            try { if ((await http.GetAsync(url)).IsSuccessStatusCode) return; }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException) { }
            Assert.True(clock.Elapsed < (within ?? TimeSpan.FromSeconds(60)), $"{url} not ready: {Stderr}");
            await Task.Delay(100);
        }
    }

    public void Dispose()
    {
        if (!Process.HasExited) Process.Kill(entireProcessTree: true);
        Process.WaitForExit(10_000);
        Process.Dispose();
    }
}
