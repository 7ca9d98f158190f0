using System.Globalization;
using System.Text.RegularExpressions;

namespace SharpSeek.Hub;

/// <summary>A file of a hub repository: its path, size, and what the hub says its content hashes to.</summary>
/// <param name="Sha256">SHA-256 of an LFS file's content (the hub's <c>lfs.sha256</c>).</param>
/// <param name="GitOid">The git blob id (SHA-1 of <c>"blob {size}\0" + content</c>) of a file stored in git itself.</param>
public sealed record RepoFile(string Path, long Size, string? Sha256 = null, string? GitOid = null);

/// <summary>What a repository holds: GGUF files (one model per quantization), safetensors weights, or neither.</summary>
public enum RepoFormat { Gguf, Safetensors }

/// <summary>One GGUF model of a repository: its quantization tag and its file, or its shards in order.</summary>
public sealed record GgufChoice(string Quant, IReadOnlyList<RepoFile> Files)
{
    public long Bytes => Files.Sum(f => f.Size);
}

/// <summary>
/// Which files of a repository a pull fetches, and why. A GGUF repository holds one model per quantization: a
/// <c>:QUANT</c> selector picks that one, <c>:FILE</c> a file, and no selector picks Q4_K_M when there is one, else the
/// smallest (as llama.cpp's <c>-hf</c> does). A safetensors repository gets what it takes to run: the weights and their
/// index, the configs, the tokenizer and chat template files, and the licence and readme.
/// </summary>
public sealed record PullPlan(RepoFormat Format, IReadOnlyList<RepoFile> Files, string? Quant, string Why, IReadOnlyList<GgufChoice> Available)
{
    public const string DefaultQuant = "Q4_K_M";

    public long Bytes => Files.Sum(f => f.Size);

    /// <summary>The file a loader opens: the GGUF file (its first shard), or null for a safetensors folder.</summary>
    public RepoFile? ModelFile => Format == RepoFormat.Gguf ? Files[0] : null;

    // A quantization tag in a file name: ggml's type names (Q4_K_M, IQ4_XS, Q8_0, TQ1_0, MXFP4, F16, BF16, …), also
    // with the "UD-" prefix some uploaders use; delimited by '-', '_', '.' or the ends of the name.
    private static readonly Regex QuantTag = new(
        @"(?<![A-Za-z0-9])((?:UD-)?(?:I?Q[1-8](?:_[A-Z0-9]{1,4})*|TQ[12]_0|BF16|F16|FP16|F32|MXFP4(?:_MOE)?))(?![A-Za-z0-9])",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);

    private static readonly Regex Shard = new(@"-(\d{5})-of-(\d{5})\.gguf$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);

    /// <summary>The quantization tag of a GGUF path (upper case), from its file name or else its folder; null when none.</summary>
    public static string? QuantOf(string path)
    {
        string name = System.IO.Path.GetFileName(path);
        string stem = Shard.Replace(name, ".gguf");
        stem = stem.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase) ? stem[..^5] : stem;
        var m = QuantTag.Matches(stem);
        if (m.Count > 0) return m[^1].Groups[1].Value.ToUpperInvariant();
        string? folder = System.IO.Path.GetDirectoryName(path)?.Replace('\\', '/').Split('/').LastOrDefault(s => s.Length > 0);
        return folder is not null && QuantTag.Match(folder) is { Success: true } f && f.Length == folder.Length ? f.Groups[1].Value.ToUpperInvariant() : null;
    }

    /// <summary>The GGUF models of a listing, one per quantization and base name (shards together, first shard first).</summary>
    public static IReadOnlyList<GgufChoice> GgufModels(IEnumerable<RepoFile> files)
    {
        var groups = new Dictionary<string, (string Quant, List<RepoFile> Files)>(StringComparer.OrdinalIgnoreCase);
        foreach (var f in files)
        {
            string name = System.IO.Path.GetFileName(f.Path);
            if (!name.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase)) continue;
            if (name.StartsWith("mmproj", StringComparison.OrdinalIgnoreCase) || name.Contains("mmproj", StringComparison.OrdinalIgnoreCase)) continue;   // vision projectors, not models
            string key = Shard.Replace(f.Path, ".gguf");
            string quant = QuantOf(f.Path) ?? System.IO.Path.GetFileNameWithoutExtension(key);
            if (!groups.TryGetValue(key, out var g)) groups[key] = g = (quant, []);
            g.Files.Add(f);
        }
        return groups.Values
            .Select(g => new GgufChoice(g.Quant, g.Files.OrderBy(f => f.Path, StringComparer.Ordinal).ToList()))
            .OrderBy(c => c.Bytes).ThenBy(c => c.Quant, StringComparer.Ordinal).ToList();
    }

    /// <summary>Chooses what to fetch from <paramref name="files"/> for <paramref name="selector"/> (a quantization, a file, or null).</summary>
    public static PullPlan Choose(string repo, IReadOnlyList<RepoFile> files, string? selector)
    {
        var ggufs = GgufModels(files);
        if (selector is not null && files.FirstOrDefault(f => f.Path == selector || (!selector.Contains('/') && System.IO.Path.GetFileName(f.Path) == selector)) is { } exact)
        {
            // A named file; a shard brings its siblings, since the model is all of them.
            var whole = ggufs.FirstOrDefault(c => c.Files.Contains(exact));
            return whole is not null
                ? new PullPlan(RepoFormat.Gguf, whole.Files, whole.Quant, $"{exact.Path} as asked" + (whole.Files.Count > 1 ? $" ({whole.Files.Count} shards)" : ""), ggufs)
                : new PullPlan(exact.Path.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase) ? RepoFormat.Gguf : RepoFormat.Safetensors, [exact], QuantOf(exact.Path), $"{exact.Path} as asked", ggufs);
        }
        if (ggufs.Count > 0)
        {
            if (selector is not null)
            {
                if (selector.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase) || selector.Contains('/'))
                    throw new SharpSeekException($"{repo} has no file '{selector}'; its GGUF models: {Describe(ggufs)}");
                var matches = ggufs.Where(c => string.Equals(c.Quant, selector, StringComparison.OrdinalIgnoreCase)).ToList();
                if (matches.Count == 0) throw new SharpSeekException($"{repo} has no {selector.ToUpperInvariant()} model; available: {Describe(ggufs)}");
                if (matches.Count > 1)
                    throw new SharpSeekException($"{repo} has {matches.Count} {matches[0].Quant} models ({string.Join(", ", matches.Select(m => m.Files[0].Path))}); name one as {repo}:FILE");
                return new PullPlan(RepoFormat.Gguf, matches[0].Files, matches[0].Quant, $"{matches[0].Quant} as asked", ggufs);
            }
            var preferred = ggufs.Where(c => c.Quant == DefaultQuant).ToList();
            var pick = preferred.Count > 0 ? preferred[0] : ggufs[0];
            string why = preferred.Count > 0
                ? $"{DefaultQuant}, the default" + (ggufs.Count > 1 ? $" (also here: {Describe(ggufs.Where(c => c != pick))}; pick one with {repo}:QUANT)" : "")
                : $"{pick.Quant}, the smallest here (no {DefaultQuant}" + (ggufs.Count > 1 ? $"; also here: {Describe(ggufs.Skip(1))}; pick one with {repo}:QUANT)" : ")");
            return new PullPlan(RepoFormat.Gguf, pick.Files, pick.Quant, why, ggufs);
        }
        if (selector is not null)
            throw new SharpSeekException($"{repo} has no GGUF files and no file '{selector}'" + (files.Any(IsSafetensors) ? $"; it is a safetensors repository: pull it as {repo}" : ""));
        var needed = files.Where(NeededToRun).ToList();
        if (!needed.Any(IsSafetensors))
            throw new SharpSeekException($"{repo} has neither .gguf nor .safetensors files ({string.Join(", ", files.Take(8).Select(f => f.Path))}{(files.Count > 8 ? ", …" : "")}); nothing here runs");
        return new PullPlan(RepoFormat.Safetensors, needed, null, $"the safetensors weights and what it takes to run them ({needed.Count} of {files.Count} files)", ggufs);
    }

    private static bool IsSafetensors(RepoFile f) => f.Path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase);

    /// <summary>Top-level weights, configs, tokenizer, chat template, licence and readme; not other formats' weights (*.bin, *.pt, onnx/, original/…).</summary>
    private static bool NeededToRun(RepoFile f)
    {
        if (f.Path.Contains('/')) return false;
        string name = f.Path.ToLowerInvariant();
        return name.EndsWith(".safetensors", StringComparison.Ordinal) || name.EndsWith(".json", StringComparison.Ordinal)
            || name.EndsWith(".jinja", StringComparison.Ordinal) || name.EndsWith(".tiktoken", StringComparison.Ordinal)
            || name is "tokenizer.model" or "merges.txt" or "vocab.txt" or "readme.md" || name.StartsWith("license", StringComparison.Ordinal);
    }

    private static string Describe(IEnumerable<GgufChoice> choices) =>
        string.Join(", ", choices.Select(c => $"{c.Quant} ({FormatBytes(c.Bytes)})"));

    /// <summary>Bytes as people read them: 512 B, 3.4 MB, 4.07 GB (decimal units, as the hub shows sizes).</summary>
    public static string FormatBytes(long n) => n switch
    {
        < 1000 => n.ToString(CultureInfo.InvariantCulture) + " B",
        < 1_000_000 => (n / 1e3).ToString("0.0", CultureInfo.InvariantCulture) + " kB",
        < 1_000_000_000 => (n / 1e6).ToString("0.0", CultureInfo.InvariantCulture) + " MB",
        _ => (n / 1e9).ToString("0.00", CultureInfo.InvariantCulture) + " GB",
    };
}
