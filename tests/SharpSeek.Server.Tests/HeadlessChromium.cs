using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace SharpSeek.Server.Tests;

/// <summary>
/// Drives a real headless Chromium over the DevTools protocol (one page, navigate and evaluate), so the web app is
/// tested in a browser without a Playwright download. The browser is Debian's <c>chromium</c> (<c>CHROMIUM_PATH</c> overrides).
/// </summary>
public sealed class HeadlessChromium : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _profile;
    private readonly ClientWebSocket _socket = new();
    private int _nextId;

    private HeadlessChromium(Process process, string profile)
    {
        _process = process;
        _profile = profile;
    }

    /// <summary><c>CHROMIUM_PATH</c> if set, else <c>chromium</c> or <c>chromium-browser</c> on <c>PATH</c>; null when there is none.</summary>
    public static string? ExecutablePath
    {
        get
        {
            if (Environment.GetEnvironmentVariable("CHROMIUM_PATH") is { Length: > 0 } set) return File.Exists(set) ? set : null;
            foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
                foreach (string name in new[] { "chromium", "chromium-browser" })
                    if (File.Exists(Path.Combine(dir, name))) return Path.Combine(dir, name);
            return null;
        }
    }

    public static async Task<HeadlessChromium> StartAsync()
    {
        string exe = ExecutablePath ?? throw new InvalidOperationException("Chromium not found (no CHROMIUM_PATH, no chromium or chromium-browser on PATH); CI requires it (SHARPSEEK_REQUIRE_BROWSER=1): install Debian's chromium");
        string profile = Directory.CreateTempSubdirectory("chromium-").FullName;
        var psi = new ProcessStartInfo(exe)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (string a in new[] { "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--remote-debugging-port=0", $"--user-data-dir={profile}", "about:blank" })
            psi.ArgumentList.Add(a);
        var process = Process.Start(psi)!;
        process.ErrorDataReceived += (_, _) => { };
        process.OutputDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        var browser = new HeadlessChromium(process, profile);
        string portFile = Path.Combine(profile, "DevToolsActivePort");
        var clock = Stopwatch.StartNew();
        while (!File.Exists(portFile) || File.ReadAllLines(portFile).Length < 2)
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(30) || process.HasExited) throw new InvalidOperationException("chromium did not start");
            await Task.Delay(100);
        }
        int port = int.Parse(File.ReadAllLines(portFile)[0]);
        using var http = new HttpClient();
        string? ws = null;
        while (ws is null && clock.Elapsed < TimeSpan.FromSeconds(30))
        {
            var targets = JsonDocument.Parse(await http.GetStringAsync($"http://127.0.0.1:{port}/json/list")).RootElement;
            ws = targets.EnumerateArray().Where(t => t.GetProperty("type").GetString() == "page").Select(t => t.GetProperty("webSocketDebuggerUrl").GetString()).FirstOrDefault();
            if (ws is null) await Task.Delay(100);
        }
        await browser._socket.ConnectAsync(new Uri(ws ?? throw new InvalidOperationException("no page target")), default);
        return browser;
    }

    private async Task<JsonElement> SendAsync(string method, object parameters)
    {
        int id = Interlocked.Increment(ref _nextId);
        byte[] message = JsonSerializer.SerializeToUtf8Bytes(new { id, method, @params = parameters });
        await _socket.SendAsync(message, WebSocketMessageType.Text, true, default);
        var buffer = new byte[1 << 16];
        while (true)
        {
            using var ms = new MemoryStream();
            WebSocketReceiveResult r;
            do
            {
                r = await _socket.ReceiveAsync(buffer, default);
                ms.Write(buffer, 0, r.Count);
            } while (!r.EndOfMessage);
            var doc = JsonDocument.Parse(ms.ToArray()).RootElement;
            if (doc.TryGetProperty("id", out var got) && got.GetInt32() == id)
            {
                if (doc.TryGetProperty("error", out var error)) throw new InvalidOperationException($"{method}: {error}");
                return doc.GetProperty("result").Clone();
            }
        }
    }

    public Task NavigateAsync(string url) => SendAsync("Page.navigate", new { url });

    /// <summary>Runs <paramref name="source"/> in every document before its own scripts (to watch or stub <c>fetch</c>, say).</summary>
    public async Task AddInitScriptAsync(string source)
    {
        await SendAsync("Page.enable", new { });
        await SendAsync("Page.addScriptToEvaluateOnNewDocument", new { source });
    }

    /// <summary>Emulates a screen <paramref name="width"/> × <paramref name="height"/> CSS pixels; <paramref name="mobile"/> also a touch screen.</summary>
    public async Task SetViewportAsync(int width, int height, bool mobile = false)
    {
        await SendAsync("Emulation.setDeviceMetricsOverride", new { width, height, deviceScaleFactor = 1, mobile });
        await SendAsync("Emulation.setTouchEmulationEnabled", new { enabled = mobile, maxTouchPoints = mobile ? 5 : 1 });
    }

    /// <summary>Emulates the system's colour scheme ("light" or "dark") for <c>prefers-color-scheme</c>.</summary>
    public Task SetColorSchemeAsync(string scheme) =>
        SendAsync("Emulation.setEmulatedMedia", new { features = new[] { new { name = "prefers-color-scheme", value = scheme } } });

    /// <summary>Saves a PNG of the viewport to <paramref name="path"/>.</summary>
    public async Task ScreenshotAsync(string path)
    {
        var shot = await SendAsync("Page.captureScreenshot", new { format = "png" });
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await File.WriteAllBytesAsync(path, Convert.FromBase64String(shot.GetProperty("data").GetString()!));
    }

    public Task ReloadAsync() => SendAsync("Page.reload", new { ignoreCache = true });

    /// <summary>Evaluates <paramref name="expression"/> in the page (awaiting promises) and returns its JSON value.</summary>
    public async Task<JsonElement> EvalAsync(string expression)
    {
        var result = await SendAsync("Runtime.evaluate", new { expression, awaitPromise = true, returnByValue = true });
        if (result.TryGetProperty("exceptionDetails", out var ex)) throw new InvalidOperationException("page threw: " + ex);
        return result.GetProperty("result").TryGetProperty("value", out var v) ? v.Clone() : default;
    }

    /// <summary>Polls a boolean expression until true.</summary>
    public async Task WaitForAsync(string condition, TimeSpan? timeout = null)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                if ((await EvalAsync($"!!({condition})")).ValueKind == JsonValueKind.True) return;
            }
            catch (InvalidOperationException) when (clock.Elapsed < (timeout ?? TimeSpan.FromSeconds(60)))
            {
                // The page may be navigating.
            }
            if (clock.Elapsed > (timeout ?? TimeSpan.FromSeconds(60))) throw new TimeoutException("timed out waiting for: " + condition);
            await Task.Delay(100);
        }
    }

    public async ValueTask DisposeAsync()
    {
        try { await _socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, default); } catch (WebSocketException) { }
        _socket.Dispose();
        try { _process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
        await _process.WaitForExitAsync();
        _process.Dispose();
        try { Directory.Delete(_profile, recursive: true); } catch (IOException) { }
    }
}
