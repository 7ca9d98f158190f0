namespace SharpSeek.Hub;

/// <summary>
/// The Hugging Face hub cache layout: <c>$HF_HUB_CACHE</c> or <c>$HF_HOME/hub</c> or <c>~/.cache/huggingface/hub</c>,
/// holding <c>models--owner--repo/{refs/REV, snapshots/COMMIT/…, blobs/…}</c>.
/// </summary>
public static class HubCache
{
    public static string Root
    {
        get
        {
            if (Environment.GetEnvironmentVariable("HF_HUB_CACHE") is { Length: > 0 } hub) return hub;
            if (Environment.GetEnvironmentVariable("HF_HOME") is { Length: > 0 } home) return Path.Combine(home, "hub");
            return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "huggingface", "hub");
        }
    }

    /// <summary>The cache folder of <c>owner/repo</c>.</summary>
    public static string RepoFolder(string repo, string? root = null) => Path.Combine(root ?? Root, "models--" + repo.Replace("/", "--", StringComparison.Ordinal));

    /// <summary>Splits <c>owner/repo[@rev]</c>; null when it is not of that shape.</summary>
    public static (string Repo, string Revision)? ParseReference(string reference)
    {
        string repo = reference, rev = "main";
        int at = reference.IndexOf('@', StringComparison.Ordinal);
        if (at >= 0) { repo = reference[..at]; rev = reference[(at + 1)..]; }
        string[] parts = repo.Split('/');
        if (parts.Length != 2 || parts.Any(p => p.Length == 0 || p.Contains(' ', StringComparison.Ordinal) || p is "." or "..") || rev.Length == 0 || rev.Contains('/', StringComparison.Ordinal) && rev.Contains("..", StringComparison.Ordinal))
            return null;
        return (repo, rev);
    }

    /// <summary>The snapshot folder of a pulled <c>owner/repo[@rev]</c>, or null.</summary>
    public static string? FindSnapshot(string reference, string? root = null)
    {
        if (ParseReference(reference) is not var (repo, rev)) return null;
        string folder = RepoFolder(repo, root);
        string refFile = Path.Combine(folder, "refs", rev);
        string commit = File.Exists(refFile) ? File.ReadAllText(refFile).Trim() : rev;
        string snapshot = Path.Combine(folder, "snapshots", commit);
        return Directory.Exists(snapshot) ? snapshot : null;
    }

    /// <summary>Every pulled repository: (owner/repo, snapshot commits, bytes on disk).</summary>
    public static IReadOnlyList<(string Repo, IReadOnlyList<string> Snapshots, long Bytes)> List(string? root = null)
    {
        root ??= Root;
        var result = new List<(string, IReadOnlyList<string>, long)>();
        if (!Directory.Exists(root)) return result;
        foreach (string dir in Directory.GetDirectories(root, "models--*").Order(StringComparer.Ordinal))
        {
            string name = Path.GetFileName(dir)["models--".Length..];
            int sep = name.IndexOf("--", StringComparison.Ordinal);
            if (sep < 0) continue;
            string repo = name[..sep] + "/" + name[(sep + 2)..];
            string snaps = Path.Combine(dir, "snapshots");
            var commits = Directory.Exists(snaps) ? Directory.GetDirectories(snaps).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).ToList() : [];
            long bytes = Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f) is { LinkTarget: null } fi ? fi.Length : 0);
            result.Add((repo, commits, bytes));
        }
        return result;
    }

    /// <summary>Deletes a pulled repository; false if it was not there.</summary>
    public static bool Remove(string repo, string? root = null)
    {
        if (ParseReference(repo) is not var (name, _)) throw new SharpSeekException($"'{repo}' is not of the form owner/repo");
        string folder = RepoFolder(name, root);
        if (!Directory.Exists(folder)) return false;
        Directory.Delete(folder, recursive: true);
        return true;
    }
}
