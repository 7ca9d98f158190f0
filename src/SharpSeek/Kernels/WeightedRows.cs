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

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Chunk512(float* r, long stride, float* w, int len)
    {
        var a = Vector512<float>.Zero;
        for (int s = 0; s < len; s++, r += stride) a = Vector512.FusedMultiplyAdd(Vector512.Load(r), Vector512.Create(w[s]), a);
        return a;
    }
}
