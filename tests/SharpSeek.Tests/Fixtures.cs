namespace SharpSeek.Tests;

/// <summary>Locates the shared golden fixtures: <c>SHARPSEEK_FIXTURES</c>, else <c>../shared/fixtures</c> beside the repository. Missing fixtures fail the test.</summary>
public static class Fixtures
{
    private static readonly Lazy<string> RootPath = new(Find);

    public static string Root => RootPath.Value;

    public static string Path(params string[] parts) => System.IO.Path.Combine([Root, .. parts]);

    public static string RepoRoot
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(System.IO.Path.Combine(dir.FullName, "SharpSeek.slnx"))) dir = dir.Parent;
            return dir?.FullName ?? throw new InvalidOperationException("cannot find the repository root (SharpSeek.slnx) above " + AppContext.BaseDirectory);
        }
    }

    private static string Find()
    {
        string? env = Environment.GetEnvironmentVariable("SHARPSEEK_FIXTURES");
        if (!string.IsNullOrEmpty(env))
        {
            if (!Directory.Exists(env)) throw new InvalidOperationException($"SHARPSEEK_FIXTURES points to '{env}', which does not exist");
            return env;
        }
        string candidate = System.IO.Path.GetFullPath(System.IO.Path.Combine(RepoRoot, "..", "shared", "fixtures"));
        if (!Directory.Exists(candidate))
            throw new InvalidOperationException($"golden fixtures not found at {candidate}; set SHARPSEEK_FIXTURES");
        return candidate;
    }
}
