using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace SharpSeek.Kernels;

/// <summary>Q8_0 weights (34-byte blocks: fp16 d, 32 int8) · Q8 activations: Σ_blocks d_w·d_x·Σ w·x, as ggml_vec_dot_q8_0_q8_0.</summary>
public static unsafe partial class QuantDot
{
    private const int Q8_0Bytes = 34;

    internal static float Q8_0Reference(byte* w, Q8Row x, int blocks)
    {
        float sum = 0;
        for (int b = 0; b < blocks; b++)
        {
            byte* blk = w + b * Q8_0Bytes;
            sbyte* q = (sbyte*)(blk + 2), xq = x.Qs + b * 32;
            int s = 0;
            for (int j = 0; j < 32; j++) s += q[j] * xq[j];
            sum += s * (HalfExact(blk) * x.D[b]);
        }
        return sum;
    }

    /// <summary>Signed weights: |w| as the unsigned operand and x with w's sign (llama.cpp's sign trick).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Q8_0Block<T>(byte* blk, sbyte* xq, float dx, Vector256<float> acc) where T : IDotU8S8
    {
        var wv = Vector256.Load((sbyte*)(blk + 2));
        var p = T.Dot(Vector256.Abs(wv).AsByte(), Avx2.Sign(Vector256.Load(xq), wv));
        return Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(p), Vector256.Create(Half(blk) * dx), acc);
    }

    private static float Q8_0<T>(byte* w, Q8Row x, int blocks) where T : IDotU8S8
    {
        var acc0 = Vector256<float>.Zero;
        var acc1 = Vector256<float>.Zero;
        int b = 0;
        for (; b + 1 < blocks; b += 2)
        {
            acc0 = Q8_0Block<T>(w + b * Q8_0Bytes, x.Qs + b * 32, x.D[b], acc0);
            acc1 = Q8_0Block<T>(w + (b + 1) * Q8_0Bytes, x.Qs + (b + 1) * 32, x.D[b + 1], acc1);
        }
        if (b < blocks) acc0 = Q8_0Block<T>(w + b * Q8_0Bytes, x.Qs + b * 32, x.D[b], acc0);
        return Vector256.Sum(acc0 + acc1);
    }

    private static float Q8_0Avx512(byte* w, Q8Row x, int blocks)
    {
        var acc = Vector512<float>.Zero;
        int b = 0;
        for (; b + 1 < blocks; b += 2)
        {
            byte* blk = w + b * Q8_0Bytes;
            var wv = Vector512.Create(Vector256.Load((sbyte*)(blk + 2)), Vector256.Load((sbyte*)(blk + Q8_0Bytes + 2)));
            var xv = Vector512.Load(x.Qs + b * 32);
            var s = Vector512.ConditionalSelect(Vector512.LessThan(wv, Vector512<sbyte>.Zero), Vector512<sbyte>.Zero - xv, xv);
            var p = DotAvx512(Avx512BW.Abs(wv), s);
            var scale = Vector512.Create(Vector256.Create(Half(blk) * x.D[b]), Vector256.Create(Half(blk + Q8_0Bytes) * x.D[b + 1]));
            acc = Vector512.FusedMultiplyAdd(Vector512.ConvertToSingle(p), scale, acc);
        }
        float sum = Vector512.Sum(acc);
        if (b < blocks) sum += Vector256.Sum(Q8_0Block<Avx2Dot>(w + b * Q8_0Bytes, x.Qs + b * 32, x.D[b], Vector256<float>.Zero));
        return sum;
    }
}
