using SharpSeek.Tensors;

namespace SharpSeek.Kernels;

/// <summary>
/// Quantizers from float32, following ggml's reference quantizers (<c>quantize_row_*_ref</c>, what llama-quantize uses
/// without an importance matrix) operation by operation, so Q8_0/Q4_0 output is byte-identical to ggml's.
/// Float expressions are evaluated in ggml's source order without fused multiply-add.
/// </summary>
public static partial class GgmlQuants
{
    /// <summary>Encodes <paramref name="src"/> (a whole number of blocks) as <paramref name="type"/> into <paramref name="dst"/>.</summary>
    public static void QuantizeRow(DType type, ReadOnlySpan<float> src, Span<byte> dst)
    {
        int bs = type.BlockSize(), bb = type.BlockBytes();
        if (bs == 1) throw new ArgumentException($"{type} is not a block-quantized type", nameof(type));
        if (src.Length % bs != 0) throw new ArgumentException($"{type} needs a multiple of {bs} values, got {src.Length}", nameof(src));
        int blocks = src.Length / bs;
        if (dst.Length < (long)blocks * bb) throw new ArgumentException($"{type}: {blocks} blocks need {(long)blocks * bb} bytes, got {dst.Length}", nameof(dst));
        for (int b = 0; b < blocks; b++)
        {
            var x = src.Slice(b * bs, bs);
            var y = dst.Slice(b * bb, bb);
            switch (type)
            {
                case DType.Q8_0: QuantizeQ8_0(x, y); break;
                case DType.Q4_0: QuantizeQ4_0(x, y); break;
                case DType.Q4_K: QuantizeQ4_K(x, y); break;
                case DType.Q6_K: QuantizeQ6_K(x, y); break;
                default: throw new NotSupportedException($"quantization to {type} is not implemented");
            }
        }
    }

    /// <summary>quantize_row_q8_0_ref: d = amax/127 (stored fp16), q = roundf(x/d) with halves away from zero.</summary>
    private static void QuantizeQ8_0(ReadOnlySpan<float> x, Span<byte> y)
    {
        float amax = 0;
        for (int j = 0; j < 32; j++) amax = MathF.Max(amax, MathF.Abs(x[j]));
        float d = amax / 127;
        float id = d != 0 ? 1.0f / d : 0.0f;
        WriteHalf(y, d);
        for (int j = 0; j < 32; j++) y[2 + j] = (byte)(sbyte)MathF.Round(x[j] * id, MidpointRounding.AwayFromZero);
    }

    /// <summary>
    /// quantize_row_q4_0_ref: d = (the signed value of largest magnitude)/−8, q = min(15, trunc(x/d + 8.5)); value j in
    /// the low nibble of byte j, value j+16 in its high nibble. Asymmetric by design: −max clips to +7·|d|.
    /// </summary>
    private static void QuantizeQ4_0(ReadOnlySpan<float> x, Span<byte> y)
    {
        float amax = 0, max = 0;
        for (int j = 0; j < 32; j++)
        {
            float v = x[j];
            if (amax < MathF.Abs(v)) { amax = MathF.Abs(v); max = v; }
        }
        float d = max / -8;
        float id = d != 0 ? 1.0f / d : 0.0f;
        WriteHalf(y, d);
        for (int j = 0; j < 16; j++)
        {
            float x0 = x[j] * id;
            float x1 = x[16 + j] * id;
            int xi0 = Math.Min(15, (int)(sbyte)(x0 + 8.5f));
            int xi1 = Math.Min(15, (int)(sbyte)(x1 + 8.5f));
            y[2 + j] = (byte)(xi0 | (xi1 << 4));
        }
    }
}
