using System.Runtime.CompilerServices;
using SharpSeek.Kernels;

namespace SharpSeek.Tensors;

/// <summary>
/// A read-only tensor whose bytes live outside the managed heap (usually a memory-mapped model file).
/// Shape is in PyTorch order: for a matrix, <c>[rows, cols]</c> with cols contiguous (nn.Linear <c>[out, in]</c>).
/// </summary>
public sealed unsafe class WeightTensor
{
    public WeightTensor(string name, string file, DType type, long[] shape, byte* data, long byteLength, BlockScales? scales = null, int rowOffset = 0)
        : this(name, file, type, shape, data, byteLength, scales, rowOffset, null, grouped: false)
    {
    }

    private WeightTensor(string name, string file, DType type, long[] shape, byte* data, long byteLength, BlockScales? scales, int rowOffset, object? storage, bool grouped)
    {
        _storage = storage;
        _grouped = grouped;
        Name = name;
        File = file;
        Type = type;
        Shape = shape;
        Data = data;
        ByteLength = byteLength;
        Scales = scales;
        RowOffset = rowOffset;
        long n = 1;
        Cols = shape.Length == 0 ? 1 : shape[^1];
        try
        {
            foreach (long d in shape) n = checked(n * d);
            RowBytes = type.ByteCount(Cols);
        }
        catch (OverflowException)
        {
            // A zero dimension lets a huge one through the files' byte-size checks; its row size still overflows.
            throw new ModelFormatException($"{file}: tensor '{name}' of shape [{string.Join(", ", shape)}] overflows a 64-bit byte count");
        }
        ElementCount = n;
        Rows = Cols == 0 ? 0 : n / Cols;
    }

    /// <summary>The owner of an in-memory copy's bytes (a <see cref="WeightArena"/> block); the tensor keeps it alive.</summary>
    private readonly object? _storage;

    private readonly bool _grouped;

    public string Name { get; }
    /// <summary>File the tensor came from, for error messages.</summary>
    public string File { get; }
    public DType Type { get; }
    public long[] Shape { get; }
    public byte* Data { get; }
    public long ByteLength { get; }
    public long ElementCount { get; }
    /// <summary>Product of all but the last dimension.</summary>
    public long Rows { get; }
    /// <summary>Last dimension (contiguous).</summary>
    public long Cols { get; }
    public long RowBytes { get; }
    /// <summary>FP8 block scales (<c>weight_scale_inv</c>), indexed by the row in the original tensor.</summary>
    public BlockScales? Scales { get; }
    /// <summary>Row of the original tensor this view starts at (block scales are indexed by it).</summary>
    public int RowOffset { get; }

    /// <summary>
    /// Rows are in <see cref="RowGroups"/>' 8-row layout rather than the file's: <see cref="RowPointer"/> of a row that is a
    /// multiple of 8 points at its group, and only whole groups can be sliced.
    /// </summary>
    public bool Interleaved => _grouped;

    public string ShapeText => "[" + string.Join(", ", Shape) + "]";

    /// <summary>Pointer to the first byte of row <paramref name="row"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public byte* RowPointer(long row) => Data + row * RowBytes;

    /// <summary>Decodes row <paramref name="row"/> into float32.</summary>
    public void DequantizeRow(long row, Span<float> dst)
    {
        if ((ulong)row >= (ulong)Rows) throw new ArgumentOutOfRangeException(nameof(row));
        RowDecoder.Decode(this, row, dst[..(int)Cols]);
    }

    /// <summary>Decodes the whole tensor to float32 (tests and small tensors such as norms and biases).</summary>
    public float[] ToFloat32()
    {
        var result = new float[checked((int)ElementCount)];
        for (long r = 0; r < Rows; r++) DequantizeRow(r, result.AsSpan((int)(r * Cols), (int)Cols));
        return result;
    }

    /// <summary>A view of <paramref name="count"/> rows starting at <paramref name="start"/>, shaped <c>[count, cols]</c>.</summary>
    public WeightTensor SliceRows(long start, long count)
    {
        if (start < 0 || count < 0 || start + count > Rows) throw new ArgumentOutOfRangeException(nameof(start));
        if (Interleaved && (start % RowGroups.Rows != 0 || count % RowGroups.Rows != 0))
            throw new ArgumentOutOfRangeException(nameof(start), $"'{Name}' is in 8-row groups; rows {start}..{start + count} split a group");
        return new WeightTensor(Name, File, Type, [count, Cols], Data + start * RowBytes, count * RowBytes, Scales, checked(RowOffset + (int)start), _storage, _grouped);
    }

    /// <summary>This tensor over other bytes of the same size in <see cref="RowGroups"/>' layout.</summary>
    internal WeightTensor WithLayout(byte* data, object storage) => new(Name, File, Type, Shape, data, ByteLength, Scales, RowOffset, storage, grouped: true);

    /// <summary>This tensor over a copy of its bytes in the file's layout, owned by <paramref name="storage"/>.</summary>
    internal WeightTensor InMemory(byte* data, object storage) => new(Name, File, Type, Shape, data, ByteLength, Scales, RowOffset, storage, grouped: false);

    /// <summary>Sub-tensor <paramref name="index"/> along the first dimension (e.g. one expert of a stacked 3-D tensor).</summary>
    public WeightTensor Slice(long index)
    {
        if (Shape.Length < 2 || (ulong)index >= (ulong)Shape[0]) throw new ArgumentOutOfRangeException(nameof(index));
        long rowsPer = Rows / Shape[0];
        var sub = SliceRows(index * rowsPer, rowsPer);
        return new WeightTensor(Name + "[" + index + "]", File, Type, Shape[1..], sub.Data, sub.ByteLength, Scales, sub.RowOffset, _storage, _grouped);
    }
}

/// <summary>
/// DeepSeek FP8 block scales: <c>scale[ceil(rows/B), ceil(cols/B)]</c> fp32, multiplied into the fp8 values
/// (despite the checkpoint name <c>weight_scale_inv</c>). Edge blocks are partial.
/// </summary>
public sealed unsafe class BlockScales(float* data, int blockRows, int blockCols, int blockSize)
{
    public float* Data { get; } = data;
    public int BlockRows { get; } = blockRows;
    public int BlockCols { get; } = blockCols;
    public int BlockSize { get; } = blockSize;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float* RowScales(long row) => Data + row / BlockSize * BlockCols;
}
