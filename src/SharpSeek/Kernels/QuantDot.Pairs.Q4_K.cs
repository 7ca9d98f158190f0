using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace SharpSeek.Kernels;

/// <summary>
/// Q4_K on <see cref="KernelPath.Avx512"/>: a pair of groups (16 rows) and up to 4 tokens per call, at 512 bits, as
/// QuantDot.Pairs.cs does for Q4_0. Per super-block the two groups' (scale, min) pairs decode with the 8-row kernel's
/// helpers; per 32-value sub-block a token's 8 nibble products add in int16 (at most 8·2·15·128 = 30720) and one <c>vpmaddwd</c> against the sub-block's scales
/// (each in both words of its lane) widens and scales them together, which gives the int32 Σ sc·dot of
/// <see cref="Q4_KGroup{T, W}"/>. The mins and the float steps per super-block are that kernel's, so the results are equal bit
/// for bit.
/// </summary>
public static unsafe partial class QuantDot
{
    private static void Q4_KPairs(byte* g, Q8Activations act, int t0, int tokens, float* y, long ys)
    {
        int superBlocks = act.Cols / 256;
        byte* h = g + (long)superBlocks * Q4_KGroupBytes;
        Q8KRow x(int j) => act.RowK(t0 + Math.Min(j, tokens - 1));
        switch (tokens)
        {
            case 1: Q4_KPair<One>(g, h, superBlocks, x(0), x(1), x(2), x(3), y, ys); break;
            case 2: Q4_KPair<Two>(g, h, superBlocks, x(0), x(1), x(2), x(3), y, ys); break;
            case 3: Q4_KPair<Three>(g, h, superBlocks, x(0), x(1), x(2), x(3), y, ys); break;
            default: Q4_KPair<Four>(g, h, superBlocks, x(0), x(1), x(2), x(3), y, ys); break;
        }
    }

    private static void Q4_KPair<W>(byte* g, byte* h, int superBlocks, Q8KRow x0, Q8KRow x1, Q8KRow x2, Q8KRow x3, float* y, long ys) where W : IWidth
    {
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
        Vector512<float> m0 = default, m1 = default, m2 = default, m3 = default;
        var mask = Vector512.Create((byte)0x0F);
        for (int i = 0; i < superBlocks; i++)
        {
            byte* sa = g + (long)i * Q4_KGroupBytes, sb = h + (long)i * Q4_KGroupBytes;
            Q4_KPairScales(sa, sb, out var scLo, out var scHi, out var mLo, out var mHi);
            byte* qa = sa + RowGroups.Q4_KQs, qb = sb + RowGroups.Q4_KQs;
            int at = i * 256;
            Vector512<int> s0 = default, s1 = default, s2 = default, s3 = default;
            for (int p = 0; p < 4; p++)
            {
                var sc = p < 2 ? scLo : scHi;
                var scA = Words(sc, 2 * (p & 1));
                var scB = Words(sc, 2 * (p & 1) + 1);
                int o = at + 64 * p;
                Vector512<short> l0 = default, h0 = default, l1 = default, h1 = default, l2 = default, h2 = default, l3 = default, h3 = default;
                for (int k = 0; k < 8; k++)
                {
                    var pk = Vector512.Create(Vector256.Load(qa + 256 * p + 32 * k), Vector256.Load(qb + 256 * p + 32 * k));
                    var lo = pk & mask;
                    var hi = Vector512.ShiftRightLogical(pk.AsUInt16(), 4).AsByte() & mask;
                    l0 += Avx512BW.MultiplyAddAdjacent(lo, Broadcast4x16(x0.Qs + o, k));
                    h0 += Avx512BW.MultiplyAddAdjacent(hi, Broadcast4x16(x0.Qs + o + 32, k));
                    if (W.N > 1)
                    {
                        l1 += Avx512BW.MultiplyAddAdjacent(lo, Broadcast4x16(x1.Qs + o, k));
                        h1 += Avx512BW.MultiplyAddAdjacent(hi, Broadcast4x16(x1.Qs + o + 32, k));
                    }
                    if (W.N > 2)
                    {
                        l2 += Avx512BW.MultiplyAddAdjacent(lo, Broadcast4x16(x2.Qs + o, k));
                        h2 += Avx512BW.MultiplyAddAdjacent(hi, Broadcast4x16(x2.Qs + o + 32, k));
                    }
                    if (W.N > 3)
                    {
                        l3 += Avx512BW.MultiplyAddAdjacent(lo, Broadcast4x16(x3.Qs + o, k));
                        h3 += Avx512BW.MultiplyAddAdjacent(hi, Broadcast4x16(x3.Qs + o + 32, k));
                    }
                }
                s0 += Avx512BW.MultiplyAddAdjacent(l0, scA) + Avx512BW.MultiplyAddAdjacent(h0, scB);
                if (W.N > 1) s1 += Avx512BW.MultiplyAddAdjacent(l1, scA) + Avx512BW.MultiplyAddAdjacent(h1, scB);
                if (W.N > 2) s2 += Avx512BW.MultiplyAddAdjacent(l2, scA) + Avx512BW.MultiplyAddAdjacent(h2, scB);
                if (W.N > 3) s3 += Avx512BW.MultiplyAddAdjacent(l3, scA) + Avx512BW.MultiplyAddAdjacent(h3, scB);
            }
            var d = Halves16(sa, sb);
            var dmin = Halves16(sa + RowGroups.Q4_KDMin, sb + RowGroups.Q4_KDMin);
            Q4_KPairSuperBlock(s0, mLo, mHi, x0, i, d, dmin, ref a0, ref m0);
            if (W.N > 1) Q4_KPairSuperBlock(s1, mLo, mHi, x1, i, d, dmin, ref a1, ref m1);
            if (W.N > 2) Q4_KPairSuperBlock(s2, mLo, mHi, x2, i, d, dmin, ref a2, ref m2);
            if (W.N > 3) Q4_KPairSuperBlock(s3, mLo, mHi, x3, i, d, dmin, ref a3, ref m3);
        }
        (a0 - m0).Store(y);
        if (W.N > 1) (a1 - m1).Store(y + ys);
        if (W.N > 2) (a2 - m2).Store(y + 2 * ys);
        if (W.N > 3) (a3 - m3).Store(y + 3 * ys);
    }

    /// <summary>One token's super-block: acc += Σ sc·dot · (d·dx), mins += Σ m·Σx · (dmin·dx) (<see cref="Q4_KSuperBlock"/>'s steps).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Q4_KPairSuperBlock(Vector512<int> dots, Vector512<uint> mLo, Vector512<uint> mHi, Q8KRow x, int i,
        Vector512<float> d, Vector512<float> dmin, ref Vector512<float> acc, ref Vector512<float> mins)
    {
        var m = Q4_KPairMins(mLo, mHi, (int*)(x.Sum32 + 8 * i));
        var dx = Vector512.Create(x.D[i]);
        acc = Vector512.FusedMultiplyAdd(Vector512.ConvertToSingle(dots), d * dx, acc);
        mins = Vector512.FusedMultiplyAdd(Vector512.ConvertToSingle(m), dmin * dx, mins);
    }

    /// <summary>Byte <paramref name="j"/> of each lane in both of its int16 words (a scale ≤ 63 for <c>vpmaddwd</c>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<short> Words(Vector512<uint> v, int j)
    {
        var b = Vector512.ShiftRightLogical(v, 8 * j) & Vector512.Create(0xFFu);
        return (b | Vector512.ShiftLeft(b, 16)).AsInt16();
    }

    /// <summary><see cref="Q4_KMins"/> for each group of the pair (lanes 8..15: the second group's rows).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Q4_KPairMins(Vector512<uint> mLo, Vector512<uint> mHi, int* sum32Pairs) =>
        Vector512.Create(Q4_KMins(mLo.GetLower(), mHi.GetLower(), sum32Pairs), Q4_KMins(mLo.GetUpper(), mHi.GetUpper(), sum32Pairs));

    /// <summary><see cref="Q4_KGroupScales"/> for the pair's two super-blocks (lanes 8..15: the second group's rows).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Q4_KPairScales(byte* sa, byte* sb, out Vector512<uint> scLo, out Vector512<uint> scHi, out Vector512<uint> mLo, out Vector512<uint> mHi)
    {
        Q4_KGroupScales(sa, out var scLoA, out var scHiA, out var mLoA, out var mHiA);
        Q4_KGroupScales(sb, out var scLoB, out var scHiB, out var mLoB, out var mHiB);
        scLo = Vector512.Create(scLoA, scLoB);
        scHi = Vector512.Create(scHiA, scHiB);
        mLo = Vector512.Create(mLoA, mLoB);
        mHi = Vector512.Create(mHiA, mHiB);
    }
}
