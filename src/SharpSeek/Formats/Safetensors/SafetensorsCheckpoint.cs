using System.Text.Json;
using SharpSeek.Tensors;

namespace SharpSeek.Formats.Safetensors;

/// <summary>
/// A Hugging Face model directory: one or many <c>*.safetensors</c> shards, optionally listed by
/// <c>model.safetensors.index.json</c> (<c>weight_map</c>: tensor → shard). FP8 weights get their
/// <c>weight_scale_inv</c> block scales attached on access.
/// </summary>
public sealed class SafetensorsCheckpoint : ITensorSource
{
    private readonly List<SafetensorsFile> _files = [];
    private readonly Dictionary<string, SafetensorsFile> _byTensor = new(StringComparer.Ordinal);

    public SafetensorsCheckpoint(string directory, int fp8BlockSize = 128)
    {
        Path = directory;
        Fp8BlockSize = fp8BlockSize;
        try
        {
            string index = System.IO.Path.Combine(directory, "model.safetensors.index.json");
            if (File.Exists(index)) LoadIndexed(directory, index);
            else
            {
                // Without an index, Hugging Face loads model.safetensors alone; other *.safetensors files
                // (adapters, gradients, ...) beside it are not part of the model.
                string single = System.IO.Path.Combine(directory, "model.safetensors");
                var shards = File.Exists(single)
                    ? [single]
                    : Directory.GetFiles(directory, "*.safetensors").Order(StringComparer.Ordinal).ToArray();
                if (shards.Length == 0) throw new ModelFormatException($"{directory}: no *.safetensors files found");
                foreach (var s in shards) AddFile(new SafetensorsFile(s), null);
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public string Path { get; }
    public int Fp8BlockSize { get; }
    public IReadOnlyCollection<string> Names => _byTensor.Keys;
    public bool Contains(string name) => _byTensor.ContainsKey(name);

    private void LoadIndexed(string directory, string index)
    {
        const string file = "model.safetensors.index.json";
        var bytes = RegularFile.ReadAllBytes(index, SafetensorsFile.MaxHeaderBytes);
        if (StrictJson.Problem(bytes, rejectDuplicateKeys: true) is { } problem) throw new ModelFormatException($"{file}: {problem}");
        JsonDocument doc;
        try { doc = JsonDocument.Parse(bytes); }
        catch (JsonException e) { throw new ModelFormatException($"{file}: malformed JSON: {e.Message}", e); }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object || !doc.RootElement.TryGetProperty("weight_map", out var map) || map.ValueKind != JsonValueKind.Object)
                throw new ModelFormatException($"{file}: missing object 'weight_map'");
            var wanted = new Dictionary<string, List<string>>(StringComparer.Ordinal);
            foreach (var p in map.EnumerateObject())
            {
                if (p.Value.ValueKind != JsonValueKind.String) throw new ModelFormatException($"{file}: weight_map entry '{p.Name}' is not a file name");
                string shard = p.Value.GetString()!;
                if (shard.Contains('/') || shard.Contains('\\') || shard.Contains("..")) throw new ModelFormatException($"{file}: weight_map entry '{p.Name}' points outside the model directory: '{shard}'");
                if (!wanted.TryGetValue(shard, out var list)) wanted[shard] = list = [];
                list.Add(p.Name);
            }
            foreach (var (shard, names) in wanted.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                string path = System.IO.Path.Combine(directory, shard);
                if (!File.Exists(path)) throw new ModelFormatException($"{file}: shard '{shard}' (holding '{names[0]}') is missing");
                var sf = new SafetensorsFile(path);
                foreach (var n in names)
                    if (!sf.Entries.ContainsKey(n)) { sf.Dispose(); throw new ModelFormatException($"{shard}: missing tensor '{n}' listed in {file}"); }
                AddFile(sf, names);
            }
        }
    }

    private void AddFile(SafetensorsFile sf, List<string>? only)
    {
        _files.Add(sf);
        var names = only ?? (IEnumerable<string>)sf.Entries.Keys;
        foreach (var n in names)
        {
            if (_byTensor.TryGetValue(n, out var other))
                throw new ModelFormatException($"{System.IO.Path.GetFileName(sf.Path)}: tensor '{n}' also appears in {System.IO.Path.GetFileName(other.Path)}");
            _byTensor[n] = sf;
        }
    }

    public WeightTensor Get(string name)
    {
        if (!_byTensor.TryGetValue(name, out var sf))
            throw new ModelFormatException($"{System.IO.Path.GetFileName(Path.TrimEnd('/'))}: missing tensor '{name}'");
        var t = sf.GetTensor(name);
        if (t.Type != DType.F8E4M3) return t;
        return AttachScales(t);
    }

    private unsafe WeightTensor AttachScales(WeightTensor t)
    {
        string scaleName = t.Name.EndsWith(".weight", StringComparison.Ordinal) ? t.Name + "_scale_inv" : t.Name + ".weight_scale_inv";
        if (!_byTensor.ContainsKey(scaleName))
            throw new ModelFormatException($"{t.File}: FP8 tensor '{t.Name}' has no block scales '{scaleName}'");
        var s = Get(scaleName);
        if (t.Shape.Length != 2) throw new ModelFormatException($"{t.File}: FP8 tensor '{t.Name}' must be 2-D, has shape {t.ShapeText}");
        if (s.Type != DType.F32) throw new ModelFormatException($"{s.File}: block scales '{scaleName}' must be F32, are {s.Type.DisplayName()}");
        long br = (t.Shape[0] + Fp8BlockSize - 1) / Fp8BlockSize, bc = (t.Shape[1] + Fp8BlockSize - 1) / Fp8BlockSize;
        if (s.Shape.Length != 2 || s.Shape[0] != br || s.Shape[1] != bc)
            throw new ModelFormatException($"{s.File}: block scales '{scaleName}' have shape {s.ShapeText}, expected [{br}, {bc}] for {t.ShapeText} in {Fp8BlockSize}×{Fp8BlockSize} blocks");
        var scales = new BlockScales((float*)s.Data, (int)br, (int)bc, Fp8BlockSize);
        return new WeightTensor(t.Name, t.File, t.Type, t.Shape, t.Data, t.ByteLength, scales);
    }

    public void Dispose()
    {
        foreach (var f in _files) f.Dispose();
        _files.Clear();
    }
}
