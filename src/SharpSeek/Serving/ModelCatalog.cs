using SharpSeek.Hub;

namespace SharpSeek.Serving;

/// <summary>A model a server can load by name: what clients call it, and the file or directory it loads from.</summary>
public sealed record CatalogModel(string Name, string Path);

/// <summary>
/// The models a server offers by name: one model (<c>serve --model</c>, with its aliases), or every model found in
/// model folders (<c>--models-dir</c>) and in the Hugging Face hub cache where <c>pull</c> puts them (<c>--hub</c>).
/// Folders are scanned again when listed (at most once a second) and when a name is not found, so a model pulled or
/// copied in while the server runs is served without a restart.
/// </summary>
/// <remarks>
/// In a model folder, <c>NAME.gguf</c> is served as <c>NAME</c>, a folder <c>NAME/</c> holding <c>config.json</c> (a Hugging
/// Face checkpoint) as <c>NAME</c>, and a folder <c>NAME/</c> of GGUF files as <c>NAME</c> when it holds one and as
/// <c>NAME/FILE</c> for each when it holds several. A pulled model is served under the name <c>sharpseek list</c> shows:
/// <c>owner/repo</c>, with <c>:QUANT</c> for each of several GGUF files of one repository and <c>@commit</c> for an older
/// snapshot. Names are matched without regard to case, and Ollama's <c>:latest</c> tag is ignored.
/// </remarks>
public sealed class ModelCatalog
{
    private const string LatestTag = ":latest";
    private static readonly TimeSpan RescanInterval = TimeSpan.FromSeconds(1);

    private readonly IReadOnlyList<string> _directories;
    private readonly string? _hubRoot;
    private readonly bool _hub;
    private readonly IReadOnlyList<string> _aliases;
    private readonly Action<string> _warn;
    private readonly Lock _lock = new();
    private IReadOnlyList<CatalogModel> _models;
    private long _scanned;

    private ModelCatalog(IReadOnlyList<CatalogModel> single, IReadOnlyList<string> aliases)
    {
        _models = single;
        _directories = [];
        _aliases = aliases;
        _warn = _ => { };
        IsSingle = true;
    }

    private ModelCatalog(IReadOnlyList<string> directories, bool hub, string? hubRoot, Action<string>? warn)
    {
        _directories = [.. directories.Select(System.IO.Path.GetFullPath)];
        _hub = hub;
        _hubRoot = hubRoot;
        _aliases = [];
        _warn = warn ?? (m => Console.Error.WriteLine("sharpseek: warning: " + m));
        foreach (string dir in _directories)
            if (!Directory.Exists(dir)) throw new SharpSeekException($"the models folder {dir} does not exist");
        _models = Scan();
        _scanned = Environment.TickCount64;
    }

    /// <summary>One model (<c>serve --model</c>), also answering to <paramref name="aliases"/>.</summary>
    public static ModelCatalog Single(string path, IReadOnlyList<string> aliases) => new([new CatalogModel(NameOf(path), path)], aliases);

    /// <summary>Every model in <paramref name="directories"/> and, with <paramref name="hub"/>, in the hub cache (<paramref name="hubRoot"/>, default <see cref="HubCache.Root"/>).</summary>
    public static ModelCatalog Scan(IReadOnlyList<string> directories, bool hub, string? hubRoot = null, Action<string>? warn = null) =>
        new(directories, hub, hubRoot, warn);

    /// <summary>One model, loaded at start (<c>serve --model</c>); else models are loaded when first asked for.</summary>
    public bool IsSingle { get; }

    /// <summary>Other names the single model answers to (<c>sharpseek</c>, <c>deepseek-chat</c>, …).</summary>
    public IReadOnlyList<string> Aliases => _aliases;

    /// <summary>Where models are looked for, for messages.</summary>
    public string Where => IsSingle ? _models[0].Path
        : string.Join(", ", [.. _directories, .. _hub ? new[] { "the hub cache (" + (_hubRoot ?? HubCache.Root) + ")" } : []]);

    /// <summary>The models offered now, by name.</summary>
    public IReadOnlyList<CatalogModel> Models
    {
        get
        {
            if (!IsSingle && Environment.TickCount64 - Interlocked.Read(ref _scanned) >= RescanInterval.TotalMilliseconds) Rescan();
            return Volatile.Read(ref _models);
        }
    }

    /// <summary>
    /// The model <paramref name="name"/> stands for (its name or, for the single model, an alias; any case, <c>:latest</c>
    /// ignored), or null. A name not found triggers a scan, so a model added since the last one is found.
    /// </summary>
    public CatalogModel? Find(string name)
    {
        string bare = name.EndsWith(LatestTag, StringComparison.OrdinalIgnoreCase) ? name[..^LatestTag.Length] : name;
        if (IsSingle)
            return string.Equals(bare, _models[0].Name, StringComparison.OrdinalIgnoreCase) || _aliases.Contains(bare, StringComparer.OrdinalIgnoreCase) ? _models[0] : null;
        return Lookup(Models, bare) ?? Lookup(Rescan(), bare);
    }

    private static CatalogModel? Lookup(IReadOnlyList<CatalogModel> models, string name) =>
        models.FirstOrDefault(m => string.Equals(m.Name, name, StringComparison.OrdinalIgnoreCase));

    private IReadOnlyList<CatalogModel> Rescan()
    {
        lock (_lock)
        {
            var models = Scan();
            Volatile.Write(ref _models, models);
            Interlocked.Exchange(ref _scanned, Environment.TickCount64);
            return models;
        }
    }

    private List<CatalogModel> Scan()
    {
        var found = new List<CatalogModel>();
        var names = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        void Add(string name, string path)
        {
            if (names.TryAdd(name, path)) found.Add(new CatalogModel(name, path));
            else if (names[name] != path && _warned.Add(path)) _warn($"{path} is not served: its name '{name}' is already taken by {names[name]}");
        }
        foreach (string dir in _directories)
        {
            IEnumerable<FileSystemInfo> entries;
            try { entries = new DirectoryInfo(dir).EnumerateFileSystemInfos().Where(e => !e.Name.StartsWith('.')).OrderBy(e => e.Name, StringComparer.Ordinal).ToList(); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                if (_warned.Add(dir)) _warn($"cannot read the models folder {dir}: {e.Message}");
                continue;
            }
            foreach (var entry in entries)
            {
                if (entry is FileInfo f && IsGguf(f.Name)) Add(System.IO.Path.GetFileNameWithoutExtension(f.Name), f.FullName);
                else if (entry is DirectoryInfo d)
                {
                    if (File.Exists(System.IO.Path.Combine(d.FullName, "config.json"))) { Add(d.Name, d.FullName); continue; }
                    var ggufs = d.EnumerateFiles().Where(x => IsGguf(x.Name)).OrderBy(x => x.Name, StringComparer.Ordinal).ToList();
                    if (ggufs.Count == 1) Add(d.Name, ggufs[0].FullName);
                    else foreach (var g in ggufs) Add(d.Name + "/" + System.IO.Path.GetFileNameWithoutExtension(g.Name), g.FullName);
                }
            }
        }
        // Named as `sharpseek list` shows them: owner/repo, with :QUANT when a repository holds several GGUF files.
        if (_hub)
            foreach (var m in HubCache.List(_hubRoot).OrderBy(m => m.Name, StringComparer.Ordinal))
                Add(m.Name, m.Path);
        return found;
    }

    private readonly HashSet<string> _warned = new(StringComparer.Ordinal);

    private static bool IsGguf(string name) => name.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase);

    /// <summary>The name a single model is served under: its folder's name, or its file's name without the extension.</summary>
    public static string NameOf(string path)
    {
        string full = System.IO.Path.GetFullPath(path).TrimEnd(System.IO.Path.DirectorySeparatorChar);
        return Directory.Exists(full) ? System.IO.Path.GetFileName(full) : System.IO.Path.GetFileNameWithoutExtension(full);
    }
}
