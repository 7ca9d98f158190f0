using System.Runtime.CompilerServices;
using SharpSeek.Tensors;

namespace SharpSeek.Kernels;

/// <summary>
/// Scalar row kernels over the file's block layout, one weight row against one token: the <see cref="KernelPath.Scalar"/>
/// path of products whose weights keep that layout, and the reference the group kernels are tested against. They take the
/// same activation format as the group kernels (<see cref="ActivationFormat"/>) and the same float steps in the same order,
/// so a row's result equals the group kernels' lane for that row bit for bit.
/// <list type="bullet">
/// <item>Q8_0 (34-byte blocks: fp16 d, 32 int8) and Q4_0 (18-byte blocks: fp16 d, 16 bytes of nibbles; value j low nibble,
/// j+16 high, −8 offset): y = Σ_b fma(Σ w·x, d_w·d_x), as ggml_vec_dot_q8_0_q8_0 / q4_0_q8_0.</item>
/// <item>Q4_K (144-byte super-blocks of 256: fp16 d, fp16 dmin, 12 bytes of 6-bit (scale, min) pairs, 128 bytes of nibbles) and
/// Q6_K (210-byte super-blocks: ql[128], qh[64], int8 scales[16], fp16 d) against Q8_K activations: the whole super-block sums
/// in int32 and converts once, as ggml_vec_dot_q4_K_q8_K / q6_K_q8_K.</item>
/// </list>
/// </summary>
public static unsafe partial class QuantDot
{
    private const int Q8_0Bytes = 34, Q4_0Bytes = 18, Q4_KBytes = 144, Q6_KBytes = 210;

    /// <summary>Row <paramref name="w"/> (file layout) · token <paramref name="token"/> of <paramref name="act"/>, over all of its columns.</summary>
    public static float RowReference(DType type, byte* w, Q8Activations act, int token)
    {
        int cols = act.Cols;
        return type switch
        {
            DType.Q8_0 => Q8_0Reference(w, act.Row(token), cols / 32),
            DType.Q4_0 => Q4_0Reference(w, act.Row(token), cols / 32),
            DType.Q4_K => Q4_KReference(w, act.RowK(token), cols / 256),
            DType.Q6_K => Q6_KReference(w, act.RowK(token), cols / 256),
            _ => throw new NotSupportedException($"no integer kernel for {type}"),
        };
    }

    internal static float Q8_0Reference(byte* w, Q8Row x, int blocks)
    {
        float sum = 0;
        for (int b = 0; b < blocks; b++)
        {
            byte* blk = w + b * Q8_0Bytes;
            sbyte* q = (sbyte*)(blk + 2), xq = x.Qs + b * 32;
            int s = 0;
            for (int j = 0; j < 32; j++) s += q[j] * xq[j];
            sum = MathF.FusedMultiplyAdd(s, HalfExact(blk) * x.D[b], sum);
        }
        return sum;
    }

    internal static float Q4_0Reference(byte* w, Q8Row x, int blocks)
    {
        float sum = 0;
        for (int b = 0; b < blocks; b++)
        {
            byte* blk = w + b * Q4_0Bytes;
            sbyte* xq = x.Qs + b * 32;
            int s = 0;
            for (int j = 0; j < 16; j++) s += ((blk[2 + j] & 0xF) - 8) * xq[j] + ((blk[2 + j] >> 4) - 8) * xq[j + 16];
            sum = MathF.FusedMultiplyAdd(s, HalfExact(blk) * x.D[b], sum);
        }
        return sum;
    }

    internal static float Q4_KReference(byte* w, Q8KRow x, int superBlocks)
    {
        float acc = 0, mins = 0;
        for (int i = 0; i < superBlocks; i++)
        {
            byte* blk = w + i * Q4_KBytes;
            int dots = 0, m = 0;
            for (int k = 0; k < 8; k++)
            {
                ScaleMinK4(k, blk + 4, out int sc, out int mk);
                byte* q = blk + 16 + (k / 2) * 32;
                int shift = (k & 1) * 4;
                sbyte* xq = x.Qs + i * 256 + k * 32;
                int s = 0;
                for (int j = 0; j < 32; j++) s += ((q[j] >> shift) & 0xF) * xq[j];
                dots += sc * s;
                m += mk * (x.BSums[16 * i + 2 * k] + x.BSums[16 * i + 2 * k + 1]);
            }
            acc = MathF.FusedMultiplyAdd(dots, HalfExact(blk) * x.D[i], acc);
            mins = MathF.FusedMultiplyAdd(m, HalfExact(blk + 2) * x.D[i], mins);
        }
        return acc - mins;
    }

    internal static float Q6_KReference(byte* w, Q8KRow x, int superBlocks)
    {
        float sum = 0;
        for (int i = 0; i < superBlocks; i++)
        {
            byte* blk = w + i * Q6_KBytes;
            sbyte* sc = (sbyte*)(blk + 192);
            int total = 0;
            for (int n = 0; n < 2; n++)
            {
                byte* ql = blk + n * 64, qh = blk + 128 + n * 32;
                for (int k = 0; k < 4; k++)
                {
                    sbyte* xq = x.Qs + i * 256 + (n * 4 + k) * 32;
                    for (int half = 0; half < 2; half++)
                    {
                        int s = 0;
                        for (int l = half * 16; l < half * 16 + 16; l++)
                        {
                            int lo = k is 0 or 2 ? ql[l] : ql[l + 32];
                            lo = k < 2 ? lo & 0xF : lo >> 4;
                            int q = (lo | (((qh[l] >> (2 * k)) & 3) << 4)) - 32;
                            s += q * xq[l];
                        }
                        total += sc[n * 8 + 2 * k + half] * s;
                    }
                }
            }
            sum = MathF.FusedMultiplyAdd(total, HalfExact(blk + 208) * x.D[i], sum);
        }
        return sum;
    }

    /// <summary>Sub-block <paramref name="j"/>'s 6-bit scale and min from a Q4_K super-block's 12 packed bytes (ggml's get_scale_min_k4).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void ScaleMinK4(int j, byte* q, out int d, out int m)
    {
        if (j < 4)
        {
            d = q[j] & 63;
            m = q[j + 4] & 63;
        }
        else
        {
            d = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
            m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
        }
    }
}
