using SharpSeek.Tensors;

namespace SharpSeek.Formats.Gguf;

/// <summary>
/// A GGUF v2/v3 file (ggml docs/gguf.md): magic, version, tensor and metadata counts, typed key/value metadata,
/// tensor infos, then the tensor data at <c>general.alignment</c> (default 32). The file is memory-mapped and tensors
/// are views into it, never copies. Every count, length, shape and offset is checked against the file size and sane
/// limits before use; any problem is a <see cref="ModelFormatException"/> naming the file and the key or tensor.
/// </summary>
public sealed unsafe class GgufFile : IDisposable
{
    public const uint Magic = 0x46554747; // "GGUF" little-endian
    public const int DefaultAlignment = 32;
    /// <summary>gguf.md caps keys at 65535 bytes.</summary>
    public const int MaxKeyBytes = 65535;
    /// <summary>Largest string value accepted (chat templates are the largest real ones, well under 1 MB).</summary>
    public const int MaxStringBytes = 16 << 20;
    /// <summary>Largest metadata array (real vocabularies are ~150–260k entries).</summary>
    public const int MaxArrayElements = 1 << 24;
    public const int MaxArrayDepth = 4;
    public const int MaxTensorCount = 1 << 20;
    public const int MaxMetadataCount = 1 << 20;
    /// <summary>ggml names are at most 63 bytes; allow more but keep it bounded.</summary>
    public const int MaxTensorNameBytes = 1024;
    public const int MaxDims = 4;

    private readonly MappedFile _file;
    private readonly byte* _base;
    private readonly Dictionary<string, GgufValue> _metadata = new(StringComparer.Ordinal);
    private readonly List<string> _keys = [];
    private readonly List<GgufTensorInfo> _tensors = [];
    private readonly Dictionary<string, GgufTensorInfo> _byName = new(StringComparer.Ordinal);
    private bool _disposed;

    public GgufFile(string path)
    {
        Path = path;
        FileName = System.IO.Path.GetFileName(path);
        _file = new MappedFile(path, 24, "a GGUF header (24 bytes)");
        FileLength = _file.Length;
        _base = _file.Pointer;

        try { Parse(); }
        catch
        {
            Dispose();
            throw;
        }
    }

    public string Path { get; }
    public string FileName { get; }
    public long FileLength { get; }
    public uint Version { get; private set; }
    public int Alignment { get; private set; } = DefaultAlignment;
    /// <summary>File offset of the data section (tensor offsets are relative to it).</summary>
    public long DataOffset { get; private set; }
    public long DataLength => FileLength - DataOffset;

    /// <summary>Metadata keys in file order.</summary>
    public IReadOnlyList<string> MetadataKeys => _keys;
    public IReadOnlyDictionary<string, GgufValue> Metadata => _metadata;
    /// <summary>Tensor infos in file order.</summary>
    public IReadOnlyList<GgufTensorInfo> Tensors => _tensors;
    public IReadOnlyDictionary<string, GgufTensorInfo> TensorsByName => _byName;

    /// <summary><c>general.architecture</c>, or null when absent.</summary>
    public string? Architecture => GetString("general.architecture");

    private void Parse()
    {
        var c = new GgufHeaderCursor(_base, FileLength, FileName);
        uint magic = c.ReadU32("magic");
        if (magic != Magic) throw c.Error($"not a GGUF file (magic 0x{magic:X8}, expected \"GGUF\")");
        Version = c.ReadU32("version");
        if (Version is 1) throw c.Error("GGUF version 1 is not supported (re-convert with a current llama.cpp)");
        if (Version is not (2 or 3))
        {
            if ((Version & 0xFFFF) == 0 && (Version >> 16) != 0) throw c.Error($"version field 0x{Version:X8} looks big-endian; only little-endian GGUF is supported");
            throw c.Error($"unsupported GGUF version {Version} (supported: 2, 3)");
        }
        // Minimum encoded sizes: tensor info = name length (8) + n_dims (4) + one dim (8) + type (4) + offset (8);
        // key/value = key length (8) + type (4) + smallest value (1).
        ulong nTensors = c.ReadU64("tensor count");
        ulong nKv = c.ReadU64("metadata count");
        int tensorCount = c.CheckCount(nTensors, 32, MaxTensorCount, "tensor count");
        int kvCount = c.CheckCount(nKv, 13, MaxMetadataCount, "metadata key/value count");

        for (int i = 0; i < kvCount; i++)
        {
            string key = c.ReadString(MaxKeyBytes, $"metadata key #{i}");
            uint type = c.ReadU32($"type of key '{key}'");
            var value = ReadValue(ref c, (GgufValueType)type, key, 0);
            if (!_metadata.TryAdd(key, value)) throw c.Error($"duplicate metadata key '{key}'");
            _keys.Add(key);
        }

        if (_metadata.TryGetValue("general.alignment", out var al))
        {
            long? a = al.AsInt64();
            if (a is null || !al.IsInteger) throw c.Error($"key 'general.alignment' must be an integer, is {al.Type}");
            if (a <= 0 || a > 1 << 20 || (a & (a - 1)) != 0) throw c.Error($"key 'general.alignment' = {a} is not a power of two in 1..2^20");
            Alignment = (int)a.Value;
        }

        var pending = new List<(string Name, long[] Ne, GgmlType Type, ulong Offset, long Bytes)>(tensorCount);
        for (int i = 0; i < tensorCount; i++)
        {
            string name = c.ReadString(MaxTensorNameBytes, $"name of tensor #{i}");
            uint nDims = c.ReadU32($"tensor '{name}' dimension count");
            if (nDims is 0 or > MaxDims) throw c.Error($"tensor '{name}' has {nDims} dimensions (1..{MaxDims} allowed)");
            var ne = new long[nDims];
            long count = 1;
            for (int d = 0; d < nDims; d++)
            {
                ulong v = c.ReadU64($"tensor '{name}' dimension {d}");
                if (v > long.MaxValue) throw c.Error($"tensor '{name}' dimension {d} = {v} is out of range");
                ne[d] = (long)v;
                try { count = checked(count * ne[d]); }
                catch (OverflowException) { throw c.Error($"tensor '{name}' element count overflows (ne = {{{string.Join(", ", ne[..(d + 1)])}}})"); }
            }
            var type = (GgmlType)c.ReadU32($"tensor '{name}' type");
            var layout = GgmlTypeInfo.Layout(type) ?? throw c.Error($"tensor '{name}' has unknown ggml type id {(uint)type}");
            if (ne[0] % layout.BlockSize != 0)
                throw c.Error($"tensor '{name}' of type {type} has ne[0] = {ne[0]}, not a multiple of its block size {layout.BlockSize}");
            long bytes;
            try { bytes = checked(count / layout.BlockSize * layout.BlockBytes); }
            catch (OverflowException) { throw c.Error($"tensor '{name}' byte size overflows"); }
            ulong offset = c.ReadU64($"tensor '{name}' offset");
            pending.Add((name, ne, type, offset, bytes));
        }

        long headerEnd = c.Position;
        DataOffset = AlignUp(headerEnd, Alignment);
        if (tensorCount > 0 && DataOffset > FileLength)
            throw c.Error($"truncated: the data section would start at byte {DataOffset}, beyond the end of the file ({FileLength} bytes)");
        if (DataOffset > FileLength) DataOffset = FileLength;

        foreach (var (name, ne, type, offset, bytes) in pending)
        {
            if (offset % (ulong)Alignment != 0)
                throw c.Error($"tensor '{name}' offset {offset} is not a multiple of the alignment {Alignment}");
            if (offset > (ulong)DataLength || (ulong)bytes > (ulong)DataLength - offset)
                throw c.Error($"tensor '{name}' ({type} {{{string.Join(", ", ne)}}}, {bytes} bytes at data offset {offset}) extends beyond the end of the file (data section is {DataLength} bytes): truncated or corrupt");
            var info = new GgufTensorInfo(name, ne, type, (long)offset, bytes);
            if (!_byName.TryAdd(name, info)) throw c.Error($"duplicate tensor name '{name}'");
            _tensors.Add(info);
        }
    }

    private static long AlignUp(long x, int a) => (x + a - 1) / a * a;

    private GgufValue ReadValue(ref GgufHeaderCursor c, GgufValueType type, string key, int depth)
    {
        string what = $"value of key '{key}'";
        switch (type)
        {
            case GgufValueType.UInt8: return GgufValue.UInt8(c.ReadU8(what));
            case GgufValueType.Int8: return GgufValue.Int8((sbyte)c.ReadU8(what));
            case GgufValueType.UInt16: return GgufValue.UInt16(c.ReadU16(what));
            case GgufValueType.Int16: return GgufValue.Int16((short)c.ReadU16(what));
            case GgufValueType.UInt32: return GgufValue.UInt32(c.ReadU32(what));
            case GgufValueType.Int32: return GgufValue.Int32((int)c.ReadU32(what));
            case GgufValueType.Float32: return GgufValue.Float32(BitConverter.UInt32BitsToSingle(c.ReadU32(what)));
            case GgufValueType.UInt64: return GgufValue.UInt64(c.ReadU64(what));
            case GgufValueType.Int64: return GgufValue.Int64((long)c.ReadU64(what));
            case GgufValueType.Float64: return GgufValue.Float64(BitConverter.UInt64BitsToDouble(c.ReadU64(what)));
            case GgufValueType.Bool:
                byte b = c.ReadU8(what);
                if (b > 1) throw c.Error($"key '{key}': bool value {b} is neither 0 nor 1");
                return GgufValue.Bool(b == 1);
            case GgufValueType.String: return GgufValue.String(c.ReadString(MaxStringBytes, what));
            case GgufValueType.Array: return ReadArray(ref c, key, depth);
            default: throw c.Error($"key '{key}' has unknown value type {(uint)type}");
        }
    }

    private GgufValue ReadArray(ref GgufHeaderCursor c, string key, int depth)
    {
        if (depth >= MaxArrayDepth) throw c.Error($"key '{key}': arrays nested deeper than {MaxArrayDepth}");
        uint et = c.ReadU32($"array element type of key '{key}'");
        var elem = (GgufValueType)et;
        if (et > (uint)GgufValueType.Float64) throw c.Error($"key '{key}' is an array of unknown value type {et}");
        ulong n = c.ReadU64($"array length of key '{key}'");
        int count = c.CheckCount(n, MinEncodedSize(elem), MaxArrayElements, $"array length of key '{key}'");
        string what = $"element of key '{key}'";
        switch (elem)
        {
            case GgufValueType.UInt8: { var a = new byte[count]; for (int i = 0; i < count; i++) a[i] = c.ReadU8(what); return GgufValue.Array(elem, a); }
            case GgufValueType.Int8: { var a = new sbyte[count]; for (int i = 0; i < count; i++) a[i] = (sbyte)c.ReadU8(what); return GgufValue.Array(elem, a); }
            case GgufValueType.UInt16: { var a = new ushort[count]; for (int i = 0; i < count; i++) a[i] = c.ReadU16(what); return GgufValue.Array(elem, a); }
            case GgufValueType.Int16: { var a = new short[count]; for (int i = 0; i < count; i++) a[i] = (short)c.ReadU16(what); return GgufValue.Array(elem, a); }
            case GgufValueType.UInt32: { var a = new uint[count]; for (int i = 0; i < count; i++) a[i] = c.ReadU32(what); return GgufValue.Array(elem, a); }
            case GgufValueType.Int32: { var a = new int[count]; for (int i = 0; i < count; i++) a[i] = (int)c.ReadU32(what); return GgufValue.Array(elem, a); }
            case GgufValueType.Float32: { var a = new float[count]; for (int i = 0; i < count; i++) a[i] = BitConverter.UInt32BitsToSingle(c.ReadU32(what)); return GgufValue.Array(elem, a); }
            case GgufValueType.UInt64: { var a = new ulong[count]; for (int i = 0; i < count; i++) a[i] = c.ReadU64(what); return GgufValue.Array(elem, a); }
            case GgufValueType.Int64: { var a = new long[count]; for (int i = 0; i < count; i++) a[i] = (long)c.ReadU64(what); return GgufValue.Array(elem, a); }
            case GgufValueType.Float64: { var a = new double[count]; for (int i = 0; i < count; i++) a[i] = BitConverter.UInt64BitsToDouble(c.ReadU64(what)); return GgufValue.Array(elem, a); }
            case GgufValueType.Bool:
            {
                var a = new bool[count];
                for (int i = 0; i < count; i++)
                {
                    byte b = c.ReadU8(what);
                    if (b > 1) throw c.Error($"key '{key}': bool element {i} is {b}, neither 0 nor 1");
                    a[i] = b == 1;
                }
                return GgufValue.Array(elem, a);
            }
            case GgufValueType.String: { var a = new string[count]; for (int i = 0; i < count; i++) a[i] = c.ReadString(MaxStringBytes, $"element {i} of key '{key}'"); return GgufValue.Array(elem, a); }
            default: { var a = new GgufValue[count]; for (int i = 0; i < count; i++) a[i] = ReadArray(ref c, key, depth + 1); return GgufValue.Array(elem, a); }
        }
    }

    /// <summary>Smallest encoding of one value: strings are at least their 8-byte length, arrays 12 bytes.</summary>
    private static long MinEncodedSize(GgufValueType t) => t switch
    {
        GgufValueType.UInt8 or GgufValueType.Int8 or GgufValueType.Bool => 1,
        GgufValueType.UInt16 or GgufValueType.Int16 => 2,
        GgufValueType.UInt32 or GgufValueType.Int32 or GgufValueType.Float32 => 4,
        GgufValueType.String or GgufValueType.UInt64 or GgufValueType.Int64 or GgufValueType.Float64 => 8,
        _ => 12,
    };

    // ---- typed metadata access: absent → null; present with the wrong type → error naming the key ----

    public bool TryGetValue(string key, out GgufValue value) => _metadata.TryGetValue(key, out value!);

    public string? GetString(string key)
    {
        if (!_metadata.TryGetValue(key, out var v)) return null;
        return v.Type == GgufValueType.String ? (string)v.Value : throw WrongType(key, v, "a string");
    }

    public long? GetInteger(string key)
    {
        if (!_metadata.TryGetValue(key, out var v)) return null;
        return v.IsInteger && v.AsInt64() is long l ? l : throw WrongType(key, v, "an integer");
    }

    public double? GetNumber(string key)
    {
        if (!_metadata.TryGetValue(key, out var v)) return null;
        return (v.IsInteger || v.IsFloat) && v.AsDouble() is double d ? d : throw WrongType(key, v, "a number");
    }

    public bool? GetBool(string key)
    {
        if (!_metadata.TryGetValue(key, out var v)) return null;
        return v.Type == GgufValueType.Bool ? (bool)v.Value : throw WrongType(key, v, "a bool");
    }

    /// <summary>An array whose elements have CLR type <typeparamref name="T"/> (string, int, uint, float, ...).</summary>
    public T[]? GetArray<T>(string key)
    {
        if (!_metadata.TryGetValue(key, out var v)) return null;
        if (v.Type == GgufValueType.Array && v.Value is T[] a) return a;
        throw WrongType(key, v, $"an array of {typeof(T).Name}");
    }

    private ModelFormatException WrongType(string key, GgufValue v, string expected) =>
        new($"{FileName}: key '{key}' must be {expected}, is {(v.Type == GgufValueType.Array ? $"an array of {v.ElementType}" : v.Type.ToString())}");

    // ---- tensors ----

    public bool ContainsTensor(string name) => _byName.ContainsKey(name);

    /// <summary>The raw bytes of a tensor (a view of the mapping).</summary>
    public ReadOnlySpan<byte> GetTensorBytes(GgufTensorInfo info)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return new ReadOnlySpan<byte>(_base + DataOffset + info.Offset, checked((int)info.ByteLength));
    }

    /// <summary>A memory-mapped view of tensor <paramref name="name"/> (GGUF name), shaped in PyTorch order.</summary>
    public WeightTensor GetTensor(string name) => GetTensor(name, name);

    /// <summary>As <see cref="GetTensor(string)"/>, with the view named <paramref name="viewName"/> (e.g. the Hugging Face name).</summary>
    public WeightTensor GetTensor(string name, string viewName)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!_byName.TryGetValue(name, out var info)) throw new ModelFormatException($"{FileName}: missing tensor '{name}'");
        var type = GgmlTypeInfo.ToDType(info.Type)
            ?? throw new ModelFormatException($"{FileName}: tensor '{name}' has ggml type {GgmlTypeInfo.Name(info.Type)}, which SharpSeek cannot decode (supported: F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q6_K)");
        return new WeightTensor(viewName, FileName, type, info.Shape, _base + DataOffset + info.Offset, info.ByteLength);
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _file.Dispose();
    }
}
