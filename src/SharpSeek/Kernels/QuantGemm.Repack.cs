using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using SharpSeek.Tensors;

namespace SharpSeek.Kernels;

/// <summary>
/// Weight tiles: <see cref="QuantGemm.Rows"/> rows unpacked once per call into the layout <c>vpdpbusd</c> consumes with a
/// broadcast activation operand. Per 32-value block: 8 vectors, vector q holding values 4q..4q+3 of rows 0..7 (one int32
/// lane per row), all unsigned bytes (Q8_0 + 128, Q4_0/Q4_K nibbles, Q6_K 0..63); then per row the float block scale(s):
/// A = d (Q8_0, Q4_0), d·sc (Q4_K, with B = dmin·m), d·sc of the first and second 16 values (Q6_K).
/// </summary>
public static unsafe partial class QuantGemm
{
    private const int TileBlockBytes = Rows * 32;

    /// <summary>Bytes of one tile of <paramref name="cols"/> columns: values, then two floats per row and block.</summary>
    public static long TileBytes(int cols) => (long)(cols / 32) * (TileBlockBytes + 2 * Rows * sizeof(float));

    /// <summary>Unpacks rows <paramref name="r0"/>..<paramref name="r1"/> (at most 8; a short tile repeats its last row).</summary>
    internal static void Repack(WeightTensor w, int r0, int r1, byte* tile)
    {
        int nb = (int)w.Cols / 32;
        float* scales = (float*)(tile + (long)nb * TileBlockBytes);
        byte** rows = stackalloc byte*[Rows];
        for (int r = 0; r < Rows; r++) rows[r] = w.RowPointer(Math.Min(r0 + r, r1 - 1));
        byte* buf = stackalloc byte[TileBlockBytes];
        var type = w.Type;
        for (int b = 0; b < nb; b++)
        {
            float* s = scales + b * 2 * Rows;
            for (int r = 0; r < Rows; r++)
                Decode(type, rows[r], b, buf + r * 32, out s[r], out s[Rows + r]);
            Transpose(buf, tile + (long)b * TileBlockBytes);
        }
    }

    /// <summary>Block <paramref name="b"/> of one row as 32 unsigned bytes in value order, and its scale(s).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Decode(DType type, byte* row, int b, byte* dst, out float a, out float bScale)
    {
        switch (type)
        {
            case DType.Q8_0:
                {
                    byte* blk = row + b * 34;
                    (Vector256.Load(blk + 2) ^ Vector256.Create((byte)0x80)).Store(dst);   // w + 128: unsigned, offset comes back as 128·Σx
                    a = QuantDot.Half(blk);
                    bScale = 0;
                    return;
                }
            case DType.Q4_0:
                {
                    byte* blk = row + b * 18;
                    QuantDot.Q4_0Nibbles(blk).Store(dst);
                    a = QuantDot.Half(blk);
                    bScale = 0;
                    return;
                }
            case DType.Q4_K:
                {
                    int k = b & 7;
                    byte* blk = row + (b >> 3) * 144;
                    QuantDot.ScaleMinK4(k, blk + 4, out int sc, out int m);
                    var v = Vector256.Load(blk + 16 + (k >> 1) * 32);
                    (((k & 1) == 0 ? v : Vector256.ShiftRightLogical(v, 4)) & Vector256.Create((byte)0x0F)).Store(dst);
                    a = QuantDot.Half(blk) * sc;
                    bScale = QuantDot.Half(blk + 2) * m;
                    return;
                }
            case DType.Q6_K:
                {
                    int k8 = b & 7, n = k8 >> 2, k = k8 & 3;
                    byte* blk = row + (b >> 3) * 210;
                    var l = Vector256.Load(blk + n * 64 + (k & 1) * 32);
                    var h = Vector256.Load(blk + 128 + n * 32);
                    var lo = k < 2 ? l & Vector256.Create((byte)0x0F) : Vector256.ShiftRightLogical(l, 4);
                    var hi = Vector256.ShiftLeft(Vector256.ShiftRightLogical(h, 2 * k) & Vector256.Create((byte)0x03), 4);
                    (lo | hi).Store(dst);
                    float d = QuantDot.Half(blk + 208);
                    sbyte* sc = (sbyte*)(blk + 192) + n * 8 + 2 * k;
                    a = d * sc[0];
                    bScale = d * sc[1];
                    return;
                }
            default:
                throw new NotSupportedException($"no tiled kernel for {type}");
        }
    }

    /// <summary>8×8 transpose of int32 groups: row r's group q goes to lane r of vector q.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose(byte* src, byte* dst)
    {
        if (Avx2.IsSupported)
        {
            var v0 = Vector256.Load((int*)src);
            var v1 = Vector256.Load((int*)src + 8);
            var v2 = Vector256.Load((int*)src + 16);
            var v3 = Vector256.Load((int*)src + 24);
            var v4 = Vector256.Load((int*)src + 32);
            var v5 = Vector256.Load((int*)src + 40);
            var v6 = Vector256.Load((int*)src + 48);
            var v7 = Vector256.Load((int*)src + 56);
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
            return;
        }
        for (int q = 0; q < 8; q++)
            for (int r = 0; r < Rows; r++)
                ((int*)dst)[q * Rows + r] = ((int*)src)[r * 8 + q];
    }
}
