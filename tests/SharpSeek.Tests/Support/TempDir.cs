namespace SharpSeek.Tests.Support;

/// <summary>A temporary directory removed on dispose.</summary>
public sealed class TempDir : IDisposable
{
    public TempDir()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "sharpseek-test-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    /// <summary>Copies every file of <paramref name="source"/> here.</summary>
    public TempDir CopyFrom(string source, params string[] only)
    {
        foreach (var f in Directory.GetFiles(source))
            if (only.Length == 0 || only.Contains(System.IO.Path.GetFileName(f)))
                System.IO.File.Copy(f, File(System.IO.Path.GetFileName(f)));
        return this;
    }

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
    }
}
