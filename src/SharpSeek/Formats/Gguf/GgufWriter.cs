using System.Buffers.Binary;
using System.Text;
using SharpSeek.Tensors;

namespace SharpSeek.Formats.Gguf;

/// <summary>
/// Writes GGUF v3: header, metadata in insertion order, tensor infos, then each tensor's payload at an offset that is a
/// multiple of the alignment (zero padding after every tensor, as ggml and gguf-py do). Tensor shapes are given in
/// PyTorch order (<c>[rows, cols]</c>) and stored as ggml ne (reversed). Payloads are streamed, so files larger than
/// memory can be written.
/// </summary>
public sealed class GgufWriter
{
    /// <summary>llama.cpp's loader rejects longer tensor names (GGML_MAX_NAME = 64 including the terminator).</summary>
    public const int MaxTensorNameBytes = 63;

    private readonly List<KeyValuePair<string, GgufValue>> _metadata = [];
    private readonly List<Entry> _tensors = [];
    private readonly HashSet<string> _tensorNames = new(StringComparer.Ordinal);

    private sealed record Entry(string Name, GgmlType Type, long[] Ne, long Bytes, Action<Stream> Write);

    public GgufWriter(int alignment = GgufFile.DefaultAlignment)
    {
        if (alignment <= 0 || (alignment & (alignment - 1)) != 0) throw new ArgumentException($"alignment {alignment} is not a power of two", nameof(alignment));
        Alignment = alignment;
        if (alignment != GgufFile.DefaultAlignment) Set("general.alignment", GgufValue.UInt32((uint)alignment));
    }

    public int Alignment { get; }
    public int TensorCount => _tensors.Count;

    /// <summary>Sets (or replaces, keeping its position) metadata key <paramref name="key"/>.</summary>
    public GgufWriter Set(string key, GgufValue value)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        if (Encoding.UTF8.GetByteCount(key) > GgufFile.MaxKeyBytes) throw new ArgumentException($"metadata key '{key[..32]}…' is too long", nameof(key));
        if (key == "general.alignment" && value.AsInt64() != Alignment)
            throw new ArgumentException($"general.alignment = {value} contradicts the writer's alignment {Alignment}", nameof(value));
        int i = _metadata.FindIndex(kv => kv.Key == key);
        if (i >= 0) _metadata[i] = new(key, value);
        else _metadata.Add(new(key, value));
        return this;
    }

    public GgufWriter Set(string key, string value) => Set(key, GgufValue.String(value));
    public GgufWriter Set(string key, uint value) => Set(key, GgufValue.UInt32(value));
    public GgufWriter Set(string key, int value) => Set(key, GgufValue.Int32(value));
    public GgufWriter Set(string key, ulong value) => Set(key, GgufValue.UInt64(value));
    public GgufWriter Set(string key, float value) => Set(key, GgufValue.Float32(value));
    public GgufWriter Set(string key, double value) => Set(key, GgufValue.Float64(value));
    public GgufWriter Set(string key, bool value) => Set(key, GgufValue.Bool(value));

    /// <summary>Adds a tensor whose payload <paramref name="write"/> streams (exactly the type's byte count for the shape).</summary>
    public GgufWriter AddTensor(string name, DType type, long[] shape, Action<Stream> write)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (Encoding.UTF8.GetByteCount(name) > MaxTensorNameBytes) throw new ArgumentException($"tensor name '{name}' is longer than {MaxTensorNameBytes} bytes", nameof(name));
        if (shape.Length is 0 or > GgufFile.MaxDims) throw new ArgumentException($"tensor '{name}': {shape.Length} dimensions (1..{GgufFile.MaxDims})", nameof(shape));
        long count = 1;
        foreach (long d in shape)
        {
            if (d < 0) throw new ArgumentException($"tensor '{name}': negative dimension in [{string.Join(", ", shape)}]", nameof(shape));
            count = checked(count * d);
        }
        if (shape[^1] % type.BlockSize() != 0)
            throw new ArgumentException($"tensor '{name}': {type} needs the last dimension to be a multiple of {type.BlockSize()}, shape is [{string.Join(", ", shape)}]", nameof(shape));
        var ggml = GgmlTypeInfo.FromDType(type);
        if (!_tensorNames.Add(name)) throw new ArgumentException($"duplicate tensor '{name}'", nameof(name));
        _tensors.Add(new Entry(name, ggml, shape.Reverse().ToArray(), type.ByteCount(count), write));
        return this;
    }

    /// <summary>Adds a tensor from an already-encoded payload.</summary>
    public GgufWriter AddTensor(string name, DType type, long[] shape, ReadOnlyMemory<byte> payload) =>
        AddTensor(name, type, shape, s => s.Write(payload.Span));

    /// <summary>Adds a tensor from float32 values, encoded as <paramref name="type"/> (quantized for block types) when written.</summary>
    public GgufWriter AddTensor(string name, long[] shape, ReadOnlyMemory<float> values, DType type)
    {
        long count = 1;
        foreach (long d in shape) count = checked(count * d);
        if (count != values.Length) throw new ArgumentException($"tensor '{name}': shape [{string.Join(", ", shape)}] holds {count} values, got {values.Length}", nameof(values));
        return AddTensor(name, type, shape, s => s.Write(GgufEncoding.Encode(type, values.Span)));
    }

    public void Write(string path)
    {
        try
        {
            using var fs = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
            Write(fs);
        }
        catch
        {
            try { File.Delete(path); } catch (IOException) { }
            throw;
        }
    }

    public void Write(Stream stream)
    {
        var header = new MemoryStream();
        WriteU32(header, GgufFile.Magic);
        WriteU32(header, 3);
        WriteU64(header, (ulong)_tensors.Count);
        WriteU64(header, (ulong)_metadata.Count);
        foreach (var (key, value) in _metadata)
        {
            WriteString(header, key);
            WriteU32(header, (uint)value.Type);
            WriteValue(header, value);
        }
        long offset = 0;
        var offsets = new long[_tensors.Count];
        for (int i = 0; i < _tensors.Count; i++)
        {
            var t = _tensors[i];
            WriteString(header, t.Name);
            WriteU32(header, (uint)t.Ne.Length);
            foreach (long d in t.Ne) WriteU64(header, (ulong)d);
            WriteU32(header, (uint)t.Type);
            WriteU64(header, (ulong)offset);
            offsets[i] = offset;
            offset = AlignUp(offset + t.Bytes);
        }
        Pad(header, header.Length);
        header.Position = 0;
        header.CopyTo(stream);

        for (int i = 0; i < _tensors.Count; i++)
        {
            var t = _tensors[i];
            var counter = new CountingStream(stream);
            t.Write(counter);
            if (counter.Count != t.Bytes)
                throw new InvalidOperationException($"tensor '{t.Name}': the payload writer produced {counter.Count} bytes, {GgmlTypeInfo.Name(t.Type)} {{{string.Join(", ", t.Ne)}}} needs {t.Bytes}");
            Pad(stream, t.Bytes);
        }
        stream.Flush();
    }

    private long AlignUp(long x) => (x + Alignment - 1) / Alignment * Alignment;

    private void Pad(Stream s, long written)
    {
        long pad = AlignUp(written) - written;
        if (pad > 0) s.Write(new byte[pad]);
    }

    private static void WriteValue(Stream s, GgufValue v)
    {
        switch (v.Type)
        {
            case GgufValueType.Array:
                var items = (Array)v.Value;
                WriteU32(s, (uint)v.ElementType);
                WriteU64(s, (ulong)items.Length);
                foreach (var item in items)
                    WriteScalar(s, v.ElementType, item!);
                break;
            default:
                WriteScalar(s, v.Type, v.Value);
                break;
        }
    }

    private static void WriteScalar(Stream s, GgufValueType type, object value)
    {
        Span<byte> b = stackalloc byte[8];
        switch (type)
        {
            case GgufValueType.UInt8: s.WriteByte((byte)value); break;
            case GgufValueType.Int8: s.WriteByte((byte)(sbyte)value); break;
            case GgufValueType.Bool: s.WriteByte((bool)value ? (byte)1 : (byte)0); break;
            case GgufValueType.UInt16: BinaryPrimitives.WriteUInt16LittleEndian(b, (ushort)value); s.Write(b[..2]); break;
            case GgufValueType.Int16: BinaryPrimitives.WriteInt16LittleEndian(b, (short)value); s.Write(b[..2]); break;
            case GgufValueType.UInt32: WriteU32(s, (uint)value); break;
            case GgufValueType.Int32: WriteU32(s, (uint)(int)value); break;
            case GgufValueType.Float32: WriteU32(s, BitConverter.SingleToUInt32Bits((float)value)); break;
            case GgufValueType.UInt64: WriteU64(s, (ulong)value); break;
            case GgufValueType.Int64: WriteU64(s, (ulong)(long)value); break;
            case GgufValueType.Float64: WriteU64(s, BitConverter.DoubleToUInt64Bits((double)value)); break;
            case GgufValueType.String: WriteString(s, (string)value); break;
            case GgufValueType.Array: WriteValue(s, (GgufValue)value); break;
            default: throw new ArgumentOutOfRangeException(nameof(type), type, "unknown GGUF value type");
        }
    }

    private static void WriteU32(Stream s, uint v)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, v);
        s.Write(b);
    }

    private static void WriteU64(Stream s, ulong v)
    {
        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(b, v);
        s.Write(b);
    }

    private static void WriteString(Stream s, string v)
    {
        var bytes = Encoding.UTF8.GetBytes(v);
        WriteU64(s, (ulong)bytes.Length);
        s.Write(bytes);
    }

    /// <summary>Forwards writes and counts them, so a payload callback that writes the wrong size is caught.</summary>
    private sealed class CountingStream(Stream inner) : Stream
    {
        public long Count { get; private set; }
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => Count; set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));
        public override void Write(ReadOnlySpan<byte> buffer)
        {
            inner.Write(buffer);
            Count += buffer.Length;
        }
    }
}
