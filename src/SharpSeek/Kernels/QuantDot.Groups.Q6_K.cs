using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace SharpSeek.Kernels;

/// <summary>
/// One token (Q8_K activations, <see cref="Q8KRow"/>) against a Q6_K group (<see cref="RowGroups"/>): per 32-value sub-block,
/// 4 + 4 <c>vpdpbusd</c> give the 8 rows' dots of the first and second 16 values (each has its own scale); −32·Σx per 16 comes
/// off and the two int8 scales (8 rows in one sign-extending load each) multiply in int32. As the activations have one scale
/// per super-block, the whole super-block sums in int32 (|Σ(q−32)x| ≤ 16·32·127 per 16, ·128, 16 times: under 2^28) and
/// converts once; d (fp16, 8 at once) and dx multiply it.
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
                sum += HalfExact(sb + 2 * r) * x.D[i] * total;
            }
            y[r] = sum;
        }
    }

    private static void Q6_KGroup<T>(byte* g, Q8KRow x, int superBlocks, float* y) where T : IDotU8S8
    {
        var acc = Vector256<float>.Zero;
        for (int i = 0; i < superBlocks; i++)
        {
            byte* sb = g + (long)i * Q6_KGroupBytes;
            sbyte* sc = (sbyte*)(sb + RowGroups.Q6_KScales);
            // Sub-blocks 0, 2 and 1, 3 of each half in separate sums, so the multiplies form two chains.
            Vector256<int> s0 = default, s1 = default;
            for (int n = 0; n < 2; n++)
            {
                byte* a = sb + RowGroups.Q6_KQ + RowGroups.Q6_KHalf * n, c = a + 2 * RowGroups.Q6_KPart;
                sbyte* xq = x.Qs + i * 256 + 128 * n;
                int* bs = x.BSums + 16 * i + 8 * n;
                sbyte* s = sc + 8 * 2 * (4 * n);
                // Sub-blocks 0 and 2 read A (and C's low nibbles), 1 and 3 read B (and C's high nibbles).
                Q6_KGroupPair<T>(a, c, false, xq, xq + 64, out var lo0, out var hi0, out var lo2, out var hi2);
                s0 = Q6_KScaled(lo0, hi0, s, bs, s0);
                s0 = Q6_KScaled(lo2, hi2, s + 32, bs + 4, s0);
                Q6_KGroupPair<T>(a + RowGroups.Q6_KPart, c, true, xq + 32, xq + 96, out var lo1, out var hi1, out var lo3, out var hi3);
                s1 = Q6_KScaled(lo1, hi1, s + 16, bs + 2, s1);
                s1 = Q6_KScaled(lo3, hi3, s + 48, bs + 6, s1);
            }
            acc = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(s0 + s1), Halves8(sb) * Vector256.Create(x.D[i]), acc);
        }
        acc.Store(y);
    }

    /// <summary>acc + (lo − 32Σ₀x)·sc₀ + (hi − 32Σ₁x)·sc₁ for one sub-block: its 2 × 8 scales at <paramref name="sc"/>, its two sums at <paramref name="bsums"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Q6_KScaled(Vector256<int> lo, Vector256<int> hi, sbyte* sc, int* bsums, Vector256<int> acc) =>
        acc + (lo - Vector256.Create(32 * bsums[0])) * Avx2.ConvertToVector256Int32(sc)
            + (hi - Vector256.Create(32 * bsums[1])) * Avx2.ConvertToVector256Int32(sc + 8);

    /// <summary>
    /// Two sub-blocks of a half: the first from <paramref name="ab"/> alone (A or B), the second with C's low or
    /// <paramref name="high"/> nibbles; per sub-block the dots of values 0..15 and 16..31. Four chains of four <c>vpdpbusd</c>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Q6_KGroupPair<T>(byte* ab, byte* c, bool high, sbyte* x1, sbyte* x2,
        out Vector256<int> lo1, out Vector256<int> hi1, out Vector256<int> lo2, out Vector256<int> hi2) where T : IDotU8S8
    {
        var l1 = Vector256<int>.Zero;
        var l2 = Vector256<int>.Zero;
        var h1 = Vector256<int>.Zero;
        var h2 = Vector256<int>.Zero;
        // Written out: the JIT does not unroll the loop, and its index arithmetic costs as much as the unpacking.
        Q6_KChunk<T>(ab, c, high, x1, x2, 0, ref l1, ref l2);
        Q6_KChunk<T>(ab, c, high, x1, x2, 4, ref h1, ref h2);
        Q6_KChunk<T>(ab, c, high, x1, x2, 1, ref l1, ref l2);
        Q6_KChunk<T>(ab, c, high, x1, x2, 5, ref h1, ref h2);
        Q6_KChunk<T>(ab, c, high, x1, x2, 2, ref l1, ref l2);
        Q6_KChunk<T>(ab, c, high, x1, x2, 6, ref h1, ref h2);
        Q6_KChunk<T>(ab, c, high, x1, x2, 3, ref l1, ref l2);
        Q6_KChunk<T>(ab, c, high, x1, x2, 7, ref h1, ref h2);
        lo1 = l1; hi1 = h1; lo2 = l2; hi2 = h2;
    }

    /// <summary>Values 4k..4k+3 of both sub-blocks: one load of A or B and one of C feed both dots.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Q6_KChunk<T>(byte* ab, byte* c, bool high, sbyte* x1, sbyte* x2, int k, ref Vector256<int> a1, ref Vector256<int> a2)
        where T : IDotU8S8
    {
        var w = Vector256.Load(ab + 32 * k);
        a1 = T.DotAdd(a1, RowGroups.Q6_KFirst(w), Broadcast4(x1, k));
        a2 = T.DotAdd(a2, RowGroups.Q6_KSecond(w, Vector256.Load(c + 32 * k), high), Broadcast4(x2, k));
    }
}
