namespace SharpSeek.Server.Tests;

/// <summary>Locates the shared fixtures: <c>SHARPSEEK_FIXTURES</c>, else <c>../shared/fixtures</c> beside the repository.</summary>
public static class Fixtures
{
    public static string Path(params string[] parts)
    {
        string? env = Environment.GetEnvironmentVariable("SHARPSEEK_FIXTURES");
        string root = !string.IsNullOrEmpty(env) ? env : System.IO.Path.GetFullPath(System.IO.Path.Combine(RepoRoot, "..", "shared", "fixtures"));
        return System.IO.Path.Combine([root, .. parts]);
    }

    public static string RepoRoot
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(System.IO.Path.Combine(dir.FullName, "SharpSeek.slnx"))) dir = dir.Parent;
            return dir?.FullName ?? throw new InvalidOperationException("cannot find the repository root above " + AppContext.BaseDirectory);
        }
    }

    /// <summary>The bundled model (a trained 1.6 M-parameter DeepSeek-V3 with R1's Jinja chat template in its tokenizer_config.json).</summary>
    public static string BundledModel => System.IO.Path.Combine(RepoRoot, "models", "sharpseek-tiny");

    /// <summary>A tiny random-weight DeepSeek-V3 model with DeepSeek's vocabulary.</summary>
    public static string DeepSeekModel => Path("llamacpp", "models", "tiny-ds2-v3-f32.gguf");
}
