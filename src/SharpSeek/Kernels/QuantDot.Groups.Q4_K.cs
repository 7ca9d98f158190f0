using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace SharpSeek.Kernels;

/// <summary>
/// One to four tokens (Q8_K activations, <see cref="Q8KRow"/>) against a Q4_K group (<see cref="RowGroups"/>): per 32-value
/// sub-block, 8 <c>vpdpbusd</c> per token give the 8 rows' exact int32 nibble dots, and the (scale, min) pairs of all 8 rows are
/// decoded once per super-block with ggml's masks on vectors. As the activations have one scale per super-block, the scales
/// multiply the dots in int32 (|Σ sc·dot| ≤ 8·63·32·15·127 &lt; 2^25) and the mins the per-32 sums (<c>vpmaddwd</c>, two
/// sub-blocks at once); the two sums convert once per super-block: y += d·dx·Σ sc·dot − dmin·dx·Σ m·Σx. Each nibble vector is
/// unpacked once for all the call's tokens; every token's float steps are those it takes alone.
/// </summary>
public static unsafe partial class QuantDot
{
    private const int Q4_KGroupBytes = RowGroups.Rows * Q4_KBytes;

    internal static void Q4_KGroupReference(byte* g, Q8KRow x, int superBlocks, float* y)
    {
        byte* q = stackalloc byte[12];
        for (int r = 0; r < RowGroups.Rows; r++)
        {
            float acc = 0, mins = 0;
            for (int i = 0; i < superBlocks; i++)
            {
                byte* sb = g + (long)i * Q4_KGroupBytes;
                float d = HalfExact(sb + 2 * r), dmin = HalfExact(sb + RowGroups.Q4_KDMin + 2 * r);
                for (int j = 0; j < 12; j++) q[j] = sb[RowGroups.Q4_KScales + 32 * (j / 4) + 4 * r + j % 4];
                int dots = 0, m = 0;
                for (int k = 0; k < 8; k++)
                {
                    ScaleMinK4(k, q, out int sc, out int mk);
                    sbyte* xq = x.Qs + i * 256 + k * 32;
                    int s = 0;
                    for (int j = 0; j < 32; j++)
                    {
                        byte v = sb[RowGroups.Q4_KQs + 256 * (k / 2) + 32 * (j / 4) + 4 * r + j % 4];
                        s += ((v >> (4 * (k & 1))) & 0xF) * xq[j];
                    }
                    dots += sc * s;
                    m += mk * (x.BSums[16 * i + 2 * k] + x.BSums[16 * i + 2 * k + 1]);
                }
                acc = MathF.FusedMultiplyAdd(dots, d * x.D[i], acc);
                mins = MathF.FusedMultiplyAdd(m, dmin * x.D[i], mins);
            }
            y[r] = acc - mins;
        }
    }

    private static void Q4_KGroups<T>(byte* g, Q8Activations act, int t0, int tokens, float* y, long ys) where T : IDotU8S8
    {
        int superBlocks = act.Cols / 256;
        var x0 = act.RowK(t0);
        switch (tokens)
        {
            case 1: Q4_KGroup<T, One>(g, superBlocks, x0, x0, x0, x0, y, ys); break;
            case 2: Q4_KGroup<T, Two>(g, superBlocks, x0, act.RowK(t0 + 1), x0, x0, y, ys); break;
            case 3: Q4_KGroup<T, Three>(g, superBlocks, x0, act.RowK(t0 + 1), act.RowK(t0 + 2), x0, y, ys); break;
            default: Q4_KGroup<T, Four>(g, superBlocks, x0, act.RowK(t0 + 1), act.RowK(t0 + 2), act.RowK(t0 + 3), y, ys); break;
        }
    }

    private static void Q4_KGroup<T, W>(byte* g, int superBlocks, Q8KRow x0, Q8KRow x1, Q8KRow x2, Q8KRow x3, float* y, long ys)
        where T : IDotU8S8 where W : IWidth
    {
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
        Vector256<float> m0 = default, m1 = default, m2 = default, m3 = default;
        for (int i = 0; i < superBlocks; i++)
        {
            byte* sb = g + (long)i * Q4_KGroupBytes;
            Q4_KGroupScales(sb, out var scLo, out var scHi, out var mLo, out var mHi);
            byte* q = sb + RowGroups.Q4_KQs;
            int at = i * 256;
            Vector256<int> s0 = default, s1 = default, s2 = default, s3 = default;
            for (int p = 0; p < 4; p++)
            {
                var sc = p < 2 ? scLo : scHi;
                var scA = Q4_KByte(sc, 2 * (p & 1));
                var scB = Q4_KByte(sc, 2 * (p & 1) + 1);
                byte* v = q + 256 * p;
                int o = at + 64 * p;
                if (W.N == 1)
                {
                    // One token: four chains of four, so consecutive vpdpbusd do not wait on each other.
                    Q4_KGroupPair<T>(v, x0.Qs + o, out var lo, out var hi);
                    s0 += lo * scA + hi * scB;
                    continue;
                }
                // Each token's 8 nibble products of a sub-block are one accumulating run.
                Vector256<int> l0 = default, h0 = default, l1 = default, h1 = default, l2 = default, h2 = default, l3 = default, h3 = default;
                var mask = Vector256.Create((byte)0x0F);
                for (int k = 0; k < 8; k++)
                {
                    var pk = Vector256.Load(v + 32 * k);
                    var lo = pk & mask;
                    var hi = Vector256.ShiftRightLogical(pk.AsUInt16(), 4).AsByte() & mask;
                    l0 = T.Accumulate(l0, lo, Broadcast4(x0.Qs + o, k));
                    h0 = T.Accumulate(h0, hi, Broadcast4(x0.Qs + o + 32, k));
                    l1 = T.Accumulate(l1, lo, Broadcast4(x1.Qs + o, k));
                    h1 = T.Accumulate(h1, hi, Broadcast4(x1.Qs + o + 32, k));
                    if (W.N > 2)
                    {
                        l2 = T.Accumulate(l2, lo, Broadcast4(x2.Qs + o, k));
                        h2 = T.Accumulate(h2, hi, Broadcast4(x2.Qs + o + 32, k));
                    }
                    if (W.N > 3)
                    {
                        l3 = T.Accumulate(l3, lo, Broadcast4(x3.Qs + o, k));
                        h3 = T.Accumulate(h3, hi, Broadcast4(x3.Qs + o + 32, k));
                    }
                }
                s0 += T.Widen(l0) * scA + T.Widen(h0) * scB;
                s1 += T.Widen(l1) * scA + T.Widen(h1) * scB;
                if (W.N > 2) s2 += T.Widen(l2) * scA + T.Widen(h2) * scB;
                if (W.N > 3) s3 += T.Widen(l3) * scA + T.Widen(h3) * scB;
            }
            var d = Halves8(sb);
            var dmin = Halves8(sb + RowGroups.Q4_KDMin);
            Q4_KSuperBlock(s0, mLo, mHi, x0, i, d, dmin, ref a0, ref m0);
            if (W.N > 1) Q4_KSuperBlock(s1, mLo, mHi, x1, i, d, dmin, ref a1, ref m1);
            if (W.N > 2) Q4_KSuperBlock(s2, mLo, mHi, x2, i, d, dmin, ref a2, ref m2);
            if (W.N > 3) Q4_KSuperBlock(s3, mLo, mHi, x3, i, d, dmin, ref a3, ref m3);
        }
        (a0 - m0).Store(y);
        if (W.N > 1) (a1 - m1).Store(y + ys);
        if (W.N > 2) (a2 - m2).Store(y + 2 * ys);
        if (W.N > 3) (a3 - m3).Store(y + 3 * ys);
    }

    /// <summary>One token's super-block: acc += Σ sc·dot · (d·dx), mins += Σ m·Σx · (dmin·dx).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Q4_KSuperBlock(Vector256<int> dots, Vector256<uint> mLo, Vector256<uint> mHi, Q8KRow x, int i,
        Vector256<float> d, Vector256<float> dmin, ref Vector256<float> acc, ref Vector256<float> mins)
    {
        var m = Q4_KMins(mLo, mHi, (int*)(x.Sum32 + 8 * i));
        var dx = Vector256.Create(x.D[i]);
        acc = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(dots), d * dx, acc);
        mins = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(m), dmin * dx, mins);
    }

    /// <summary>Byte <paramref name="j"/> of each lane as an int32 (one of the 8 rows' scales or mins).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Q4_KByte(Vector256<uint> v, int j) => (j switch
    {
        0 => v & Vector256.Create(0xFFu),
        3 => Vector256.ShiftRightLogical(v, 24),
        _ => Vector256.ShiftRightLogical(v, 8 * j) & Vector256.Create(0xFFu),
    }).AsInt32();

    /// <summary>
    /// Σ m·Σx over a super-block's 8 sub-blocks for the 8 rows: <c>vpshufb</c> spreads each lane's mins j, j+1 into int16
    /// words, and <c>vpmaddwd</c> against the broadcast int16 sums of sub-blocks j, j+1 adds both (|m·Σx| ≤ 63·32·127).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Q4_KMins(Vector256<uint> mLo, Vector256<uint> mHi, int* sum32Pairs)
    {
        var first = Vector256.Create((byte)0, 0x80, 1, 0x80, 4, 0x80, 5, 0x80, 8, 0x80, 9, 0x80, 12, 0x80, 13, 0x80,
            0, 0x80, 1, 0x80, 4, 0x80, 5, 0x80, 8, 0x80, 9, 0x80, 12, 0x80, 13, 0x80);
        var second = Vector256.Create((byte)2, 0x80, 3, 0x80, 6, 0x80, 7, 0x80, 10, 0x80, 11, 0x80, 14, 0x80, 15, 0x80,
            2, 0x80, 3, 0x80, 6, 0x80, 7, 0x80, 10, 0x80, 11, 0x80, 14, 0x80, 15, 0x80);
        var a = Avx2.MultiplyAddAdjacent(Avx2.Shuffle(mLo.AsByte(), first).AsInt16(), Vector256.Create(sum32Pairs[0]).AsInt16());
        var b = Avx2.MultiplyAddAdjacent(Avx2.Shuffle(mLo.AsByte(), second).AsInt16(), Vector256.Create(sum32Pairs[1]).AsInt16());
        a += Avx2.MultiplyAddAdjacent(Avx2.Shuffle(mHi.AsByte(), first).AsInt16(), Vector256.Create(sum32Pairs[2]).AsInt16());
        b += Avx2.MultiplyAddAdjacent(Avx2.Shuffle(mHi.AsByte(), second).AsInt16(), Vector256.Create(sum32Pairs[3]).AsInt16());
        return a + b;
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

    /// <summary>
    /// One nibble pair (8 interleaved vectors) for one token: the 8 rows' dots of sub-block 2p (low nibbles, x at
    /// <paramref name="xq"/>) and 2p + 1 (high nibbles, x 32 further). Four runs of four, so consecutive products do not wait on
    /// each other.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Q4_KGroupPair<T>(byte* v, sbyte* xq, out Vector256<int> lo, out Vector256<int> hi) where T : IDotU8S8
    {
        var m = Vector256.Create((byte)0x0F);
        sbyte* xh = xq + 32;
        var p = Vector256.Load(v);
        var la = T.Accumulate(Vector256<int>.Zero, p & m, Broadcast4(xq, 0));
        var ha = T.Accumulate(Vector256<int>.Zero, Vector256.ShiftRightLogical(p.AsUInt16(), 4).AsByte() & m, Broadcast4(xh, 0));
        p = Vector256.Load(v + 128);
        var lb = T.Accumulate(Vector256<int>.Zero, p & m, Broadcast4(xq, 4));
        var hb = T.Accumulate(Vector256<int>.Zero, Vector256.ShiftRightLogical(p.AsUInt16(), 4).AsByte() & m, Broadcast4(xh, 4));
        for (int k = 1; k < 4; k++)
        {
            p = Vector256.Load(v + 32 * k);
            la = T.Accumulate(la, p & m, Broadcast4(xq, k));
            ha = T.Accumulate(ha, Vector256.ShiftRightLogical(p.AsUInt16(), 4).AsByte() & m, Broadcast4(xh, k));
            p = Vector256.Load(v + 128 + 32 * k);
            lb = T.Accumulate(lb, p & m, Broadcast4(xq, 4 + k));
            hb = T.Accumulate(hb, Vector256.ShiftRightLogical(p.AsUInt16(), 4).AsByte() & m, Broadcast4(xh, 4 + k));
        }
        lo = T.Widen(T.Merge(la, lb));
        hi = T.Widen(T.Merge(ha, hb));
    }
}
