using SharpSeek.Formats.Gguf;
using SharpSeek.Formats.Safetensors;

namespace SharpSeek.Hub;

/// <summary>A model in the hub cache as <c>list</c> shows it: a GGUF file (one quantization) or a safetensors snapshot.</summary>
/// <param name="Name">What <c>--model</c> takes: <c>owner/repo</c>, with <c>:QUANT</c> for a GGUF repository holding several, and <c>@commit</c> for an older snapshot.</param>
/// <param name="Path">The GGUF file, or the snapshot folder.</param>
public sealed record CachedModel(string Name, string Repo, string Commit, RepoFormat Format, string Quantization, long Bytes, DateTime Modified, string Path);

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

    /// <summary>The snapshot folder of a pulled <c>owner/repo[@rev]</c> (a <c>:selector</c> is ignored), or null.</summary>
    public static string? FindSnapshot(string reference, string? root = null)
    {
        if (HubReference.TryParse(reference) is not { } r) return null;
        string folder = RepoFolder(r.Repo, root);
        string refFile = Path.Combine(folder, "refs", r.Revision);
        string commit = File.Exists(refFile) ? File.ReadAllText(refFile).Trim() : r.Revision;
        string snapshots = Path.Combine(folder, "snapshots");
        // A cache laid out without refs/ (copied by hand): "main" is its newest snapshot.
        if (!File.Exists(refFile) && r.Revision == HubReference.DefaultRevision && Directory.Exists(snapshots) && !Directory.Exists(Path.Combine(snapshots, commit)))
            commit = new DirectoryInfo(snapshots).GetDirectories().MaxBy(d => d.LastWriteTimeUtc)?.Name ?? commit;
        string snapshot = Path.Combine(snapshots, commit);
        return Directory.Exists(snapshot) && Directory.EnumerateFileSystemEntries(snapshot).Any() ? snapshot : null;
    }

    /// <summary>
    /// What <c>--model owner/repo[:QUANT|:FILE]</c> loads: in a GGUF snapshot the file the same rule as <c>pull</c> picks
    /// among the ones pulled (<see cref="PullPlan.Choose"/>), else the snapshot folder; null when it is not pulled.
    /// </summary>
    public static string? FindModel(string reference, string? root = null)
    {
        if (HubReference.TryParse(reference) is not { } r || FindSnapshot(reference, root) is not { } snapshot) return null;
        var files = LocalFiles(snapshot);
        bool gguf = files.Any(f => f.Path.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase));
        // A snapshot without weights is a pull that did not finish: nothing to load.
        if (!gguf && !files.Any(f => f.Path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase))) return null;
        if (r.Selector is null && !gguf) return snapshot;
        PullPlan plan;
        try { plan = PullPlan.Choose(r.Repo, files, r.Selector); }
        catch (SharpSeekException e) { throw new SharpSeekException($"{e.Message} (in the hub cache; pull it first: sharpseek pull {reference})"); }
        return plan.ModelFile is { } f ? Path.Combine(snapshot, f.Path) : snapshot;
    }

    /// <summary>The files of a snapshot, with their sizes (of the blobs they link to).</summary>
    private static List<RepoFile> LocalFiles(string snapshot) =>
        Directory.EnumerateFiles(snapshot, "*", SearchOption.AllDirectories)
            .Select(f => new RepoFile(Path.GetRelativePath(snapshot, f).Replace('\\', '/'), Size(f)))
            .OrderBy(f => f.Path, StringComparer.Ordinal).ToList();

    private static long Size(string path)
    {
        var info = new FileInfo(path);
        return info.LinkTarget is not null && info.ResolveLinkTarget(returnFinalTarget: true) is FileInfo { Exists: true } target ? target.Length : info.Length;
    }

    private static DateTime Modified(string path)
    {
        var info = new FileInfo(path);
        return info.LinkTarget is not null && info.ResolveLinkTarget(returnFinalTarget: true) is FileInfo { Exists: true } target ? target.LastWriteTimeUtc : info.LastWriteTimeUtc;
    }

    /// <summary>Every model in the cache: one per GGUF file (shards together) and one per safetensors snapshot, newest first.</summary>
    public static IReadOnlyList<CachedModel> List(string? root = null)
    {
        root ??= Root;
        var result = new List<CachedModel>();
        if (!Directory.Exists(root)) return result;
        foreach (string dir in Directory.GetDirectories(root, "models--*").Order(StringComparer.Ordinal))
        {
            string name = Path.GetFileName(dir)["models--".Length..];
            int sep = name.IndexOf("--", StringComparison.Ordinal);
            if (sep < 0) continue;
            string repo = name[..sep] + "/" + name[(sep + 2)..];
            string snaps = Path.Combine(dir, "snapshots");
            if (!Directory.Exists(snaps)) continue;
            string? current = File.Exists(Path.Combine(dir, "refs", "main")) ? File.ReadAllText(Path.Combine(dir, "refs", "main")).Trim() : null;
            foreach (string snapshot in Directory.GetDirectories(snaps).Order(StringComparer.Ordinal))
            {
                string commit = Path.GetFileName(snapshot);
                string at = current is null || commit == current ? "" : "@" + commit[..Math.Min(12, commit.Length)];
                var files = LocalFiles(snapshot);
                if (files.Count == 0) continue;
                var ggufs = PullPlan.GgufModels(files);
                foreach (var g in ggufs)
                {
                    string path = Path.Combine(snapshot, g.Files[0].Path);
                    string label = ggufs.Count > 1 ? $"{repo}{at}:{g.Quant}" : repo + at;
                    string quant = PullPlan.QuantOf(g.Files[0].Path) ?? GgufQuantization(path);
                    result.Add(new CachedModel(label, repo, commit, RepoFormat.Gguf, quant, g.Bytes, g.Files.Max(f => Modified(Path.Combine(snapshot, f.Path))), path));
                }
                var weights = files.Where(f => f.Path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase)).ToList();
                if (weights.Count > 0)
                    result.Add(new CachedModel(repo + at, repo, commit, RepoFormat.Safetensors, SafetensorsQuantization(snapshot, weights),
                        files.Where(f => !f.Path.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase)).Sum(f => f.Size),
                        files.Max(f => Modified(Path.Combine(snapshot, f.Path))), snapshot));
            }
        }
        return result.OrderByDescending(m => m.Modified).ThenBy(m => m.Name, StringComparer.Ordinal).ToList();
    }

    /// <summary>The type most of a GGUF file's weight bytes are stored in (general.file_type is not always set).</summary>
    private static string GgufQuantization(string path)
    {
        try
        {
            using var f = new GgufFile(path);
            return f.Tensors.Where(t => t.Shape.Length >= 2).GroupBy(t => GgmlTypeInfo.Name(t.Type)).MaxBy(g => g.Sum(t => t.ByteLength))?.Key ?? "?";
        }
        catch (Exception e) when (e is SharpSeekException or IOException) { return "unreadable"; }
    }

    /// <summary>The dtype most of the weight bytes are stored in (F8_E4M3 with DeepSeek's block scales is FP8).</summary>
    private static string SafetensorsQuantization(string snapshot, List<RepoFile> weights)
    {
        var bytes = new Dictionary<string, long>(StringComparer.Ordinal);
        try
        {
            foreach (var w in weights)
            {
                using var f = new SafetensorsFile(Path.Combine(snapshot, w.Path));
                foreach (var e in f.Entries.Values)
                    if (e.Shape.Length >= 2) bytes[e.DType] = bytes.GetValueOrDefault(e.DType) + (e.End - e.Begin);
            }
        }
        catch (Exception e) when (e is SharpSeekException or IOException) { return "unreadable"; }
        return bytes.Count == 0 ? "?" : bytes.MaxBy(kv => kv.Value).Key;
    }

    /// <summary>Deletes a pulled repository; false if it was not there.</summary>
    public static bool Remove(string repo, string? root = null)
    {
        if (HubReference.TryParse(repo) is not { } r) throw new SharpSeekException($"'{repo}' is not of the form owner/repo");
        if (r.Selector is not null) throw new SharpSeekException($"rm removes a whole repository with every file pulled from it: give {r.Repo}, without :{r.Selector}");
        string folder = RepoFolder(r.Repo, root);
        if (!Directory.Exists(folder)) return false;
        Directory.Delete(folder, recursive: true);
        return true;
    }
}
