using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace SharpSeek.Kernels;

/// <summary>
/// Attention scores of several query rows against one shared set of keys, each key in two parts (MLA: the latent c_kv and
/// the rope key k_pe, which every head reads). A dot per (row, key) streams every key once per row; here a 4-row × 4-key
/// tile keeps 16 sums in registers, so each key vector loaded serves 4 rows and each query vector 4 keys. Every pair is
/// summed in the same order whichever tile computes it (<see cref="Pair"/>), so a row's scores do not depend on how many
/// rows share the call.
/// </summary>
public static unsafe class AttentionScores
{
    /// <summary>
    /// scores[r·scoreStride + s] = scale · (q[r]·keys[s] + qpe[r]·pe[s]) for rows r &lt; <paramref name="rows"/>, keys s &lt; <paramref name="len"/>;
    /// q rows have <paramref name="dk"/> values, qpe rows and pe rows <paramref name="dr"/> (0 for one-part keys).
    /// </summary>
    public static void Compute(float* q, long qStride, float* qpe, long qpeStride, int rows,
        float* keys, long keyStride, int dk, float* pe, long peStride, int dr, int len, float scale, float* scores, long scoreStride)
    {
        int r = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; r + 4 <= rows; r += 4)
            {
                int s = 0;
                for (; s + 4 <= len; s += 4)
                    Tile4x4(q + r * qStride, qStride, qpe + r * qpeStride, qpeStride, keys + s * keyStride, keyStride, dk,
                        pe + s * peStride, peStride, dr, scale, scores + r * scoreStride + s, scoreStride);
                for (; s < len; s++)
                    for (int i = 0; i < 4; i++)
                        scores[(r + i) * scoreStride + s] = scale * Pair(q + (r + i) * qStride, keys + s * keyStride, dk, qpe + (r + i) * qpeStride, pe + s * peStride, dr);
            }
        for (; r < rows; r++)
            for (int s = 0; s < len; s++)
                scores[r * scoreStride + s] = scale * Pair(q + r * qStride, keys + s * keyStride, dk, qpe + r * qpeStride, pe + s * peStride, dr);
    }

    /// <summary>The scalar reference: one double-free float loop per pair in index order.</summary>
    public static float Reference(float* q, float* k, int dk, float* qpe, float* pe, int dr)
    {
        float sum = 0;
        for (int i = 0; i < dk; i++) sum += q[i] * k[i];
        for (int i = 0; i < dr; i++) sum += qpe[i] * pe[i];
        return sum;
    }

    /// <summary>
    /// One pair in the canonical order: one vector accumulator over the whole-vector part of both segments, its horizontal
    /// sum, then the tails. <see cref="Tile4x4"/> follows exactly this order per pair.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Pair(float* q, float* k, int dk, float* qpe, float* pe, int dr)
    {
        int i = 0, j = 0;
        float sum;
        if (Vector512.IsHardwareAccelerated)
        {
            var acc = Vector512<float>.Zero;
            for (; i + 16 <= dk; i += 16) acc = Vector512.FusedMultiplyAdd(Vector512.Load(q + i), Vector512.Load(k + i), acc);
            for (; j + 16 <= dr; j += 16) acc = Vector512.FusedMultiplyAdd(Vector512.Load(qpe + j), Vector512.Load(pe + j), acc);
            sum = Vector512.Sum(acc);
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            var acc = Vector256<float>.Zero;
            for (; i + 8 <= dk; i += 8) acc = Vector256.FusedMultiplyAdd(Vector256.Load(q + i), Vector256.Load(k + i), acc);
            for (; j + 8 <= dr; j += 8) acc = Vector256.FusedMultiplyAdd(Vector256.Load(qpe + j), Vector256.Load(pe + j), acc);
            sum = Vector256.Sum(acc);
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            var acc = Vector128<float>.Zero;
            for (; i + 4 <= dk; i += 4) acc = Vector128.FusedMultiplyAdd(Vector128.Load(q + i), Vector128.Load(k + i), acc);
            for (; j + 4 <= dr; j += 4) acc = Vector128.FusedMultiplyAdd(Vector128.Load(qpe + j), Vector128.Load(pe + j), acc);
            sum = Vector128.Sum(acc);
        }
        else sum = 0;
        for (; i < dk; i++) sum = MathF.FusedMultiplyAdd(q[i], k[i], sum);
        for (; j < dr; j++) sum = MathF.FusedMultiplyAdd(qpe[j], pe[j], sum);
        return sum;
    }

    /// <summary>4 rows × 4 keys with 16 accumulators (24 of the 32 zmm registers with the 8 operands).</summary>
    private static void Tile4x4(float* q, long qs, float* qpe, long qpes, float* k, long ks, int dk, float* pe, long pes, int dr, float scale, float* dst, long ds)
    {
        Vector512<float> a00 = default, a01 = default, a02 = default, a03 = default;
        Vector512<float> a10 = default, a11 = default, a12 = default, a13 = default;
        Vector512<float> a20 = default, a21 = default, a22 = default, a23 = default;
        Vector512<float> a30 = default, a31 = default, a32 = default, a33 = default;
        int n = dk & ~15;
        for (int seg = 0; seg < 2; seg++)
        {
            float* qa = seg == 0 ? q : qpe, ka = seg == 0 ? k : pe;
            long qst = seg == 0 ? qs : qpes, kst = seg == 0 ? ks : pes;
            if (seg == 1) n = dr & ~15;
            for (int i = 0; i < n; i += 16)
            {
                var k0 = Vector512.Load(ka + i);
                var k1 = Vector512.Load(ka + kst + i);
                var k2 = Vector512.Load(ka + 2 * kst + i);
                var k3 = Vector512.Load(ka + 3 * kst + i);
                var x = Vector512.Load(qa + i);
                a00 = Vector512.FusedMultiplyAdd(x, k0, a00); a01 = Vector512.FusedMultiplyAdd(x, k1, a01);
                a02 = Vector512.FusedMultiplyAdd(x, k2, a02); a03 = Vector512.FusedMultiplyAdd(x, k3, a03);
                x = Vector512.Load(qa + qst + i);
                a10 = Vector512.FusedMultiplyAdd(x, k0, a10); a11 = Vector512.FusedMultiplyAdd(x, k1, a11);
                a12 = Vector512.FusedMultiplyAdd(x, k2, a12); a13 = Vector512.FusedMultiplyAdd(x, k3, a13);
                x = Vector512.Load(qa + 2 * qst + i);
                a20 = Vector512.FusedMultiplyAdd(x, k0, a20); a21 = Vector512.FusedMultiplyAdd(x, k1, a21);
                a22 = Vector512.FusedMultiplyAdd(x, k2, a22); a23 = Vector512.FusedMultiplyAdd(x, k3, a23);
                x = Vector512.Load(qa + 3 * qst + i);
                a30 = Vector512.FusedMultiplyAdd(x, k0, a30); a31 = Vector512.FusedMultiplyAdd(x, k1, a31);
                a32 = Vector512.FusedMultiplyAdd(x, k2, a32); a33 = Vector512.FusedMultiplyAdd(x, k3, a33);
            }
        }
        Finish(a00, q, k, dk, qpe, pe, dr, scale, dst);
        Finish(a01, q, k + ks, dk, qpe, pe + pes, dr, scale, dst + 1);
        Finish(a02, q, k + 2 * ks, dk, qpe, pe + 2 * pes, dr, scale, dst + 2);
        Finish(a03, q, k + 3 * ks, dk, qpe, pe + 3 * pes, dr, scale, dst + 3);
        Finish(a10, q + qs, k, dk, qpe + qpes, pe, dr, scale, dst + ds);
        Finish(a11, q + qs, k + ks, dk, qpe + qpes, pe + pes, dr, scale, dst + ds + 1);
        Finish(a12, q + qs, k + 2 * ks, dk, qpe + qpes, pe + 2 * pes, dr, scale, dst + ds + 2);
        Finish(a13, q + qs, k + 3 * ks, dk, qpe + qpes, pe + 3 * pes, dr, scale, dst + ds + 3);
        Finish(a20, q + 2 * qs, k, dk, qpe + 2 * qpes, pe, dr, scale, dst + 2 * ds);
        Finish(a21, q + 2 * qs, k + ks, dk, qpe + 2 * qpes, pe + pes, dr, scale, dst + 2 * ds + 1);
        Finish(a22, q + 2 * qs, k + 2 * ks, dk, qpe + 2 * qpes, pe + 2 * pes, dr, scale, dst + 2 * ds + 2);
        Finish(a23, q + 2 * qs, k + 3 * ks, dk, qpe + 2 * qpes, pe + 3 * pes, dr, scale, dst + 2 * ds + 3);
        Finish(a30, q + 3 * qs, k, dk, qpe + 3 * qpes, pe, dr, scale, dst + 3 * ds);
        Finish(a31, q + 3 * qs, k + ks, dk, qpe + 3 * qpes, pe + pes, dr, scale, dst + 3 * ds + 1);
        Finish(a32, q + 3 * qs, k + 2 * ks, dk, qpe + 3 * qpes, pe + 2 * pes, dr, scale, dst + 3 * ds + 2);
        Finish(a33, q + 3 * qs, k + 3 * ks, dk, qpe + 3 * qpes, pe + 3 * pes, dr, scale, dst + 3 * ds + 3);
    }

    /// <summary>The horizontal sum and the scalar tails of one pair, as in <see cref="Pair"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Finish(Vector512<float> acc, float* q, float* k, int dk, float* qpe, float* pe, int dr, float scale, float* dst)
    {
        float sum = Vector512.Sum(acc);
        for (int i = dk & ~15; i < dk; i++) sum = MathF.FusedMultiplyAdd(q[i], k[i], sum);
        for (int j = dr & ~15; j < dr; j++) sum = MathF.FusedMultiplyAdd(qpe[j], pe[j], sum);
        *dst = scale * sum;
    }
}
