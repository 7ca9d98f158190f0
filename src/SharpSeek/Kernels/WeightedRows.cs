using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace SharpSeek.Kernels;

/// <summary>
/// Attention's value sum, dst = Σ_s w[s]·row_s. A loop of <c>TensorPrimitives.MultiplyAdd(row_s, w[s], dst, dst)</c> loads and stores
/// all of dst once per position (and pays a call per position); here each 64-column chunk of dst stays in registers over all positions,
/// so dst is written once. Each element is still summed over s in order.
/// </summary>
public static unsafe class WeightedRows
{
    /// <summary>dst[0..n) = Σ_s weights[s] · rows[s·stride + 0..n).</summary>
    public static void Sum(float* rows, long stride, ReadOnlySpan<float> weights, float* dst, int n)
    {
        int len = weights.Length, c = 0;
        fixed (float* w = weights)
        {
            if (Vector512.IsHardwareAccelerated)
            {
                for (; c + 64 <= n; c += 64)
                {
                    Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
                    float* r = rows + c;
                    for (int s = 0; s < len; s++, r += stride)
                    {
                        var ws = Vector512.Create(w[s]);
                        a0 = Vector512.FusedMultiplyAdd(Vector512.Load(r), ws, a0);
                        a1 = Vector512.FusedMultiplyAdd(Vector512.Load(r + 16), ws, a1);
                        a2 = Vector512.FusedMultiplyAdd(Vector512.Load(r + 32), ws, a2);
                        a3 = Vector512.FusedMultiplyAdd(Vector512.Load(r + 48), ws, a3);
                    }
                    a0.Store(dst + c);
                    a1.Store(dst + c + 16);
                    a2.Store(dst + c + 32);
                    a3.Store(dst + c + 48);
                }
                for (; c + 16 <= n; c += 16) Chunk512(rows + c, stride, w, len).Store(dst + c);
            }
            if (Vector256.IsHardwareAccelerated)
                for (; c + 8 <= n; c += 8)
                {
                    var a = Vector256<float>.Zero;
                    float* r = rows + c;
                    for (int s = 0; s < len; s++, r += stride) a = Vector256.FusedMultiplyAdd(Vector256.Load(r), Vector256.Create(w[s]), a);
                    a.Store(dst + c);
                }
            for (; c < n; c++)
            {
                float a = 0;
                for (int s = 0; s < len; s++) a = MathF.FusedMultiplyAdd(rows[s * stride + c], w[s], a);
                dst[c] = a;
            }
        }
    }

    /// <summary>
    /// <see cref="Sum"/> for <paramref name="count"/> weight rows at once over the same value rows:
    /// dst[i·dstStride + 0..n) = Σ_s weights[i·weightStride + s] · rows[s·stride + 0..n). Four outputs share each loaded value
    /// vector; every element is summed over s in order, so each output equals what <see cref="Sum"/> gives for it alone.
    /// </summary>
    public static void SumRows(float* rows, long stride, float* weights, long weightStride, int count, int len, float* dst, long dstStride, int n)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; i + 4 <= count; i += 4)
            {
                float* w0 = weights + i * weightStride, w1 = w0 + weightStride, w2 = w1 + weightStride, w3 = w2 + weightStride;
                float* d0 = dst + i * dstStride;
                int c = 0;
                for (; c + 64 <= n; c += 64)
                    Tile4x64(rows + c, stride, w0, w1, w2, w3, len, d0 + c, dstStride);
                if (c < n)
                    for (int j = 0; j < 4; j++)
                        Sum(rows + c, stride, new ReadOnlySpan<float>(weights + (i + j) * weightStride, len), d0 + j * dstStride + c, n - c);
            }
        for (; i < count; i++)
            Sum(rows, stride, new ReadOnlySpan<float>(weights + i * weightStride, len), dst + i * dstStride, n);
    }

    /// <summary>4 outputs × 64 columns: 16 accumulators, 4 value loads and 4 weight broadcasts per position.</summary>
    private static void Tile4x64(float* r, long stride, float* w0, float* w1, float* w2, float* w3, int len, float* dst, long ds)
    {
        Vector512<float> a00 = default, a01 = default, a02 = default, a03 = default;
        Vector512<float> a10 = default, a11 = default, a12 = default, a13 = default;
        Vector512<float> a20 = default, a21 = default, a22 = default, a23 = default;
        Vector512<float> a30 = default, a31 = default, a32 = default, a33 = default;
        for (int s = 0; s < len; s++, r += stride)
        {
            var v0 = Vector512.Load(r);
            var v1 = Vector512.Load(r + 16);
            var v2 = Vector512.Load(r + 32);
            var v3 = Vector512.Load(r + 48);
            var x = Vector512.Create(w0[s]);
            a00 = Vector512.FusedMultiplyAdd(v0, x, a00); a01 = Vector512.FusedMultiplyAdd(v1, x, a01);
            a02 = Vector512.FusedMultiplyAdd(v2, x, a02); a03 = Vector512.FusedMultiplyAdd(v3, x, a03);
            x = Vector512.Create(w1[s]);
            a10 = Vector512.FusedMultiplyAdd(v0, x, a10); a11 = Vector512.FusedMultiplyAdd(v1, x, a11);
            a12 = Vector512.FusedMultiplyAdd(v2, x, a12); a13 = Vector512.FusedMultiplyAdd(v3, x, a13);
            x = Vector512.Create(w2[s]);
            a20 = Vector512.FusedMultiplyAdd(v0, x, a20); a21 = Vector512.FusedMultiplyAdd(v1, x, a21);
            a22 = Vector512.FusedMultiplyAdd(v2, x, a22); a23 = Vector512.FusedMultiplyAdd(v3, x, a23);
            x = Vector512.Create(w3[s]);
            a30 = Vector512.FusedMultiplyAdd(v0, x, a30); a31 = Vector512.FusedMultiplyAdd(v1, x, a31);
            a32 = Vector512.FusedMultiplyAdd(v2, x, a32); a33 = Vector512.FusedMultiplyAdd(v3, x, a33);
        }
        a00.Store(dst); a01.Store(dst + 16); a02.Store(dst + 32); a03.Store(dst + 48);
        dst += ds;
        a10.Store(dst); a11.Store(dst + 16); a12.Store(dst + 32); a13.Store(dst + 48);
        dst += ds;
        a20.Store(dst); a21.Store(dst + 16); a22.Store(dst + 32); a23.Store(dst + 48);
        dst += ds;
        a30.Store(dst); a31.Store(dst + 16); a32.Store(dst + 32); a33.Store(dst + 48);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Chunk512(float* r, long stride, float* w, int len)
    {
        var a = Vector512<float>.Zero;
        for (int s = 0; s < len; s++, r += stride) a = Vector512.FusedMultiplyAdd(Vector512.Load(r), Vector512.Create(w[s]), a);
        return a;
    }
}
