using System.Text.Json;
using SharpSeek.Tensors;

namespace SharpSeek.Formats.Safetensors;

/// <summary>
/// One <c>.safetensors</c> file: an 8-byte little-endian header length, a JSON header
/// (<c>name → {dtype, shape, data_offsets}</c>), then the raw data. The data is memory-mapped, never copied.
/// Every header field is checked against the file size before anything is sized from it.
/// </summary>
public sealed unsafe class SafetensorsFile : IDisposable
{
    /// <summary>Headers larger than this are refused (real ones are well under a few MB; the reference reader caps at 100 MB).</summary>
    public const long MaxHeaderBytes = 100L * 1024 * 1024;

    private readonly MappedFile _file;
    private readonly byte* _base;
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private bool _disposed;

    public readonly record struct Entry(string DType, long[] Shape, long Begin, long End);

    public SafetensorsFile(string path)
    {
        Path = path;
        string name = System.IO.Path.GetFileName(path);
        _file = new MappedFile(path, 8, "the 8-byte header length");
        long length = _file.Length;
        _base = _file.Pointer;

        try
        {
            ulong headerLen = *(ulong*)_base;
            if (headerLen > (ulong)(length - 8)) throw new ModelFormatException($"{name}: header length {headerLen} exceeds the file size ({length} bytes): truncated or not a safetensors file");
            if ((long)headerLen > MaxHeaderBytes) throw new ModelFormatException($"{name}: header length {headerLen} exceeds the {MaxHeaderBytes}-byte limit");
            DataStart = 8 + (long)headerLen;
            DataLength = length - DataStart;
            ParseHeader(name, new ReadOnlySpan<byte>(_base + 8, (int)headerLen));
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public string Path { get; }
    public long DataStart { get; }
    public long DataLength { get; }
    public IReadOnlyDictionary<string, Entry> Entries => _entries;
    public IReadOnlyDictionary<string, string> Metadata { get; private set; } = new Dictionary<string, string>();

    private void ParseHeader(string name, ReadOnlySpan<byte> json)
    {
        if (StrictJson.Problem(json, rejectDuplicateKeys: true) is { } problem) throw new ModelFormatException($"{name}: header: {problem}");
        JsonDocument doc;
        try { doc = JsonDocument.Parse(json.ToArray(), new JsonDocumentOptions { MaxDepth = 16 }); }
        catch (JsonException e) { throw new ModelFormatException($"{name}: malformed JSON header: {e.Message}", e); }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object) throw new ModelFormatException($"{name}: header is not a JSON object");
            foreach (var prop in doc.RootElement.EnumerateObject())
            {
                if (prop.Name == "__metadata__")
                {
                    var meta = new Dictionary<string, string>();
                    if (prop.Value.ValueKind == JsonValueKind.Object)
                        foreach (var m in prop.Value.EnumerateObject()) meta[m.Name] = m.Value.ToString();
                    Metadata = meta;
                    continue;
                }
                _entries[prop.Name] = ParseEntry(name, prop.Name, prop.Value);
            }
        }
        CheckTiling(name);
    }

    /// <summary>
    /// The tensors must tile the data section exactly, as the reference reader requires: sorted by offset, each starts
    /// where the previous ended, the first at 0 and the last at the end of the file. A hole or overlap means a lying
    /// header (e.g. a header length a few bytes short, which would otherwise read every tensor misaligned).
    /// </summary>
    private void CheckTiling(string file)
    {
        long end = 0;
        string? previous = null;
        foreach (var (tensor, e) in _entries.OrderBy(kv => kv.Value.Begin).ThenBy(kv => kv.Value.End))
        {
            if (e.Begin != end)
                throw new ModelFormatException(e.Begin > end
                    ? $"{file}: tensor '{tensor}' starts at data offset {e.Begin}, but {(previous is null ? "the data section starts at 0" : $"'{previous}' ends at {end}")}: a hole of {e.Begin - end} bytes (corrupt header)"
                    : $"{file}: tensor '{tensor}' at data offsets [{e.Begin}, {e.End}] overlaps '{previous}' (which ends at {end})");
            end = e.End;
            previous = tensor;
        }
        if (end != DataLength)
            throw new ModelFormatException($"{file}: the tensors end at data offset {end}, but the data section has {DataLength} bytes: {DataLength - end} bytes belong to no tensor (wrong header length or corrupt header)");
    }

    private Entry ParseEntry(string file, string tensor, JsonElement e)
    {
        string Where() => $"{file}: tensor '{tensor}'";
        if (e.ValueKind != JsonValueKind.Object) throw new ModelFormatException($"{Where()}: header entry is not an object");
        if (!e.TryGetProperty("dtype", out var dt) || dt.ValueKind != JsonValueKind.String) throw new ModelFormatException($"{Where()}: missing or non-string 'dtype'");
        if (!e.TryGetProperty("shape", out var sh) || sh.ValueKind != JsonValueKind.Array) throw new ModelFormatException($"{Where()}: missing or non-array 'shape'");
        if (!e.TryGetProperty("data_offsets", out var off) || off.ValueKind != JsonValueKind.Array || off.GetArrayLength() != 2) throw new ModelFormatException($"{Where()}: 'data_offsets' must be an array of two integers");
        if (sh.GetArrayLength() > 8) throw new ModelFormatException($"{Where()}: shape has {sh.GetArrayLength()} dimensions");
        var shape = new long[sh.GetArrayLength()];
        long count = 1;
        int i = 0;
        foreach (var d in sh.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt64(out long v) || v < 0) throw new ModelFormatException($"{Where()}: shape entry {d} is not a non-negative integer");
            shape[i++] = v;
            try { count = checked(count * v); } catch (OverflowException) { throw new ModelFormatException($"{Where()}: shape {sh} overflows"); }
        }
        long[] o = new long[2];
        i = 0;
        foreach (var d in off.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt64(out long v) || v < 0) throw new ModelFormatException($"{Where()}: data_offsets entry {d} is not a non-negative integer");
            o[i++] = v;
        }
        if (o[1] < o[0]) throw new ModelFormatException($"{Where()}: data_offsets [{o[0]}, {o[1]}] are reversed");
        if (o[1] > DataLength) throw new ModelFormatException($"{Where()}: data_offsets end {o[1]} is beyond the data section ({DataLength} bytes): file truncated");
        string dtype = dt.GetString()!;
        int elem = ElementSize(dtype);
        if (elem > 0)
        {
            long expected;
            try { expected = checked(count * elem); } catch (OverflowException) { throw new ModelFormatException($"{Where()}: byte size overflows"); }
            if (o[1] - o[0] != expected) throw new ModelFormatException($"{Where()}: {dtype} {FormatShape(shape)} needs {expected} bytes but data_offsets span {o[1] - o[0]}");
        }
        return new Entry(dtype, shape, o[0], o[1]);
    }

    internal static string FormatShape(long[] shape) => "[" + string.Join(", ", shape) + "]";

    /// <summary>Bytes per element of a safetensors dtype name, 0 when unknown.</summary>
    public static int ElementSize(string dtype) => dtype switch
    {
        "F64" or "I64" or "U64" => 8,
        "F32" or "I32" or "U32" => 4,
        "F16" or "BF16" or "I16" or "U16" => 2,
        "F8_E4M3" or "F8_E5M2" or "I8" or "U8" or "BOOL" => 1,
        _ => 0,
    };

    public static DType? ToDType(string dtype) => dtype switch
    {
        "F32" => DType.F32,
        "F16" => DType.F16,
        "BF16" => DType.BF16,
        "F8_E4M3" => DType.F8E4M3,
        _ => null,
    };

    /// <summary>A view of tensor <paramref name="tensor"/>; throws naming the file and tensor for unknown names or unsupported dtypes.</summary>
    public WeightTensor GetTensor(string tensor)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        string file = System.IO.Path.GetFileName(Path);
        if (!_entries.TryGetValue(tensor, out var e)) throw new ModelFormatException($"{file}: missing tensor '{tensor}'");
        var type = ToDType(e.DType) ?? throw new ModelFormatException($"{file}: tensor '{tensor}' has unsupported dtype {e.DType} (supported: F32, F16, BF16, F8_E4M3)");
        return new WeightTensor(tensor, file, type, e.Shape, _base + DataStart + e.Begin, e.End - e.Begin);
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _file.Dispose();
    }
}
