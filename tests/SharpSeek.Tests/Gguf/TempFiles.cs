namespace SharpSeek.Tests.Gguf;

/// <summary>Unique temporary file paths for tests that write GGUF files.</summary>
internal static class TempFiles
{
    public static string Create(string ext = ".gguf")
    {
        string dir = Path.Combine(Path.GetTempPath(), "sharpseek-tests");
        Directory.CreateDirectory(dir);
        return Path.Combine(dir, Guid.NewGuid().ToString("N") + ext);
    }

    public static void Delete(string path)
    {
        try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
