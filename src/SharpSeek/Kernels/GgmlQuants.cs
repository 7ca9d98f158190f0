using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using SharpSeek.Tensors;

namespace SharpSeek.Kernels;

/// <summary>
/// ggml block quantization formats (Q8_0, Q4_0, Q4_K, Q6_K): row dequantization, bit-exact with ggml's
/// <c>dequantize_row_*</c> (same block layouts and the same float operation order, no fused multiply-add).
/// </summary>
public static partial class GgmlQuants
{
    /// <summary>Values per Q4_K/Q6_K super-block (ggml's QK_K).</summary>
    public const int QK_K = 256;

    /// <summary>Decodes <paramref name="src"/> (whole blocks) into <paramref name="dst"/>; dst.Length values are produced.</summary>
    public static void DequantizeRow(DType type, ReadOnlySpan<byte> src, Span<float> dst)
    {
        int bs = type.BlockSize(), bb = type.BlockBytes();
        if (bs == 1) throw new ArgumentException($"{type} is not a block-quantized type", nameof(type));
        if (dst.Length % bs != 0) throw new ArgumentException($"{type} rows must hold a multiple of {bs} values, got {dst.Length}", nameof(dst));
        int blocks = dst.Length / bs;
        if (src.Length < (long)blocks * bb) throw new ArgumentException($"{type}: {blocks} blocks need {(long)blocks * bb} bytes, got {src.Length}", nameof(src));
        for (int b = 0; b < blocks; b++)
        {
            var block = src.Slice(b * bb, bb);
            var y = dst.Slice(b * bs, bs);
            switch (type)
            {
                case DType.Q8_0: DequantizeQ8_0(block, y); break;
                case DType.Q4_0: DequantizeQ4_0(block, y); break;
                case DType.Q4_K: DequantizeQ4_K(block, y); break;
                case DType.Q6_K: DequantizeQ6_K(block, y); break;
                default: throw new NotSupportedException($"dequantization of {type} is not implemented");
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float ReadHalf(ReadOnlySpan<byte> p) => (float)BitConverter.UInt16BitsToHalf(BinaryPrimitives.ReadUInt16LittleEndian(p));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void WriteHalf(Span<byte> p, float v) => BinaryPrimitives.WriteUInt16LittleEndian(p, BitConverter.HalfToUInt16Bits((Half)v));

    /// <summary>block_q8_0: fp16 d, int8 qs[32]; y = qs·d.</summary>
    private static void DequantizeQ8_0(ReadOnlySpan<byte> b, Span<float> y)
    {
        float d = ReadHalf(b);
        var qs = b.Slice(2, 32);
        for (int j = 0; j < 32; j++) y[j] = (sbyte)qs[j] * d;
    }

    /// <summary>block_q4_0: fp16 d, qs[16]; low nibbles are values 0..15, high nibbles 16..31, each (q − 8)·d.</summary>
    private static void DequantizeQ4_0(ReadOnlySpan<byte> b, Span<float> y)
    {
        float d = ReadHalf(b);
        var qs = b.Slice(2, 16);
        for (int j = 0; j < 16; j++)
        {
            y[j] = ((qs[j] & 0x0F) - 8) * d;
            y[j + 16] = ((qs[j] >> 4) - 8) * d;
        }
    }

    /// <summary>The 6-bit scale and min of sub-block <paramref name="j"/> (0..7) packed in Q4_K's 12 scale bytes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void GetScaleMinK4(int j, ReadOnlySpan<byte> q, out byte d, out byte m)
    {
        if (j < 4)
        {
            d = (byte)(q[j] & 63);
            m = (byte)(q[j + 4] & 63);
        }
        else
        {
            d = (byte)((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
            m = (byte)((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
        }
    }

    /// <summary>
    /// block_q4_K (144 bytes): fp16 d, fp16 dmin, scales[12] (eight 6-bit scale/min pairs), qs[128].
    /// Each 64 values use 32 bytes: low nibbles with pair 2i, high nibbles with pair 2i+1; y = d·sc·q − dmin·m.
    /// </summary>
    private static void DequantizeQ4_K(ReadOnlySpan<byte> b, Span<float> y)
    {
        float d = ReadHalf(b);
        float min = ReadHalf(b[2..]);
        var scales = b.Slice(4, 12);
        var q = b.Slice(16, 128);
        int o = 0;
        for (int j = 0, isub = 0; j < QK_K; j += 64, isub += 2)
        {
            GetScaleMinK4(isub, scales, out byte sc, out byte m);
            float d1 = d * sc, m1 = min * m;
            GetScaleMinK4(isub + 1, scales, out sc, out m);
            float d2 = d * sc, m2 = min * m;
            var qq = q.Slice(j / 2, 32);
            for (int l = 0; l < 32; l++) y[o++] = d1 * (qq[l] & 0xF) - m1;
            for (int l = 0; l < 32; l++) y[o++] = d2 * (qq[l] >> 4) - m2;
        }
    }

    /// <summary>
    /// block_q6_K (210 bytes): ql[128] (low 4 bits), qh[64] (high 2 bits), int8 scales[16], fp16 d.
    /// Each 128 values use 64 ql bytes, 32 qh bytes and 8 scales; y = d·scale·(q − 32).
    /// </summary>
    private static void DequantizeQ6_K(ReadOnlySpan<byte> b, Span<float> y)
    {
        float d = ReadHalf(b[208..]);
        for (int n = 0; n < 2; n++)
        {
            var ql = b.Slice(n * 64, 64);
            var qh = b.Slice(128 + n * 32, 32);
            var sc = b.Slice(192 + n * 8, 8);
            var yy = y.Slice(n * 128, 128);
            for (int l = 0; l < 32; l++)
            {
                int isc = l / 16;
                int q1 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
                int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
                int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                // Same association as ggml: (d · scale) · q.
                yy[l] = d * (sbyte)sc[isc] * q1;
                yy[l + 32] = d * (sbyte)sc[isc + 2] * q2;
                yy[l + 64] = d * (sbyte)sc[isc + 4] * q3;
                yy[l + 96] = d * (sbyte)sc[isc + 6] * q4;
            }
        }
    }
}
