using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace SharpSeek.Kernels;

/// <summary>
/// One token against a Q4_K group (<see cref="RowGroups"/>): per 32-value sub-block, 8 <c>vpdpbusd</c> give the 8 rows' exact
/// int32 nibble dots, and the (scale, min) pairs of all 8 rows are decoded once per super-block with ggml's masks on vectors.
/// Per sub-block one FMA adds sc·dx·Σqx and one subtracts m·dx·Σx for the 8 rows; d and dmin (fp16, 8 at once) multiply the
/// super-block's sums once, instead of per row and sub-block as the row kernel does.
/// </summary>
public static unsafe partial class QuantDot
{
    private const int Q4_KGroupBytes = RowGroups.Rows * Q4_KBytes;

    internal static void Q4_KGroupReference(byte* g, Q8Row x, int superBlocks, float* y)
    {
        byte* q = stackalloc byte[12];
        for (int r = 0; r < RowGroups.Rows; r++)
        {
            float sum = 0;
            for (int i = 0; i < superBlocks; i++)
            {
                byte* sb = g + (long)i * Q4_KGroupBytes;
                float d = HalfExact(sb + 2 * r), dmin = HalfExact(sb + RowGroups.Q4_KDMin + 2 * r);
                for (int j = 0; j < 12; j++) q[j] = sb[RowGroups.Q4_KScales + 32 * (j / 4) + 4 * r + j % 4];
                for (int k = 0; k < 8; k++)
                {
                    ScaleMinK4(k, q, out int sc, out int m);
                    int b = i * 8 + k;
                    sbyte* xq = x.Qs + b * 32;
                    int s = 0;
                    for (int j = 0; j < 32; j++)
                    {
                        byte v = sb[RowGroups.Q4_KQs + 256 * (k / 2) + 32 * (j / 4) + 4 * r + j % 4];
                        s += ((v >> (4 * (k & 1))) & 0xF) * xq[j];
                    }
                    sum += d * sc * x.D[b] * s - dmin * m * x.D[b] * x.Sum32[b];
                }
            }
            y[r] = sum;
        }
    }

    private static void Q4_KGroup<T>(byte* g, Q8Row x, int superBlocks, float* y) where T : IDotU8S8
    {
        var acc = Vector256<float>.Zero;
        var mins = Vector256<float>.Zero;
        for (int i = 0; i < superBlocks; i++)
        {
            byte* sb = g + (long)i * Q4_KGroupBytes;
            Q4_KGroupScales(sb, out var scLo, out var scHi, out var mLo, out var mHi);
            // Even and odd sub-blocks in separate sums, so the FMAs form two chains.
            Vector256<float> s0 = default, s1 = default, m0 = default, m1 = default;
            byte* q = sb + RowGroups.Q4_KQs;
            int b = i * 8;
            sbyte* xq = x.Qs + b * 32;
            float* dx = x.D + b;
            int* sx = x.Sum32 + b;
            Q4_KGroupPair<T>(q, xq, out var lo, out var hi);
            s0 = Q4_KScaled(lo, scLo, 0, dx[0], s0);
            s1 = Q4_KScaled(hi, scLo, 8, dx[1], s1);
            m0 = Q4_KScaled(sx[0], mLo, 0, dx[0], m0);
            m1 = Q4_KScaled(sx[1], mLo, 8, dx[1], m1);
            Q4_KGroupPair<T>(q + 256, xq + 64, out lo, out hi);
            s0 = Q4_KScaled(lo, scLo, 16, dx[2], s0);
            s1 = Q4_KScaled(hi, scLo, 24, dx[3], s1);
            m0 = Q4_KScaled(sx[2], mLo, 16, dx[2], m0);
            m1 = Q4_KScaled(sx[3], mLo, 24, dx[3], m1);
            Q4_KGroupPair<T>(q + 512, xq + 128, out lo, out hi);
            s0 = Q4_KScaled(lo, scHi, 0, dx[4], s0);
            s1 = Q4_KScaled(hi, scHi, 8, dx[5], s1);
            m0 = Q4_KScaled(sx[4], mHi, 0, dx[4], m0);
            m1 = Q4_KScaled(sx[5], mHi, 8, dx[5], m1);
            Q4_KGroupPair<T>(q + 768, xq + 192, out lo, out hi);
            s0 = Q4_KScaled(lo, scHi, 16, dx[6], s0);
            s1 = Q4_KScaled(hi, scHi, 24, dx[7], s1);
            m0 = Q4_KScaled(sx[6], mHi, 16, dx[6], m0);
            m1 = Q4_KScaled(sx[7], mHi, 24, dx[7], m1);
            acc = Vector256.FusedMultiplyAdd(s0 + s1, Halves8(sb), acc);
            mins = Vector256.FusedMultiplyAdd(m0 + m1, Halves8(sb + RowGroups.Q4_KDMin), mins);
        }
        (acc - mins).Store(y);
    }

    /// <summary>
    /// <see cref="ScalesMinsK4"/> on the 8 rows' words at once: byte j of lane r is row r's scale (min) of sub-block j (Lo) or
    /// 4 + j (Hi).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Q4_KGroupScales(byte* sb, out Vector256<uint> scLo, out Vector256<uint> scHi, out Vector256<uint> mLo, out Vector256<uint> mHi)
    {
        var k1 = Vector256.Create(0x3F3F3F3Fu);
        var k2 = Vector256.Create(0x0F0F0F0Fu);
        var k3 = Vector256.Create(0x03030303u);
        var u0 = Vector256.Load((uint*)(sb + RowGroups.Q4_KScales));
        var u1 = Vector256.Load((uint*)(sb + RowGroups.Q4_KScales + 32));
        var u2 = Vector256.Load((uint*)(sb + RowGroups.Q4_KScales + 64));
        scLo = u0 & k1;
        scHi = (u2 & k2) | Vector256.ShiftLeft(Vector256.ShiftRightLogical(u0, 6) & k3, 4);
        mLo = u1 & k1;
        mHi = (Vector256.ShiftRightLogical(u2, 4) & k2) | Vector256.ShiftLeft(Vector256.ShiftRightLogical(u1, 6) & k3, 4);
    }

    /// <summary>acc + dot · (byte <paramref name="shift"/>/8 of each lane of <paramref name="scales"/>) · dx.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Q4_KScaled(Vector256<int> dot, Vector256<uint> scales, int shift, float dx, Vector256<float> acc)
    {
        var sc = shift == 24 ? Vector256.ShiftRightLogical(scales, 24) : Vector256.ShiftRightLogical(scales, shift) & Vector256.Create(0xFFu);
        return Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(dot), Vector256.ConvertToSingle(sc.AsInt32()) * Vector256.Create(dx), acc);
    }

    /// <summary>The min term: acc + m · dx·Σx (the same for all 8 rows but m).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Q4_KScaled(int sumX, Vector256<uint> mins, int shift, float dx, Vector256<float> acc)
    {
        var m = shift == 24 ? Vector256.ShiftRightLogical(mins, 24) : Vector256.ShiftRightLogical(mins, shift) & Vector256.Create(0xFFu);
        return Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(m.AsInt32()), Vector256.Create(dx * sumX), acc);
    }

    /// <summary>
    /// One nibble pair (8 interleaved vectors): the 8 rows' dots of sub-block 2p (low nibbles, x at <paramref name="xq"/>) and
    /// 2p + 1 (high nibbles, x 32 further). Four chains of four, so consecutive <c>vpdpbusd</c> do not wait on each other.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Q4_KGroupPair<T>(byte* v, sbyte* xq, out Vector256<int> lo, out Vector256<int> hi) where T : IDotU8S8
    {
        var m = Vector256.Create((byte)0x0F);
        sbyte* xh = xq + 32;
        var p = Vector256.Load(v);
        var la = T.Dot(p & m, Broadcast4(xq, 0));
        var ha = T.Dot(Vector256.ShiftRightLogical(p.AsUInt16(), 4).AsByte() & m, Broadcast4(xh, 0));
        p = Vector256.Load(v + 128);
        var lb = T.Dot(p & m, Broadcast4(xq, 4));
        var hb = T.Dot(Vector256.ShiftRightLogical(p.AsUInt16(), 4).AsByte() & m, Broadcast4(xh, 4));
        for (int k = 1; k < 4; k++)
        {
            p = Vector256.Load(v + 32 * k);
            la = T.DotAdd(la, p & m, Broadcast4(xq, k));
            ha = T.DotAdd(ha, Vector256.ShiftRightLogical(p.AsUInt16(), 4).AsByte() & m, Broadcast4(xh, k));
            p = Vector256.Load(v + 128 + 32 * k);
            lb = T.DotAdd(lb, p & m, Broadcast4(xq, 4 + k));
            hb = T.DotAdd(hb, Vector256.ShiftRightLogical(p.AsUInt16(), 4).AsByte() & m, Broadcast4(xh, 4 + k));
        }
        lo = la + lb;
        hi = ha + hb;
    }
}
