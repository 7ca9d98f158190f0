using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using SharpSeek.Tensors;

namespace SharpSeek.Kernels;

/// <summary>
/// A load-time layout for Q4_0, Q8_0, Q4_K and Q6_K matrices that lets one token's product read 8 rows per instruction: rows go
/// in groups of 8, and per block (32 values; 256 for the K-quants) a group holds the 8 rows' scales together, then vectors whose
/// lane r (4 bytes) is row r's values 4k..4k+3, the operand <c>vpdpbusd</c> takes against the token's 4 bytes broadcast. Q4_0
/// keeps its packed nibbles (vector k, k &lt; 4: low nibbles are values 4k.., high nibbles 16+4k..); Q8_0 stores w + 128 as
/// unsigned bytes; the K-quants are in RowGroups.KQuants.cs. A group's block is exactly 8 of the file's blocks, so the size is
/// unchanged and row <c>8g</c> still starts at <c>8g · RowBytes</c>. llama.cpp does the same ("repack" of Q4_0 into 8-row
/// blocks); with rows apart, a decode step spent most of its time on per-row, per-block work.
/// </summary>
public static unsafe partial class RowGroups
{
    public const int Rows = 8;

    /// <summary>
    /// Whether <paramref name="w"/> can take the layout for kernels on <paramref name="path"/> (every vector path has AVX2, which
    /// packing uses; the scalar path reads the file's rows).
    /// </summary>
    public static bool Supports(WeightTensor w, KernelPath path) =>
        CanPack(w.Type, w.Cols, path) && !w.Interleaved && w.Rows > 0 && w.Rows % Rows == 0;

    /// <summary>Whether rows of <paramref name="type"/> and <paramref name="cols"/> columns can be packed into groups for <paramref name="path"/>.</summary>
    public static bool CanPack(DType type, long cols, KernelPath path) =>
        type is DType.Q4_0 or DType.Q8_0 or DType.Q4_K or DType.Q6_K && cols > 0 && cols % type.BlockSize() == 0 && path != KernelPath.Scalar;

    /// <summary>Bytes of one group's block: 8 of the file's blocks (32 values, or a 256-value super-block for Q4_K and Q6_K).</summary>
    public static int BlockBytes(DType type) => type switch
    {
        DType.Q4_0 or DType.Q8_0 or DType.Q4_K or DType.Q6_K => Rows * type.BlockBytes(),
        _ => throw new NotSupportedException($"no row-group layout for {type}"),
    };

    /// <summary>
    /// A copy of <paramref name="w"/> in the grouped layout, in memory from <paramref name="arena"/> (a block of its own if
    /// none) that the returned tensor keeps alive. The packing methods skip tiering: a model loads before they would be
    /// recompiled, and unoptimized, their vector code packed a Q6_K matrix ~30× slower.
    /// </summary>
    public static WeightTensor Interleave(WeightTensor w, WeightArena? arena = null)
    {
        if (!Supports(w, KernelPaths.Best)) throw new ArgumentException($"{w.File}: tensor '{w.Name}' ({w.Type}, {w.ShapeText}) cannot take the row-group layout", nameof(w));
        byte* dst = (arena ?? new WeightArena(blockBytes: 0)).Allocate(w.ByteLength, out var storage);
        byte** rows = stackalloc byte*[Rows];
        for (long g = 0; g < w.Rows / Rows; g++)
        {
            for (int r = 0; r < Rows; r++) rows[r] = w.RowPointer(g * Rows + r);
            Pack(w.Type, rows, (int)w.Cols, dst + g * Rows * w.RowBytes);
        }
        MappedPages.Release(w.Data, w.ByteLength);
        return w.WithLayout(dst, storage);
    }

    /// <summary>
    /// Packs 8 rows of <paramref name="cols"/> values (in the file's layout; pointers may repeat) into one group at
    /// <paramref name="dst"/> (8 rows' bytes). Products over matrices that keep the file's layout pack each group on the fly.
    /// </summary>
    public static void Pack(DType type, byte** rows, int cols, byte* dst)
    {
        int nb = cols / type.BlockSize(), bb = BlockBytes(type), fb = type.BlockBytes();
        byte* scratch = stackalloc byte[3 * Rows * 32];
        for (int b = 0; b < nb; b++)
        {
            byte* o = dst + (long)b * bb;
            long at = (long)b * fb;
            switch (type)
            {
                case DType.Q4_0: PackQ4_0(rows, at, o); break;
                case DType.Q8_0: PackQ8_0(rows, at, o); break;
                case DType.Q4_K: PackQ4_K(rows, at, o); break;
                default: PackQ6_K(rows, at, o, scratch); break;
            }
        }
    }

    /// <summary>Row <paramref name="row"/> of a grouped tensor back in the file's block layout (<paramref name="dst"/>: RowBytes).</summary>
    public static void RowBytes(WeightTensor w, long row, byte* dst)
    {
        int nb = (int)(w.Cols / w.Type.BlockSize()), bb = BlockBytes(w.Type), fb = w.Type.BlockBytes(), r = (int)(row % Rows);
        byte* gp = w.Data + row / Rows * Rows * w.RowBytes;
        for (int b = 0; b < nb; b++)
        {
            byte* g = gp + (long)b * bb, blk = dst + (long)b * fb;
            switch (w.Type)
            {
                case DType.Q4_0 or DType.Q8_0:
                    int vectors = w.Type == DType.Q4_0 ? 4 : 8;
                    byte flip = w.Type == DType.Q8_0 ? (byte)0x80 : (byte)0;
                    *(ushort*)blk = *(ushort*)(g + 2 * r);
                    for (int k = 0; k < vectors; k++)
                        for (int j = 0; j < 4; j++) blk[2 + 4 * k + j] = (byte)(g[16 + k * 32 + r * 4 + j] ^ flip);
                    break;
                case DType.Q4_K: UnpackQ4_K(g, r, blk); break;
                default: UnpackQ6_K(g, r, blk); break;
            }
        }
    }

    /// <summary>Q4_0: 8 fp16 scales, then the 16 nibble bytes of each row as 4 lane-interleaved vectors.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackQ4_0(byte** rows, long at, byte* dst)
    {
        for (int r = 0; r < Rows; r++) *(ushort*)(dst + 2 * r) = *(ushort*)(rows[r] + at);
        Transpose8x4(rows, at + 2, out var v0, out var v1, out var v2, out var v3);
        v0.Store((int*)(dst + 16));
        v1.Store((int*)(dst + 48));
        v2.Store((int*)(dst + 80));
        v3.Store((int*)(dst + 112));
    }

    /// <summary>Q8_0: 8 fp16 scales, then w + 128 as 8 lane-interleaved vectors.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackQ8_0(byte** rows, long at, byte* dst)
    {
        for (int r = 0; r < Rows; r++) *(ushort*)(dst + 2 * r) = *(ushort*)(rows[r] + at);
        var flip = Vector256.Create((byte)0x80);
        Transpose((Vector256.Load(rows[0] + at + 2) ^ flip).AsInt32(), (Vector256.Load(rows[1] + at + 2) ^ flip).AsInt32(),
            (Vector256.Load(rows[2] + at + 2) ^ flip).AsInt32(), (Vector256.Load(rows[3] + at + 2) ^ flip).AsInt32(),
            (Vector256.Load(rows[4] + at + 2) ^ flip).AsInt32(), (Vector256.Load(rows[5] + at + 2) ^ flip).AsInt32(),
            (Vector256.Load(rows[6] + at + 2) ^ flip).AsInt32(), (Vector256.Load(rows[7] + at + 2) ^ flip).AsInt32(), dst + 16);
    }

    /// <summary>The 32 bytes at <paramref name="at"/> of each of the 8 rows, lane-interleaved into 8 vectors at <paramref name="dst"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose8x8(byte** rows, long at, byte* dst) =>
        Transpose(Vector256.Load(rows[0] + at).AsInt32(), Vector256.Load(rows[1] + at).AsInt32(),
            Vector256.Load(rows[2] + at).AsInt32(), Vector256.Load(rows[3] + at).AsInt32(),
            Vector256.Load(rows[4] + at).AsInt32(), Vector256.Load(rows[5] + at).AsInt32(),
            Vector256.Load(rows[6] + at).AsInt32(), Vector256.Load(rows[7] + at).AsInt32(), dst);

    /// <summary>The 16 bytes at <paramref name="at"/> of each of the 8 rows as 4 vectors, vector k lane r = row r's bytes 4k..4k+3.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose8x4(byte** rows, long at, out Vector256<int> v0, out Vector256<int> v1, out Vector256<int> v2, out Vector256<int> v3)
    {
        // Rows r and r + 4 share a vector (halves), so one in-lane 4×4 transpose serves both halves.
        var a = Vector256.Create(Vector128.Load((int*)(rows[0] + at)), Vector128.Load((int*)(rows[4] + at)));
        var b = Vector256.Create(Vector128.Load((int*)(rows[1] + at)), Vector128.Load((int*)(rows[5] + at)));
        var c = Vector256.Create(Vector128.Load((int*)(rows[2] + at)), Vector128.Load((int*)(rows[6] + at)));
        var d = Vector256.Create(Vector128.Load((int*)(rows[3] + at)), Vector128.Load((int*)(rows[7] + at)));
        var t0 = Avx2.UnpackLow(a, b).AsInt64();   // a0 b0 a1 b1
        var t1 = Avx2.UnpackHigh(a, b).AsInt64();  // a2 b2 a3 b3
        var t2 = Avx2.UnpackLow(c, d).AsInt64();
        var t3 = Avx2.UnpackHigh(c, d).AsInt64();
        v0 = Avx2.UnpackLow(t0, t2).AsInt32();
        v1 = Avx2.UnpackHigh(t0, t2).AsInt32();
        v2 = Avx2.UnpackLow(t1, t3).AsInt32();
        v3 = Avx2.UnpackHigh(t1, t3).AsInt32();
    }
}

public static unsafe partial class RowGroups
{
    /// <summary>8×8 transpose of int32 groups (every vector path has AVX2): row r's group q goes to lane r of output vector q.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Transpose(Vector256<int> v0, Vector256<int> v1, Vector256<int> v2, Vector256<int> v3,
        Vector256<int> v4, Vector256<int> v5, Vector256<int> v6, Vector256<int> v7, byte* dst)
    {
        var t0 = Avx2.UnpackLow(v0, v1).AsInt64();
        var t1 = Avx2.UnpackHigh(v0, v1).AsInt64();
        var t2 = Avx2.UnpackLow(v2, v3).AsInt64();
        var t3 = Avx2.UnpackHigh(v2, v3).AsInt64();
        var t4 = Avx2.UnpackLow(v4, v5).AsInt64();
        var t5 = Avx2.UnpackHigh(v4, v5).AsInt64();
        var t6 = Avx2.UnpackLow(v6, v7).AsInt64();
        var t7 = Avx2.UnpackHigh(v6, v7).AsInt64();
        var u0 = Avx2.UnpackLow(t0, t2);   // groups 0 | 4 of rows 0..3
        var u1 = Avx2.UnpackHigh(t0, t2);  // 1 | 5
        var u2 = Avx2.UnpackLow(t1, t3);   // 2 | 6
        var u3 = Avx2.UnpackHigh(t1, t3);  // 3 | 7
        var u4 = Avx2.UnpackLow(t4, t6);   // same for rows 4..7
        var u5 = Avx2.UnpackHigh(t4, t6);
        var u6 = Avx2.UnpackLow(t5, t7);
        var u7 = Avx2.UnpackHigh(t5, t7);
        Avx2.Permute2x128(u0, u4, 0x20).Store((long*)dst);
        Avx2.Permute2x128(u1, u5, 0x20).Store((long*)dst + 4);
        Avx2.Permute2x128(u2, u6, 0x20).Store((long*)dst + 8);
        Avx2.Permute2x128(u3, u7, 0x20).Store((long*)dst + 12);
        Avx2.Permute2x128(u0, u4, 0x31).Store((long*)dst + 16);
        Avx2.Permute2x128(u1, u5, 0x31).Store((long*)dst + 20);
        Avx2.Permute2x128(u2, u6, 0x31).Store((long*)dst + 24);
        Avx2.Permute2x128(u3, u7, 0x31).Store((long*)dst + 28);
    }
}
