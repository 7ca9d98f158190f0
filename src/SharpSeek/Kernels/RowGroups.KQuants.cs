using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace SharpSeek.Kernels;

/// <summary>
/// The K-quants' group super-blocks (256 values of 8 rows; "lane-interleaved" below means vector k, lane r holds row r's bytes
/// 4k..4k+3 of a 32-byte run, as <c>vpdpbusd</c> reads it against a broadcast):
/// <list type="bullet">
/// <item>Q4_K (1152 B): 8 d (fp16), 8 dmin, the rows' 12-byte packed (scale, min) pairs lane-interleaved as 3 vectors (ggml's masks
/// then decode all 8 rows at once), and per nibble pair p (the file's bytes 32p.., low nibbles sub-block 2p, high 2p+1) 8
/// lane-interleaved vectors, 1024 B in all.</item>
/// <item>Q6_K (1680 B): 8 d, the rows' 16 int8 scales transposed (byte 8s + r is row r's scale s, one sign-extending load per
/// scale and 8 rows), then per 128-value half 3 × 8 lane-interleaved vectors A, B, C of recombined 6-bit values: with q0..q3
/// the half's 4 sub-blocks at one position, A = q0 | (q2 &gt;&gt; 4) &lt;&lt; 6, B = q1 | (q3 &gt;&gt; 4) &lt;&lt; 6 and
/// C = (q2 &amp; 15) | (q3 &amp; 15) &lt;&lt; 4. Sub-blocks 0 and 1 are then one mask each, 2 and 3 four or five operations,
/// where the file's ql/qh split costs four or five for every sub-block.</item>
/// </list>
/// </summary>
public static unsafe partial class RowGroups
{
    internal const int Q4_KDMin = 2 * Rows, Q4_KScales = 4 * Rows, Q4_KQs = Q4_KScales + 12 * Rows;
    internal const int Q6_KScales = 2 * Rows, Q6_KQ = Q6_KScales + 16 * Rows;

    /// <summary>Bytes of one Q6_K half's A, B or C vectors, and of the half.</summary>
    internal const int Q6_KPart = 8 * 32, Q6_KHalf = 3 * Q6_KPart;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackQ4_K(byte** rows, long at, byte* dst)
    {
        for (int r = 0; r < Rows; r++)
        {
            *(ushort*)(dst + 2 * r) = *(ushort*)(rows[r] + at);
            *(ushort*)(dst + Q4_KDMin + 2 * r) = *(ushort*)(rows[r] + at + 2);
        }
        // 16 bytes from the scales' offset (4) stay inside the block; the 4th vector (nibbles) is not kept.
        Transpose8x4(rows, at + 4, out var u0, out var u1, out var u2, out _);
        u0.Store((int*)(dst + Q4_KScales));
        u1.Store((int*)(dst + Q4_KScales + 32));
        u2.Store((int*)(dst + Q4_KScales + 64));
        for (int p = 0; p < 4; p++) Transpose8x8(rows, at + 16 + 32 * p, dst + Q4_KQs + 256 * p);
    }

    private static void UnpackQ4_K(byte* g, int r, byte* blk)
    {
        *(ushort*)blk = *(ushort*)(g + 2 * r);
        *(ushort*)(blk + 2) = *(ushort*)(g + Q4_KDMin + 2 * r);
        for (int u = 0; u < 3; u++) *(uint*)(blk + 4 + 4 * u) = *(uint*)(g + Q4_KScales + 32 * u + 4 * r);
        for (int p = 0; p < 4; p++)
            for (int k = 0; k < 8; k++) *(uint*)(blk + 16 + 32 * p + 4 * k) = *(uint*)(g + Q4_KQs + 256 * p + 32 * k + 4 * r);
    }

    /// <param name="scratch">3 × 256 bytes: one half's A, B and C of the 8 rows before they are interleaved.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackQ6_K(byte** rows, long at, byte* dst, byte* scratch)
    {
        for (int r = 0; r < Rows; r++)
        {
            *(ushort*)(dst + 2 * r) = *(ushort*)(rows[r] + at + 208);
            for (int s = 0; s < 16; s++) dst[Q6_KScales + 8 * s + r] = rows[r][at + 192 + s];
        }
        var m4 = Vector256.Create((byte)0x0F);
        for (int n = 0; n < 2; n++)
        {
            for (int r = 0; r < Rows; r++)
            {
                // ql[l] holds q0 (low nibble) and q2 (high); ql[32 + l] q1 and q3; qh[l] their top 2 bits, q0's lowest.
                byte* blk = rows[r] + at;
                var l0 = Vector256.Load(blk + 64 * n);
                var l1 = Vector256.Load(blk + 64 * n + 32);
                var h = Vector256.Load(blk + 128 + 32 * n);
                var a = (l0 & m4) | (Vector256.ShiftLeft(h, 4) & Vector256.Create((byte)0x30)) | (Vector256.ShiftLeft(h, 2) & Vector256.Create((byte)0xC0));
                var b = (l1 & m4) | (Vector256.ShiftLeft(h, 2) & Vector256.Create((byte)0x30)) | (h & Vector256.Create((byte)0xC0));
                var c = Vector256.ShiftRightLogical(l0, 4) | (l1 & Vector256.Create((byte)0xF0));
                a.Store(scratch + 32 * r);
                b.Store(scratch + Q6_KPart + 32 * r);
                c.Store(scratch + 2 * Q6_KPart + 32 * r);
            }
            byte* half = dst + Q6_KQ + Q6_KHalf * n;
            for (int part = 0; part < 3; part++)
            {
                byte* s = scratch + part * Q6_KPart;
                Transpose(Vector256.Load((int*)s), Vector256.Load((int*)(s + 32)), Vector256.Load((int*)(s + 64)), Vector256.Load((int*)(s + 96)),
                    Vector256.Load((int*)(s + 128)), Vector256.Load((int*)(s + 160)), Vector256.Load((int*)(s + 192)), Vector256.Load((int*)(s + 224)),
                    half + part * Q6_KPart);
            }
        }
    }

    private static void UnpackQ6_K(byte* g, int r, byte* blk)
    {
        *(ushort*)(blk + 208) = *(ushort*)(g + 2 * r);
        for (int s = 0; s < 16; s++) blk[192 + s] = g[Q6_KScales + 8 * s + r];
        for (int n = 0; n < 2; n++)
        {
            byte* half = g + Q6_KQ + Q6_KHalf * n;
            for (int l = 0; l < 32; l++)
            {
                int at = 32 * (l / 4) + 4 * r + l % 4;
                int a = half[at], b = half[Q6_KPart + at], c = half[2 * Q6_KPart + at];
                int q0 = a & 63, q1 = b & 63, q2 = (c & 15) | (a >> 6) << 4, q3 = (c >> 4) | (b >> 6) << 4;
                blk[64 * n + l] = (byte)((q0 & 15) | (q2 & 15) << 4);
                blk[64 * n + 32 + l] = (byte)((q1 & 15) | (q3 & 15) << 4);
                blk[128 + 32 * n + l] = (byte)((q0 >> 4) | (q1 >> 4) << 2 | (q2 >> 4) << 4 | (q3 >> 4) << 6);
            }
        }
    }

    /// <summary>Q6_K sub-block 0 or 1 of a half from its A or B vector (values 0..63).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<byte> Q6_KFirst(Vector256<byte> ab) => ab & Vector256.Create((byte)0x3F);

    /// <summary>Q6_K sub-block 2 (<paramref name="high"/> false: C's low nibbles, A's top bits) or 3 (C's high nibbles, B's top bits).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<byte> Q6_KSecond(Vector256<byte> ab, Vector256<byte> c, bool high)
    {
        // 16-bit shifts: the bits a shift moves across bytes are masked off.
        var lo = high ? Vector256.ShiftRightLogical(c.AsUInt16(), 4).AsByte() & Vector256.Create((byte)0x0F) : c & Vector256.Create((byte)0x0F);
        return lo | (Vector256.ShiftRightLogical(ab.AsUInt16(), 2).AsByte() & Vector256.Create((byte)0x30));
    }
}
