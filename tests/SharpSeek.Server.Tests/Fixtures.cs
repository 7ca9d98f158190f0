namespace SharpSeek.Server.Tests;

/// <summary>The repository's test fixtures (see <see cref="SharpSeek.Tests.Fixtures"/>), and the model these tests serve.</summary>
public static class Fixtures
{
    public static string Path(params string[] parts) => SharpSeek.Tests.Fixtures.Path(parts);

    public static string RepoRoot => SharpSeek.Tests.Fixtures.RepoRoot;

    /// <summary>A tiny random-weight DeepSeek-V3 model with DeepSeek's vocabulary.</summary>
    public static string DeepSeekModel => Path("llamacpp", "models", "tiny-ds2-v3-f32.gguf");
}
