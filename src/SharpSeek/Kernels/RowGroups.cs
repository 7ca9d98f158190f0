using System.Runtime.CompilerServices;
using SharpSeek.Tensors;

namespace SharpSeek.Kernels;

/// <summary>
/// A load-time layout for Q4_0 and Q8_0 matrices that lets one token's product read 8 rows per instruction: rows go in groups
/// of 8, and per 32-value block a group holds the 8 fp16 scales, then vectors whose lane r (4 bytes) is row r's values
/// 4k..4k+3, the operand <c>vpdpbusd</c> takes against the token's 4 bytes broadcast. Q4_0 keeps its packed nibbles (vector k,
/// k &lt; 4: low nibbles are values 4k.., high nibbles 16+4k..); Q8_0 stores w + 128 as unsigned bytes. A group is exactly
/// 8 rows' bytes, so the size is unchanged and row <c>8g</c> still starts at <c>8g · RowBytes</c>. llama.cpp does the same
/// ("repack" of Q4_0 into 8-row blocks); with rows apart, a decode step spent most of its time on per-row, per-block work.
/// </summary>
public static unsafe class RowGroups
{
    public const int Rows = 8;

    /// <summary>Off: matrices keep the file's row layout (benches compare; tests run both).</summary>
    public static bool Enabled { get; set; } = Environment.GetEnvironmentVariable("SHARPSEEK_ROW_GROUPS") != "0";

    /// <summary>Whether <paramref name="w"/> can take the layout on this CPU.</summary>
    public static bool Supports(WeightTensor w) =>
        w.Type is DType.Q4_0 or DType.Q8_0 && !w.Interleaved && w.Rows > 0 && w.Rows % Rows == 0 && w.Cols % 32 == 0
        && KernelPaths.Current != KernelPath.Scalar;

    /// <summary>Bytes of one group's 32-value block.</summary>
    public static int BlockBytes(DType type) => type switch
    {
        DType.Q4_0 => Rows * 18,
        DType.Q8_0 => Rows * 34,
        _ => throw new NotSupportedException($"no row-group layout for {type}"),
    };

    /// <summary>A copy of <paramref name="w"/> in the grouped layout, in pinned managed memory the returned tensor keeps alive.</summary>
    public static WeightTensor Interleave(WeightTensor w)
    {
        if (!Supports(w)) throw new ArgumentException($"{w.File}: tensor '{w.Name}' ({w.Type}, {w.ShapeText}) cannot take the row-group layout", nameof(w));
        var storage = GC.AllocateUninitializedArray<byte>(checked((int)w.ByteLength), pinned: true);
        byte* dst = (byte*)Unsafe.AsPointer(ref storage[0]);
        int nb = (int)(w.Cols / 32), bb = BlockBytes(w.Type);
        byte** rows = stackalloc byte*[Rows];
        for (long g = 0; g < w.Rows / Rows; g++)
        {
            for (int r = 0; r < Rows; r++) rows[r] = w.RowPointer(g * Rows + r);
            byte* gp = dst + g * Rows * w.RowBytes;
            for (int b = 0; b < nb; b++) PackBlock(w.Type, rows, b, gp + (long)b * bb);
        }
        MappedPages.Release(w.Data, w.ByteLength);
        return w.WithLayout(dst, storage);
    }

    private static void PackBlock(DType type, byte** rows, int b, byte* dst)
    {
        int src = type == DType.Q4_0 ? 18 : 34;
        int vectors = type == DType.Q4_0 ? 4 : 8;
        byte flip = type == DType.Q8_0 ? (byte)0x80 : (byte)0;
        for (int r = 0; r < Rows; r++)
        {
            byte* blk = rows[r] + (long)b * src;
            *(ushort*)(dst + 2 * r) = *(ushort*)blk;
            for (int k = 0; k < vectors; k++)
                for (int j = 0; j < 4; j++) dst[16 + k * 32 + r * 4 + j] = (byte)(blk[2 + 4 * k + j] ^ flip);
        }
    }

    /// <summary>Row <paramref name="row"/> of a grouped tensor back in the file's block layout (<paramref name="dst"/>: RowBytes).</summary>
    public static void RowBytes(WeightTensor w, long row, byte* dst)
    {
        int nb = (int)(w.Cols / 32), bb = BlockBytes(w.Type), r = (int)(row % Rows);
        int src = w.Type == DType.Q4_0 ? 18 : 34, vectors = w.Type == DType.Q4_0 ? 4 : 8;
        byte flip = w.Type == DType.Q8_0 ? (byte)0x80 : (byte)0;
        byte* gp = w.Data + row / Rows * Rows * w.RowBytes;
        for (int b = 0; b < nb; b++)
        {
            byte* g = gp + (long)b * bb, blk = dst + (long)b * src;
            *(ushort*)blk = *(ushort*)(g + 2 * r);
            for (int k = 0; k < vectors; k++)
                for (int j = 0; j < 4; j++) blk[2 + 4 * k + j] = (byte)(g[16 + k * 32 + r * 4 + j] ^ flip);
        }
    }
}
