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
        if (w.Interleaved)
        {
            RepackGroup(w.Type, w.RowPointer(r0), nb, tile);
            return;
        }
        byte** rows = stackalloc byte*[Rows];
        for (int r = 0; r < Rows; r++) rows[r] = w.RowPointer(Math.Min(r0 + r, r1 - 1));
        switch (w.Type)
        {
            case DType.Q8_0: Repack<Q8_0Tile>(rows, nb, tile); break;
            case DType.Q4_0: Repack<Q4_0Tile>(rows, nb, tile); break;
            case DType.Q4_K: Repack<Q4_KTile>(rows, nb, tile); break;
            case DType.Q6_K: Repack<Q6_KTile>(rows, nb, tile); break;
            default: throw new NotSupportedException($"no tiled kernel for {w.Type}");
        }
    }

    /// <summary>
    /// A group of <see cref="RowGroups"/>' layout is the tile already, up to unpacking the values and computing the scales; both
    /// come out bit for bit as <see cref="Repack{T}"/> makes them from rows (the same fp16 conversion and float products).
    /// </summary>
    private static void RepackGroup(DType type, byte* g, int nb, byte* tile)
    {
        switch (type)
        {
            case DType.Q4_K: RepackGroupQ4_K(g, nb / 8, tile); return;
            case DType.Q6_K: RepackGroupQ6_K(g, nb / 8, tile); return;
        }
        float* scales = (float*)(tile + (long)nb * TileBlockBytes);
        int bb = RowGroups.BlockBytes(type);
        var m = Vector256.Create((byte)0x0F);
        for (int b = 0; b < nb; b++)
        {
            byte* blk = g + (long)b * bb, v = blk + 2 * Rows, t = tile + (long)b * TileBlockBytes;
            if (type == DType.Q4_0)
            {
                for (int k = 0; k < 4; k++)
                {
                    var p = Vector256.Load(v + 32 * k);
                    (p & m).Store(t + 32 * k);
                    (Vector256.ShiftRightLogical(p.AsUInt16(), 4).AsByte() & m).Store(t + 32 * (k + 4));
                }
            }
            else
            {
                for (int k = 0; k < 8; k++) Vector256.Load(v + 32 * k).Store(t + 32 * k);
            }
            QuantDot.Halves8(blk).Store(scales + b * 2 * Rows);
        }
    }

    /// <summary>Q4_K: sub-block 2p + h is nibble pair p's low (h = 0) or high nibbles; A = d·sc, B = dmin·m as <see cref="Q4_KTile"/>.</summary>
    private static void RepackGroupQ4_K(byte* g, int superBlocks, byte* tile)
    {
        float* scales = (float*)(tile + (long)superBlocks * 8 * TileBlockBytes);
        var m4 = Vector256.Create((byte)0x0F);
        for (int i = 0; i < superBlocks; i++)
        {
            byte* sb = g + (long)i * RowGroups.BlockBytes(DType.Q4_K);
            var d = QuantDot.Halves8(sb);
            var dmin = QuantDot.Halves8(sb + RowGroups.Q4_KDMin);
            QuantDot.Q4_KGroupScales(sb, out var scLo, out var scHi, out var mLo, out var mHi);
            for (int j = 0; j < 8; j++)
            {
                int b = i * 8 + j;
                byte* v = sb + RowGroups.Q4_KQs + 256 * (j >> 1), t = tile + (long)b * TileBlockBytes;
                for (int k = 0; k < 8; k++)
                {
                    var p = Vector256.Load(v + 32 * k);
                    ((j & 1) == 0 ? p & m4 : Vector256.ShiftRightLogical(p, 4)).Store(t + 32 * k);
                }
                var sj = Vector256.ShiftRightLogical(j < 4 ? scLo : scHi, 8 * (j & 3)) & Vector256.Create(0xFFu);
                var mj = Vector256.ShiftRightLogical(j < 4 ? mLo : mHi, 8 * (j & 3)) & Vector256.Create(0xFFu);
                (d * Vector256.ConvertToSingle(sj.AsInt32())).Store(scales + b * 2 * Rows);
                (dmin * Vector256.ConvertToSingle(mj.AsInt32())).Store(scales + b * 2 * Rows + Rows);
            }
        }
    }

    /// <summary>Q6_K: the 6-bit values as the group kernel unpacks them; A and B = d·scale of each 16-value half as <see cref="Q6_KTile"/>.</summary>
    private static void RepackGroupQ6_K(byte* g, int superBlocks, byte* tile)
    {
        float* scales = (float*)(tile + (long)superBlocks * 8 * TileBlockBytes);
        for (int i = 0; i < superBlocks; i++)
        {
            byte* sb = g + (long)i * RowGroups.BlockBytes(DType.Q6_K);
            var d = QuantDot.Halves8(sb);
            sbyte* sc = (sbyte*)(sb + RowGroups.Q6_KScales);
            for (int j = 0; j < 8; j++)
            {
                int b = i * 8 + j, k = j & 3;
                byte* half = sb + RowGroups.Q6_KQ + RowGroups.Q6_KHalf * (j >> 2), t = tile + (long)b * TileBlockBytes;
                byte* ab = half + (k & 1) * RowGroups.Q6_KPart, c = half + 2 * RowGroups.Q6_KPart;
                for (int q = 0; q < 8; q++)
                {
                    var w = Vector256.Load(ab + 32 * q);
                    (k < 2 ? RowGroups.Q6_KFirst(w) : RowGroups.Q6_KSecond(w, Vector256.Load(c + 32 * q), k == 3)).Store(t + 32 * q);
                }
                (d * Vector256.ConvertToSingle(Avx2.ConvertToVector256Int32(sc + 16 * j))).Store(scales + b * 2 * Rows);
                (d * Vector256.ConvertToSingle(Avx2.ConvertToVector256Int32(sc + 16 * j + 8))).Store(scales + b * 2 * Rows + Rows);
            }
        }
    }

    /// <summary>One type's block decoding, specialized per type so the loop carries no type switch.</summary>
    private interface ITileDecoder
    {
        /// <summary>Block <paramref name="b"/> of a row as 32 unsigned bytes in value order.</summary>
        static abstract Vector256<byte> Values(byte* row, int b);

        /// <summary>Block <paramref name="b"/>'s scale A of rows 0..7 to <paramref name="s"/>[0..8], B to [8..16].</summary>
        static abstract void Scales(byte** rows, int b, float* s);
    }

    private static void Repack<T>(byte** rows, int nb, byte* tile) where T : ITileDecoder
    {
        float* scales = (float*)(tile + (long)nb * TileBlockBytes);
        for (int b = 0; b < nb; b++)
        {
            Transpose(T.Values(rows[0], b).AsInt32(), T.Values(rows[1], b).AsInt32(), T.Values(rows[2], b).AsInt32(), T.Values(rows[3], b).AsInt32(),
                T.Values(rows[4], b).AsInt32(), T.Values(rows[5], b).AsInt32(), T.Values(rows[6], b).AsInt32(), T.Values(rows[7], b).AsInt32(),
                tile + (long)b * TileBlockBytes);
            T.Scales(rows, b, scales + b * 2 * Rows);
        }
    }

    /// <summary>The fp16 at byte <paramref name="at"/> of each row, to float with <see cref="QuantDot.Half"/>'s exact bit trick, 8 at once.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Halves(byte** rows, long at)
    {
        var h = Vector256.Create(*(ushort*)(rows[0] + at), *(ushort*)(rows[1] + at), *(ushort*)(rows[2] + at), *(ushort*)(rows[3] + at),
            *(ushort*)(rows[4] + at), *(ushort*)(rows[5] + at), *(ushort*)(rows[6] + at), (uint)*(ushort*)(rows[7] + at));
        return QuantDot.HalfBits(h);
    }

    /// <summary>Q8_0: w + 128 (unsigned; the offset comes back as 128·Σx), scale d.</summary>
    private readonly struct Q8_0Tile : ITileDecoder
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<byte> Values(byte* row, int b) => Vector256.Load(row + b * 34 + 2) ^ Vector256.Create((byte)0x80);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Scales(byte** rows, int b, float* s) => Halves(rows, b * 34L).Store(s);
    }

    /// <summary>Q4_0: the nibbles as they are (offset 8·Σx), scale d.</summary>
    private readonly struct Q4_0Tile : ITileDecoder
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<byte> Values(byte* row, int b) => QuantDot.Q4_0Nibbles(row + b * 18);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Scales(byte** rows, int b, float* s) => Halves(rows, b * 18L).Store(s);
    }

    /// <summary>Q4_K sub-block b: nibbles, A = d·sc, B = dmin·m.</summary>
    private readonly struct Q4_KTile : ITileDecoder
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<byte> Values(byte* row, int b)
        {
            var v = Vector256.Load(row + (b >> 3) * 144 + 16 + ((b & 7) >> 1) * 32);
            return ((b & 1) == 0 ? v : Vector256.ShiftRightLogical(v, 4)) & Vector256.Create((byte)0x0F);
        }

        public static void Scales(byte** rows, int b, float* s)
        {
            int k = b & 7;
            for (int r = 0; r < Rows; r++)
            {
                byte* blk = rows[r] + (b >> 3) * 144;
                QuantDot.ScalesMinsK4(blk + 4, out ulong scales, out ulong mins);
                s[r] = QuantDot.Half(blk) * (byte)(scales >> (8 * k));
                s[Rows + r] = QuantDot.Half(blk + 2) * (byte)(mins >> (8 * k));
            }
        }
    }

    /// <summary>Q6_K sub-block b: 6-bit values 0..63 (offset 32·Σx per 16), A and B = d·scale of each 16-value half.</summary>
    private readonly struct Q6_KTile : ITileDecoder
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<byte> Values(byte* row, int b)
        {
            int k8 = b & 7, n = k8 >> 2, k = k8 & 3;
            byte* blk = row + (b >> 3) * 210;
            var l = Vector256.Load(blk + n * 64 + (k & 1) * 32);
            var h = Vector256.Load(blk + 128 + n * 32);
            var lo = k < 2 ? l & Vector256.Create((byte)0x0F) : Vector256.ShiftRightLogical(l, 4);
            return lo | Vector256.ShiftLeft(Vector256.ShiftRightLogical(h, 2 * k) & Vector256.Create((byte)0x03), 4);
        }

        public static void Scales(byte** rows, int b, float* s)
        {
            int k8 = b & 7;
            for (int r = 0; r < Rows; r++)
            {
                byte* blk = rows[r] + (b >> 3) * 210;
                float d = QuantDot.Half(blk + 208);
                sbyte* sc = (sbyte*)(blk + 192) + 2 * k8;
                s[r] = d * sc[0];
                s[Rows + r] = d * sc[1];
            }
        }
    }

    /// <summary>8×8 transpose of int32 groups (every tiled path has AVX2): row r's group q goes to lane r of output vector q.</summary>
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
