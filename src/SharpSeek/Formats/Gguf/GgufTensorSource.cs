using SharpSeek.Tensors;

namespace SharpSeek.Formats.Gguf;

/// <summary>
/// A GGUF model's tensors under Hugging Face names (<see cref="GgufTensorNames"/>), so the engine's loader works
/// unchanged. Views only: PyTorch order is GGUF ne reversed, so no tensor is transposed or copied; experts are
/// <see cref="WeightTensor.Slice"/>s of the stacked tensors.
/// </summary>
public sealed class GgufTensorSource : ITensorSource
{
    private readonly Dictionary<string, GgufTensorNames.Source> _names = new(StringComparer.Ordinal);
    private readonly bool _ownsFile;

    public GgufTensorSource(string path) : this(new GgufFile(path), ownsFile: true) { }

    public GgufTensorSource(GgufFile file, bool ownsFile = false)
    {
        File = file;
        _ownsFile = ownsFile;
        try
        {
            foreach (var info in file.Tensors)
            {
                if (!GgufTensorNames.Map(info, _names, out var problem)) throw new ModelFormatException($"{file.FileName}: {problem}");
            }
        }
        catch
        {
            if (ownsFile) file.Dispose();
            throw;
        }
    }

    public GgufFile File { get; }
    public string Path => File.Path;
    public IReadOnlyCollection<string> Names => _names.Keys;
    public bool Contains(string name) => _names.ContainsKey(name);

    /// <summary>The GGUF tensor and expert slice that serve Hugging Face name <paramref name="name"/>, if any.</summary>
    public bool TryGetSource(string name, out GgufTensorNames.Source source) => _names.TryGetValue(name, out source);

    public unsafe WeightTensor Get(string name)
    {
        if (!_names.TryGetValue(name, out var src)) throw new ModelFormatException($"{File.FileName}: missing tensor '{name}'");
        var t = File.GetTensor(src.GgufName, name);
        if (src.Expert < 0) return t;
        var e = t.Slice(src.Expert);
        if (src.Part >= 0)
        {
            long half = e.Rows / 2;
            e = e.SliceRows(src.Part * half, half);
        }
        return new WeightTensor(name, t.File, t.Type, e.Shape, e.Data, e.ByteLength);
    }

    public void Dispose()
    {
        if (_ownsFile) File.Dispose();
    }
}
