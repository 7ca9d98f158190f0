using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace SharpSeek.Kernels;

/// <summary>
/// llama.cpp's Q8_K activations (block_q8_K, quantize_row_q8_K_ref), which its K-quant products take: per 256 values one float
/// d = max/−127, where max is the first value of largest magnitude, and q = min(127, round-half-even(x·(−127/max))); per 16
/// values Σq (ggml's bsums). One scale per super-block lets the Q4_K/Q6_K group kernels sum a whole super-block in int32 and
/// convert once, where Q8_0's scale per 32 costs a convert and a float multiply-add per sub-block. Per 32 values Σq is kept
/// too, as int16, so a Q4_K kernel's min term reads two sub-blocks' sums as one <c>vpmaddwd</c> operand.
/// The form lives in the Q8_0 buffers, which are larger: per 256 values 1 of their 8 scales, 16 of their 16 per-16 sums and
/// 8 int16 in their 8 per-32 sums.
/// </summary>
public sealed unsafe partial class Q8Activations
{
    public const int SuperBlock = 256;

    private void QuantizeK(float* x, int t0, int t1, int cols, long stride, bool vector)
    {
        int perRow = cols / SuperBlock;
        fixed (sbyte* q = _qs)
        fixed (float* d = _d)
        fixed (int* s16 = _sum16, s32 = _sum32)
        {
            for (int t = t0; t < t1; t++)
            {
                float* xr = x + t * stride;
                for (int k = 0; k < perRow; k++)
                {
                    long b = (long)t * perRow + k;
                    if (vector) QuantizeSuperBlock256(xr + k * SuperBlock, q + b * SuperBlock, d + b, s16 + 16 * b, (short*)s32 + 8 * b);
                    else QuantizeSuperBlockReference(xr + k * SuperBlock, q + b * SuperBlock, d + b, s16 + 16 * b, (short*)s32 + 8 * b);
                }
            }
        }
    }

    /// <summary>Row <paramref name="token"/> of Q8_K activations as raw pointers (the arrays are pinned).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Q8KRow RowK(int token)
    {
        if (Format != Q8Format.Q8_K) throw new InvalidOperationException($"the activations are {Format}, not Q8_K");
        long b = (long)token * (Cols / SuperBlock);
        return new Q8KRow(
            (sbyte*)Unsafe.AsPointer(ref _qs[0]) + b * SuperBlock,
            (float*)Unsafe.AsPointer(ref _d[0]) + b,
            (int*)Unsafe.AsPointer(ref _sum16[0]) + 16 * b,
            (short*)Unsafe.AsPointer(ref _sum32[0]) + 8 * b);
    }

    /// <summary>Scalar reference, ggml's loop as written (nearest_int's float trick included); the vector version gives identical bytes.</summary>
    internal static void QuantizeSuperBlockReference(float* x, sbyte* q, float* d, int* bsums, short* sum32)
    {
        float max = 0, amax = 0;
        for (int j = 0; j < SuperBlock; j++)
        {
            float ax = MathF.Abs(x[j]);
            if (ax > amax) { amax = ax; max = x[j]; }
        }
        if (amax == 0)
        {
            ClearSuperBlock(q, d, bsums, sum32);
            return;
        }
        float iscale = -127f / max;
        for (int j = 0; j < SuperBlock; j++)
        {
            // ggml's nearest_int: adding 1.5·2^23 leaves round-half-even(v) in the low mantissa bits.
            float v = iscale * x[j] + 12582912f;
            q[j] = (sbyte)Math.Min(127, (BitConverter.SingleToInt32Bits(v) & 0x007FFFFF) - 0x00400000);
        }
        for (int j = 0; j < SuperBlock / 16; j++)
        {
            int s = 0;
            for (int i = 0; i < 16; i++) s += q[16 * j + i];
            bsums[j] = s;
        }
        for (int j = 0; j < SuperBlock / 32; j++) sum32[j] = (short)(bsums[2 * j] + bsums[2 * j + 1]);
        *d = 1 / iscale;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void QuantizeSuperBlock256(float* x, sbyte* q, float* d, int* bsums, short* sum32)
    {
        var m = Vector256<float>.Zero;
        for (int j = 0; j < SuperBlock; j += 8) m = Vector256.MaxNative(m, Vector256.Abs(Vector256.Load(x + j)));
        var m128 = Vector128.MaxNative(m.GetLower(), m.GetUpper());
        m128 = Vector128.MaxNative(m128, Vector128.Shuffle(m128, Vector128.Create(2, 3, 0, 1)));
        m128 = Vector128.MaxNative(m128, Vector128.Shuffle(m128, Vector128.Create(1, 0, 3, 2)));
        float amax = m128.ToScalar();
        if (amax == 0)
        {
            ClearSuperBlock(q, d, bsums, sum32);
            return;
        }
        // The scale's sign is that of the first value of largest magnitude, as ggml's strict '>' keeps the first.
        float max = amax;
        var am = Vector256.Create(amax);
        for (int j = 0; j < SuperBlock; j += 8)
        {
            uint hit = Vector256.Equals(Vector256.Abs(Vector256.Load(x + j)), am).ExtractMostSignificantBits();
            if (hit != 0) { max = x[j + BitOperations.TrailingZeroCount(hit)]; break; }
        }
        float iscale = -127f / max;
        var mul = Vector256.Create(iscale);
        var top = Vector256.Create(127);
        for (int j = 0; j < SuperBlock; j += 32)
        {
            // Round is round-half-even, as nearest_int; the rounded floats convert exactly.
            var i0 = Vector256.Min(Vector256.ConvertToInt32Native(Vector256.Round(Vector256.Load(x + j) * mul)), top);
            var i1 = Vector256.Min(Vector256.ConvertToInt32Native(Vector256.Round(Vector256.Load(x + j + 8) * mul)), top);
            var i2 = Vector256.Min(Vector256.ConvertToInt32Native(Vector256.Round(Vector256.Load(x + j + 16) * mul)), top);
            var i3 = Vector256.Min(Vector256.ConvertToInt32Native(Vector256.Round(Vector256.Load(x + j + 24) * mul)), top);
            int s0 = Vector256.Sum(i0 + i1), s1 = Vector256.Sum(i2 + i3);
            Vector256.Narrow(Vector256.Narrow(i0, i1), Vector256.Narrow(i2, i3)).Store(q + j);
            bsums[j / 16] = s0;
            bsums[j / 16 + 1] = s1;
            sum32[j / 32] = (short)(s0 + s1);
        }
        *d = 1 / iscale;
    }

    /// <summary>An all-zero super-block: d = 0 and q = 0, as ggml writes it (its bsums are left unset there; ours are 0).</summary>
    private static void ClearSuperBlock(sbyte* q, float* d, int* bsums, short* sum32)
    {
        new Span<sbyte>(q, SuperBlock).Clear();
        new Span<int>(bsums, SuperBlock / 16).Clear();
        new Span<short>(sum32, SuperBlock / 32).Clear();
        *d = 0;
    }
}

/// <summary>One token's Q8_K activations: values, a scale per 256, Σq per 16 (int32) and per 32 (int16).</summary>
public readonly unsafe struct Q8KRow(sbyte* qs, float* d, int* bsums, short* sum32)
{
    public readonly sbyte* Qs = qs;
    public readonly float* D = d;
    public readonly int* BSums = bsums;
    public readonly short* Sum32 = sum32;
}
