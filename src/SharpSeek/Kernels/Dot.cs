using System.Runtime.Intrinsics;

namespace SharpSeek.Kernels;

/// <summary>Dot products of a weight row in its storage type with a float32 activation vector.</summary>
public static unsafe class Dot
{
    /// <summary>bf16 row · f32 vector with the widening fused into the loop, so the row is read once from memory.</summary>
    public static float Bf16(ushort* w, float* x, int n)
    {
        int i = 0;
        float sum = 0;
        if (Vector512.IsHardwareAccelerated && n >= 32)
        {
            var acc0 = Vector512<float>.Zero;
            var acc1 = Vector512<float>.Zero;
            for (; i <= n - 32; i += 32)
            {
                var (lo, hi) = Vector512.Widen(Vector512.Load(w + i));
                acc0 = Vector512.FusedMultiplyAdd(Vector512.ShiftLeft(lo, 16).AsSingle(), Vector512.Load(x + i), acc0);
                acc1 = Vector512.FusedMultiplyAdd(Vector512.ShiftLeft(hi, 16).AsSingle(), Vector512.Load(x + i + 16), acc1);
            }
            sum = Vector512.Sum(acc0 + acc1);
        }
        else if (Vector256.IsHardwareAccelerated && n >= 16)
        {
            var acc0 = Vector256<float>.Zero;
            var acc1 = Vector256<float>.Zero;
            for (; i <= n - 16; i += 16)
            {
                var (lo, hi) = Vector256.Widen(Vector256.Load(w + i));
                acc0 = Vector256.FusedMultiplyAdd(Vector256.ShiftLeft(lo, 16).AsSingle(), Vector256.Load(x + i), acc0);
                acc1 = Vector256.FusedMultiplyAdd(Vector256.ShiftLeft(hi, 16).AsSingle(), Vector256.Load(x + i + 8), acc1);
            }
            sum = Vector256.Sum(acc0 + acc1);
        }
        for (; i < n; i++) sum += BFloat16.ToSingle(w[i]) * x[i];
        return sum;
    }

    /// <summary>Scalar reference for <see cref="Bf16"/>.</summary>
    public static float Bf16Reference(ushort* w, float* x, int n)
    {
        double sum = 0;
        for (int i = 0; i < n; i++) sum += (double)BFloat16.ToSingle(w[i]) * x[i];
        return (float)sum;
    }
}
