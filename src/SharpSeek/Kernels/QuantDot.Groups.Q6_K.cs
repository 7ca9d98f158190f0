using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace SharpSeek.Kernels;

/// <summary>
/// One to four tokens (Q8_K activations, <see cref="Q8KRow"/>) against a Q6_K group (<see cref="RowGroups"/>): per 32-value
/// sub-block, 4 + 4 <c>vpdpbusd</c> per token give the 8 rows' dots of the first and second 16 values (each has its own scale);
/// −32·Σx per 16 comes off and the two int8 scales (8 rows in one sign-extending load each) multiply in int32. As the
/// activations have one scale per super-block, the whole super-block sums in int32 (|Σ(q−32)x| ≤ 16·32·127 per 16, ·128, 16
/// times: under 2^28) and converts once; d (fp16, 8 at once) and dx multiply it. The 6-bit values of a sub-block are unpacked
/// once for all the call's tokens.
/// </summary>
public static unsafe partial class QuantDot
{
    private const int Q6_KGroupBytes = RowGroups.Rows * Q6_KBytes;

    internal static void Q6_KGroupReference(byte* g, Q8KRow x, int superBlocks, float* y)
    {
        for (int r = 0; r < RowGroups.Rows; r++)
        {
            float sum = 0;
            for (int i = 0; i < superBlocks; i++)
            {
                byte* sb = g + (long)i * Q6_KGroupBytes;
                int total = 0;
                for (int n = 0; n < 2; n++)
                {
                    byte* half = sb + RowGroups.Q6_KQ + RowGroups.Q6_KHalf * n;
                    for (int k = 0; k < 4; k++)
                    {
                        sbyte* xq = x.Qs + i * 256 + (n * 4 + k) * 32;
                        for (int h = 0; h < 2; h++)
                        {
                            int s = 0;
                            for (int l = 16 * h; l < 16 * h + 16; l++)
                            {
                                int at = 32 * (l / 4) + 4 * r + l % 4;
                                int a = half[at], bb = half[RowGroups.Q6_KPart + at], c = half[2 * RowGroups.Q6_KPart + at];
                                int q = k switch
                                {
                                    0 => a & 63,
                                    1 => bb & 63,
                                    2 => (c & 15) | (a >> 6) << 4,
                                    _ => (c >> 4) | (bb >> 6) << 4,
                                };
                                s += (q - 32) * xq[l];
                            }
                            total += (sbyte)sb[RowGroups.Q6_KScales + 8 * (2 * (4 * n + k) + h) + r] * s;
                        }
                    }
                }
                sum = MathF.FusedMultiplyAdd(total, HalfExact(sb + 2 * r) * x.D[i], sum);
            }
            y[r] = sum;
        }
    }

    private static void Q6_KGroups<T>(byte* g, Q8Activations act, int t0, int tokens, float* y, long ys) where T : IDotU8S8
    {
        int superBlocks = act.Cols / 256;
        var x0 = act.RowK(t0);
        switch (tokens)
        {
            case 1: Q6_KGroup<T, One>(g, superBlocks, x0, x0, x0, x0, y, ys); break;
            case 2: Q6_KGroup<T, Two>(g, superBlocks, x0, act.RowK(t0 + 1), x0, x0, y, ys); break;
            case 3: Q6_KGroup<T, Three>(g, superBlocks, x0, act.RowK(t0 + 1), act.RowK(t0 + 2), x0, y, ys); break;
            default: Q6_KGroup<T, Four>(g, superBlocks, x0, act.RowK(t0 + 1), act.RowK(t0 + 2), act.RowK(t0 + 3), y, ys); break;
        }
    }

    private static void Q6_KGroup<T, W>(byte* g, int superBlocks, Q8KRow x0, Q8KRow x1, Q8KRow x2, Q8KRow x3, float* y, long ys)
        where T : IDotU8S8 where W : IWidth
    {
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
        for (int i = 0; i < superBlocks; i++)
        {
            byte* sb = g + (long)i * Q6_KGroupBytes;
            sbyte* sc = (sbyte*)(sb + RowGroups.Q6_KScales);
            Vector256<int> t0 = default, t1 = default, t2 = default, t3 = default;
            for (int n = 0; n < 2; n++)
            {
                byte* a = sb + RowGroups.Q6_KQ + RowGroups.Q6_KHalf * n, c = a + 2 * RowGroups.Q6_KPart;
                int o = i * 256 + 128 * n, bs = 16 * i + 8 * n;
                sbyte* s = sc + 8 * 2 * (4 * n);
                if (W.N == 1)
                {
                    // One token: sub-blocks 0 and 2 read A (and C's low nibbles), 1 and 3 read B (and C's high nibbles); each
                    // load of A or B and of C feeds both sub-blocks' products.
                    sbyte* xq = x0.Qs + o;
                    Q6_KGroupPair<T>(a, c, false, xq, xq + 64, out var lo0, out var hi0, out var lo2, out var hi2);
                    t0 = Q6_KScaled(lo0, hi0, Avx2.ConvertToVector256Int32(s), Avx2.ConvertToVector256Int32(s + 8), x0.BSums + bs, t0);
                    t0 = Q6_KScaled(lo2, hi2, Avx2.ConvertToVector256Int32(s + 32), Avx2.ConvertToVector256Int32(s + 40), x0.BSums + bs + 4, t0);
                    Q6_KGroupPair<T>(a + RowGroups.Q6_KPart, c, true, xq + 32, xq + 96, out var lo1, out var hi1, out var lo3, out var hi3);
                    t0 = Q6_KScaled(lo1, hi1, Avx2.ConvertToVector256Int32(s + 16), Avx2.ConvertToVector256Int32(s + 24), x0.BSums + bs + 2, t0);
                    t0 = Q6_KScaled(lo3, hi3, Avx2.ConvertToVector256Int32(s + 48), Avx2.ConvertToVector256Int32(s + 56), x0.BSums + bs + 6, t0);
                    continue;
                }
                // Sub-block kk of the half, its values unpacked once per quarter for every token.
                for (int kk = 0; kk < 4; kk++)
                {
                    byte* ab = a + (kk & 1) * RowGroups.Q6_KPart;
                    var scLo = Avx2.ConvertToVector256Int32(s + 16 * kk);
                    var scHi = Avx2.ConvertToVector256Int32(s + 16 * kk + 8);
                    int xo = o + 32 * kk, bk = bs + 2 * kk;
                    var v0 = Q6_KValues(ab, c, kk, 0);
                    var v1 = Q6_KValues(ab, c, kk, 1);
                    var v2 = Q6_KValues(ab, c, kk, 2);
                    var v3 = Q6_KValues(ab, c, kk, 3);
                    var l0 = Six4<T>(v0, v1, v2, v3, x0.Qs + xo);
                    var l1 = Six4<T>(v0, v1, v2, v3, x1.Qs + xo);
                    var l2 = W.N > 2 ? Six4<T>(v0, v1, v2, v3, x2.Qs + xo) : default;
                    var l3 = W.N > 3 ? Six4<T>(v0, v1, v2, v3, x3.Qs + xo) : default;
                    v0 = Q6_KValues(ab, c, kk, 4);
                    v1 = Q6_KValues(ab, c, kk, 5);
                    v2 = Q6_KValues(ab, c, kk, 6);
                    v3 = Q6_KValues(ab, c, kk, 7);
                    t0 = Q6_KScaled(l0, Six4<T>(v0, v1, v2, v3, x0.Qs + xo + 16), scLo, scHi, x0.BSums + bk, t0);
                    t1 = Q6_KScaled(l1, Six4<T>(v0, v1, v2, v3, x1.Qs + xo + 16), scLo, scHi, x1.BSums + bk, t1);
                    if (W.N > 2) t2 = Q6_KScaled(l2, Six4<T>(v0, v1, v2, v3, x2.Qs + xo + 16), scLo, scHi, x2.BSums + bk, t2);
                    if (W.N > 3) t3 = Q6_KScaled(l3, Six4<T>(v0, v1, v2, v3, x3.Qs + xo + 16), scLo, scHi, x3.BSums + bk, t3);
                }
            }
            var d = Halves8(sb);
            a0 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(t0), d * Vector256.Create(x0.D[i]), a0);
            if (W.N > 1) a1 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(t1), d * Vector256.Create(x1.D[i]), a1);
            if (W.N > 2) a2 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(t2), d * Vector256.Create(x2.D[i]), a2);
            if (W.N > 3) a3 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(t3), d * Vector256.Create(x3.D[i]), a3);
        }
        a0.Store(y);
        if (W.N > 1) a1.Store(y + ys);
        if (W.N > 2) a2.Store(y + 2 * ys);
        if (W.N > 3) a3.Store(y + 3 * ys);
    }

    /// <summary>
    /// Four vectors of 6-bit values (16 values of the 8 rows) against the token's 16 values at <paramref name="xq"/>: two runs of
    /// two products (the most int16 holds for bytes ≤ 63), widened and added.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Six4<T>(Vector256<byte> v0, Vector256<byte> v1, Vector256<byte> v2, Vector256<byte> v3, sbyte* xq) where T : IDotU8S8
    {
        var a = T.Accumulate(T.Accumulate(Vector256<int>.Zero, v0, Broadcast4(xq, 0)), v1, Broadcast4(xq, 1));
        var b = T.Accumulate(T.Accumulate(Vector256<int>.Zero, v2, Broadcast4(xq, 2)), v3, Broadcast4(xq, 3));
        return T.Widen(a) + T.Widen(b);
    }

    /// <summary>
    /// Two sub-blocks of a half for one token: the first from <paramref name="ab"/> alone (A or B), the second with C's low or
    /// <paramref name="high"/> nibbles; per sub-block the dots of values 0..15 and 16..31. One load of A or B and one of C feed both.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Q6_KGroupPair<T>(byte* ab, byte* c, bool high, sbyte* x1, sbyte* x2,
        out Vector256<int> lo1, out Vector256<int> hi1, out Vector256<int> lo2, out Vector256<int> hi2) where T : IDotU8S8
    {
        Q6_KQuarter<T>(ab, c, high, x1, x2, 0, out lo1, out lo2);
        Q6_KQuarter<T>(ab, c, high, x1, x2, 4, out hi1, out hi2);
    }

    /// <summary>Values 4k..4k+15 (k = <paramref name="k0"/>..+3) of both sub-blocks against their tokens' values.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Q6_KQuarter<T>(byte* ab, byte* c, bool high, sbyte* x1, sbyte* x2, int k0, out Vector256<int> first, out Vector256<int> second)
        where T : IDotU8S8
    {
        var w0 = Vector256.Load(ab + 32 * k0);
        var w1 = Vector256.Load(ab + 32 * (k0 + 1));
        var w2 = Vector256.Load(ab + 32 * (k0 + 2));
        var w3 = Vector256.Load(ab + 32 * (k0 + 3));
        first = Six4<T>(RowGroups.Q6_KFirst(w0), RowGroups.Q6_KFirst(w1), RowGroups.Q6_KFirst(w2), RowGroups.Q6_KFirst(w3), x1 + 4 * k0);
        second = Six4<T>(RowGroups.Q6_KSecond(w0, Vector256.Load(c + 32 * k0), high), RowGroups.Q6_KSecond(w1, Vector256.Load(c + 32 * (k0 + 1)), high),
            RowGroups.Q6_KSecond(w2, Vector256.Load(c + 32 * (k0 + 2)), high), RowGroups.Q6_KSecond(w3, Vector256.Load(c + 32 * (k0 + 3)), high), x2 + 4 * k0);
    }

    /// <summary>Vector <paramref name="k"/> (values 4k..4k+3 of the 8 rows) of sub-block <paramref name="kk"/> of a half, as 0..63.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<byte> Q6_KValues(byte* ab, byte* c, int kk, int k)
    {
        var w = Vector256.Load(ab + 32 * k);
        return kk < 2 ? RowGroups.Q6_KFirst(w) : RowGroups.Q6_KSecond(w, Vector256.Load(c + 32 * k), kk == 3);
    }

    /// <summary>acc + (lo − 32Σ₀x)·sc₀ + (hi − 32Σ₁x)·sc₁ for one sub-block: its two sums at <paramref name="bsums"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Q6_KScaled(Vector256<int> lo, Vector256<int> hi, Vector256<int> scLo, Vector256<int> scHi, int* bsums, Vector256<int> acc) =>
        acc + (lo - Vector256.Create(32 * bsums[0])) * scLo + (hi - Vector256.Create(32 * bsums[1])) * scHi;
}
