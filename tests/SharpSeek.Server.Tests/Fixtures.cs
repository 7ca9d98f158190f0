namespace SharpSeek.Server.Tests;

/// <summary>The repository's test fixtures (see <see cref="SharpSeek.Tests.Fixtures"/>), and the model these tests serve.</summary>
public static class Fixtures
{
    public static string Path(params string[] parts) => SharpSeek.Tests.Fixtures.Path(parts);

    public static string RepoRoot => SharpSeek.Tests.Fixtures.RepoRoot;

    /// <summary>The bundled model (a trained 1.6 M-parameter DeepSeek-V3 with R1's Jinja chat template in its tokenizer_config.json).</summary>
    public static string BundledModel => System.IO.Path.Combine(RepoRoot, "models", "sharpseek-tiny");

    /// <summary>A tiny random-weight DeepSeek-V3 model with DeepSeek's vocabulary.</summary>
    public static string DeepSeekModel => Path("llamacpp", "models", "tiny-ds2-v3-f32.gguf");
}
