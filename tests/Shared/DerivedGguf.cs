using System.Collections.Concurrent;
using System.Text.Json;
using SharpSeek.Formats.Gguf;
using SharpSeek.Tensors;

namespace SharpSeek.Tests;

/// <summary>
/// The F16/Q8_0/Q4_0 llama.cpp oracle GGUFs, derived on first use from the committed F32 originals instead of being
/// committed: the original's metadata with <c>general.file_type</c> set, each tensor re-encoded with SharpSeek's encoders
/// as <c>tests/fixtures/llamacpp/models/derived.json</c> lists it. Every tensor's bytes are checked against the sha256
/// taken from the original file and then the whole file against the original file's sha256, so a derived file is byte
/// for byte the one llama.cpp computed its logits on. Files go to the test assembly's folder and are reused while
/// their hash holds.
/// </summary>
public static class DerivedGguf
{
    private sealed record Recipe(string From, uint FileType, string Sha256, List<(string Name, DType Type, string Sha256)> Tensors);

    private static readonly Lazy<Dictionary<string, Recipe>> Manifest = new(Load);
    private static readonly ConcurrentDictionary<string, Lazy<string>> Made = new();

    public static string ManifestPath => Path.Combine(Fixtures.RepoRoot, "tests", "fixtures", "llamacpp", "models", "derived.json");

    public static string Folder => Path.Combine(AppContext.BaseDirectory, "derived-fixtures", "llamacpp", "models");

    public static bool Has(string file) => Manifest.Value.ContainsKey(file);

    /// <summary>The derived file's path, made (and checked) once per process.</summary>
    public static string Get(string file) => Made.GetOrAdd(file, f => new Lazy<string>(() => Make(f))).Value;

    private static string Make(string file)
    {
        var recipe = Manifest.Value[file];
        string path = Path.Combine(Folder, file);
        if (File.Exists(path) && Sha256.OfFile(path) == recipe.Sha256) return path;
        Directory.CreateDirectory(Folder);
        string source = Fixtures.Path("llamacpp", "models", recipe.From);
        string temp = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
        try
        {
            using (var f32 = new GgufFile(source))
            {
                var w = new GgufWriter(f32.Alignment);
                foreach (string key in f32.MetadataKeys)
                    w.Set(key, key == "general.file_type" ? GgufValue.UInt32(recipe.FileType) : f32.Metadata[key]);
                if (f32.Tensors.Count != recipe.Tensors.Count)
                    throw new InvalidDataException($"{file}: {recipe.From} has {f32.Tensors.Count} tensors, {ManifestPath} lists {recipe.Tensors.Count}");
                for (int i = 0; i < recipe.Tensors.Count; i++)
                {
                    var (name, type, want) = recipe.Tensors[i];
                    var info = f32.Tensors[i];
                    if (info.Name != name) throw new InvalidDataException($"{file}: tensor {i} of {recipe.From} is '{info.Name}', {ManifestPath} lists '{name}'");
                    byte[] payload = type == DType.F32 ? f32.GetTensorBytes(info).ToArray() : GgufEncoding.Encode(type, f32.GetTensor(name).ToFloat32());
                    string got = Sha256.Of(payload);
                    if (got != want)
                        throw new InvalidDataException($"{file}: tensor '{name}' encoded as {type} from {recipe.From} has sha256 {got}, the original file's tensor has {want}");
                    w.AddTensor(name, type, info.Shape, payload);
                }
                w.Write(temp);
            }
            string whole = Sha256.OfFile(temp);
            if (whole != recipe.Sha256)
                throw new InvalidDataException($"{file}: every tensor matches, but the derived file's sha256 is {whole}, the original's {recipe.Sha256} (metadata or layout differs)");
            File.Move(temp, path, overwrite: true);
            return path;
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    private static Dictionary<string, Recipe> Load()
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(ManifestPath));
        var result = new Dictionary<string, Recipe>();
        foreach (var e in doc.RootElement.GetProperty("derived").EnumerateObject())
        {
            var tensors = new List<(string, DType, string)>();
            foreach (var t in e.Value.GetProperty("tensors").EnumerateObject())
            {
                string[] typeAndHash = t.Value.GetString()!.Split(' ');
                tensors.Add((t.Name, Enum.Parse<DType>(typeAndHash[0]), typeAndHash[1]));
            }
            result[e.Name] = new Recipe(e.Value.GetProperty("from").GetString()!, e.Value.GetProperty("file_type").GetUInt32(), e.Value.GetProperty("sha256").GetString()!, tensors);
        }
        return result;
    }
}
