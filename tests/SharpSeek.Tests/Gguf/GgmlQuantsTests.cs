using SharpSeek.Kernels;
using SharpSeek.Tensors;

namespace SharpSeek.Tests.Gguf;

/// <summary>Dequantization against blocks packed by hand from the ggml format definitions, and quantizer round trips.</summary>
public class GgmlQuantsTests
{
    private static void PutHalf(byte[] b, int at, float v) => BitConverter.TryWriteBytes(b.AsSpan(at), BitConverter.HalfToUInt16Bits((Half)v));

    [Fact]
    public void Q8_0_block_is_int8_times_fp16_scale()
    {
        var b = new byte[34];
        PutHalf(b, 0, 0.25f);
        for (int j = 0; j < 32; j++) b[2 + j] = (byte)(sbyte)(j * 8 - 128);
        var y = new float[32];
        GgmlQuants.DequantizeRow(DType.Q8_0, b, y);
        for (int j = 0; j < 32; j++) Assert.Equal((j * 8 - 128) * 0.25f, y[j]);
    }

    [Fact]
    public void Q4_0_block_has_low_nibbles_first_then_high_nibbles_minus_8()
    {
        var b = new byte[18];
        PutHalf(b, 0, -0.5f);
        var q = new int[32];
        for (int j = 0; j < 32; j++) q[j] = (j * 5 + 1) % 16;
        for (int j = 0; j < 16; j++) b[2 + j] = (byte)(q[j] | (q[j + 16] << 4));
        var y = new float[32];
        GgmlQuants.DequantizeRow(DType.Q4_0, b, y);
        for (int j = 0; j < 32; j++) Assert.Equal((q[j] - 8) * -0.5f, y[j]);
    }

    [Fact]
    public void Q4_K_block_follows_the_format_definition()
    {
        // 8 sub-blocks of 32 values, each with a 6-bit scale and min; y = d·sc·q − dmin·m.
        int[] sc = [1, 2, 3, 4, 17, 33, 50, 63];
        int[] m = [0, 5, 10, 15, 20, 40, 60, 7];
        var q = new int[256];
        for (int i = 0; i < 256; i++) q[i] = (i * 7 + 3) % 16;
        var b = new byte[144];
        PutHalf(b, 0, 0.5f);
        PutHalf(b, 2, 0.25f);
        for (int j = 0; j < 4; j++)
        {
            // bytes 0-3: scales 0-3 plus the top 2 bits of scales 4-7; bytes 4-7: mins likewise; bytes 8-11: low nibbles of 4-7.
            b[4 + j] = (byte)(sc[j] | ((sc[j + 4] >> 4) << 6));
            b[4 + j + 4] = (byte)(m[j] | ((m[j + 4] >> 4) << 6));
            b[4 + j + 8] = (byte)((sc[j + 4] & 0xF) | ((m[j + 4] & 0xF) << 4));
        }
        // Each 64 values share 32 bytes: the first 32 in low nibbles, the next 32 in high nibbles.
        for (int c = 0; c < 4; c++)
            for (int l = 0; l < 32; l++)
                b[16 + c * 32 + l] = (byte)(q[c * 64 + l] | (q[c * 64 + 32 + l] << 4));
        var y = new float[256];
        GgmlQuants.DequantizeRow(DType.Q4_K, b, y);
        for (int i = 0; i < 256; i++)
        {
            int s = i / 32;
            float expected = 0.5f * sc[s] * q[i] - 0.25f * m[s];
            Assert.Equal(expected, y[i]);
        }
    }

    [Fact]
    public void Q6_K_block_follows_the_format_definition()
    {
        // 16 groups of 16 values with int8 scales; 6-bit q split into 4 low bits (ql) and 2 high bits (qh); y = d·sc·(q − 32).
        var q = new int[256];
        for (int i = 0; i < 256; i++) q[i] = (i * 11 + 5) % 64;
        var sc = new sbyte[16];
        for (int g = 0; g < 16; g++) sc[g] = (sbyte)(g * 17 - 128);
        var b = new byte[210];
        for (int n = 0; n < 2; n++)
        {
            int o = n * 128;
            for (int l = 0; l < 32; l++)
            {
                b[n * 64 + l] = (byte)((q[o + l] & 0xF) | ((q[o + l + 64] & 0xF) << 4));
                b[n * 64 + l + 32] = (byte)((q[o + l + 32] & 0xF) | ((q[o + l + 96] & 0xF) << 4));
                b[128 + n * 32 + l] = (byte)((q[o + l] >> 4) | ((q[o + l + 32] >> 4) << 2) | ((q[o + l + 64] >> 4) << 4) | ((q[o + l + 96] >> 4) << 6));
            }
        }
        for (int g = 0; g < 16; g++) b[192 + g] = (byte)sc[g];
        PutHalf(b, 208, 0.125f);
        var y = new float[256];
        GgmlQuants.DequantizeRow(DType.Q6_K, b, y);
        for (int i = 0; i < 256; i++) Assert.Equal(0.125f * sc[i / 16] * (q[i] - 32), y[i]);
    }

    [Theory]
    [InlineData(DType.Q8_0, 0.005, 0.006)]
    [InlineData(DType.Q4_0, 0.13, 0.09)]
    [InlineData(DType.Q4_K, 0.09, 0.08)]
    [InlineData(DType.Q6_K, 0.025, 0.02)]
    public void Quantizers_round_trip_within_their_precision(DType type, double maxRel, double rmsRel)
    {
        var rnd = new Random(1234);
        var x = new float[4096];
        for (int i = 0; i < x.Length; i++) x[i] = (float)((rnd.NextDouble() * 2 - 1) * (1 + 3 * rnd.NextDouble()));
        var bytes = new byte[type.ByteCount(x.Length)];
        GgmlQuants.QuantizeRow(type, x, bytes);
        var y = new float[x.Length];
        GgmlQuants.DequantizeRow(type, bytes, y);
        double amax = x.Max(Math.Abs), err2 = 0, x2 = 0, maxErr = 0;
        for (int i = 0; i < x.Length; i++)
        {
            double e = y[i] - x[i];
            err2 += e * e;
            x2 += (double)x[i] * x[i];
            maxErr = Math.Max(maxErr, Math.Abs(e));
        }
        Assert.True(maxErr <= maxRel * amax, $"{type}: max error {maxErr} > {maxRel}·{amax}");
        Assert.True(Math.Sqrt(err2 / x2) <= rmsRel, $"{type}: relative RMS error {Math.Sqrt(err2 / x2)}");
    }

    [Theory]
    [InlineData(DType.Q8_0)]
    [InlineData(DType.Q4_0)]
    [InlineData(DType.Q4_K)]
    [InlineData(DType.Q6_K)]
    public void All_zero_input_encodes_to_zero_values(DType type)
    {
        var x = new float[256];
        var bytes = new byte[type.ByteCount(256)];
        GgmlQuants.QuantizeRow(type, x, bytes);
        var y = new float[256];
        GgmlQuants.DequantizeRow(type, bytes, y);
        Assert.All(y, v => Assert.Equal(0f, v));
    }

    [Fact]
    public void Q4_K_represents_non_negative_blocks_with_min_zero_and_keeps_the_maximum()
    {
        var x = new float[256];
        for (int i = 0; i < 256; i++) x[i] = i % 16 * 0.1f; // exactly 16 levels per sub-block
        var b = new byte[144];
        GgmlQuants.QuantizeRow(DType.Q4_K, x, b);
        var y = new float[256];
        GgmlQuants.DequantizeRow(DType.Q4_K, b, y);
        for (int i = 0; i < 256; i++) Assert.True(Math.Abs(y[i] - x[i]) < 2e-3, $"[{i}] {y[i]} vs {x[i]}");
    }

    [Fact]
    public void Nearest_int_rounds_half_to_even_like_ggml()
    {
        Assert.Equal(2, GgmlQuants.NearestInt(2.5f));
        Assert.Equal(4, GgmlQuants.NearestInt(3.5f));
        Assert.Equal(-2, GgmlQuants.NearestInt(-2.5f));
        Assert.Equal(-3, GgmlQuants.NearestInt(-2.6f));
        Assert.Equal(63, GgmlQuants.NearestInt(62.7f));
    }
}
