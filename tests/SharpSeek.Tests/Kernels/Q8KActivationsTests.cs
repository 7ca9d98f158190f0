using SharpSeek.Tests.Support;
using SharpSeek.Kernels;

namespace SharpSeek.Tests.Kernels;

/// <summary>
/// Q8_K activations (<see cref="Q8Activations"/> in <see cref="Q8Format.Q8_K"/>) against a plain transcription of ggml's
/// quantize_row_q8_K_ref, bit for bit, on the scalar and the vector path: random sizes and data, strided tokens, rounding
/// ties, an all-zero super-block, and both signs at the largest magnitude (the first one sets the scale's sign).
/// </summary>
public sealed unsafe class Q8KActivationsTests
{
    /// <summary>ggml's quantize_row_q8_K_ref as written: d, qs and bsums per 256 values (bsums 0 for an all-zero block).</summary>
    private static (float[] d, sbyte[] qs, short[] bsums) Ggml(float[] x)
    {
        int nb = x.Length / 256;
        var d = new float[nb];
        var qs = new sbyte[x.Length];
        var bsums = new short[nb * 16];
        for (int i = 0; i < nb; i++)
        {
            float max = 0, amax = 0;
            for (int j = 0; j < 256; j++)
            {
                float ax = MathF.Abs(x[i * 256 + j]);
                if (ax > amax) { amax = ax; max = x[i * 256 + j]; }
            }
            if (amax == 0) continue;
            float iscale = -127f / max;
            for (int j = 0; j < 256; j++)
            {
                int v = NearestInt(iscale * x[i * 256 + j]);
                qs[i * 256 + j] = (sbyte)Math.Min(127, v);
            }
            for (int j = 0; j < 16; j++)
            {
                int sum = 0;
                for (int ii = 0; ii < 16; ii++) sum += qs[i * 256 + j * 16 + ii];
                bsums[i * 16 + j] = (short)sum;
            }
            d[i] = 1 / iscale;
        }
        return (d, qs, bsums);
    }

    private static int NearestInt(float fval)
    {
        float val = fval + 12582912f;
        int i = BitConverter.SingleToInt32Bits(val);
        return (i & 0x007fffff) - 0x00400000;
    }

    public static TheoryData<KernelPath, int, int, int> Cases
    {
        get
        {
            var data = new TheoryData<KernelPath, int, int, int>();
            foreach (var p in TestedPaths.All.Where(p => p is KernelPath.Scalar or KernelPath.Avx2 or KernelPath.Vnni))
                foreach (var (superBlocks, tokens) in new[] { (1, 1), (2, 3), (5, 1), (3, 4) })
                    foreach (int seed in new[] { 1, 2 })
                        data.Add(p, superBlocks, tokens, seed);
            return data;
        }
    }

    [Theory, MemberData(nameof(Cases))]
    public void QuantizationMatchesGgmlBitForBit(KernelPath path, int superBlocks, int tokens, int seed)
    {
        var r = new Random(StableSeed.Of(path, superBlocks, tokens, seed));
        int cols = superBlocks * 256, stride = cols + 32 * r.Next(3);
        var x = new float[(tokens - 1) * stride + cols];
        for (int i = 0; i < x.Length; i++) x[i] = (float)(r.NextDouble() * 2 - 1) * (r.Next(8) == 0 ? 40 : 1);
        for (int t = 0; t < tokens; t++)
            for (int b = 0; b < superBlocks; b++)
            {
                var sb = x.AsSpan(t * stride + b * 256, 256);
                switch (r.Next(5))
                {
                    case 0: sb.Clear(); break;
                    case 1:
                        // max = ±127: iscale = ∓1, so half-integers are exact ties that round-half-even must break.
                        for (int j = 0; j < 256; j++) sb[j] = r.Next(-253, 254) / 2f;
                        sb[r.Next(256)] = r.Next(2) == 0 ? 127 : -127;
                        break;
                    case 2:
                        // Both signs at the largest magnitude: the first sets the scale's sign.
                        int a = r.Next(128), c = 128 + r.Next(128);
                        float m = 50 + r.Next(10);
                        sb[a] = r.Next(2) == 0 ? m : -m;
                        sb[c] = -sb[a];
                        break;
                    case 3:
                        for (int j = 0; j < 256; j++) sb[j] *= 1e-30f;
                        break;
                }
            }
        var act = new Q8Activations();
        fixed (float* xp = x) act.Quantize(xp, tokens, cols, stride, Q8Format.Q8_K, vector: path != KernelPath.Scalar);
        Assert.Equal(Q8Format.Q8_K, act.Format);
        for (int t = 0; t < tokens; t++)
        {
            var (d, qs, bsums) = Ggml(x.AsSpan(t * stride, cols).ToArray());
            var row = act.RowK(t);
            for (int b = 0; b < superBlocks; b++)
            {
                Assert.Equal(BitConverter.SingleToInt32Bits(d[b]), BitConverter.SingleToInt32Bits(row.D[b]));
                for (int j = 0; j < 16; j++) Assert.Equal(bsums[b * 16 + j], row.BSums[b * 16 + j]);
                for (int j = 0; j < 8; j++) Assert.Equal(bsums[b * 16 + 2 * j] + bsums[b * 16 + 2 * j + 1], row.Sum32[b * 8 + j]);
            }
            for (int j = 0; j < cols; j++) Assert.True(qs[j] == row.Qs[j], $"{path} token {t} value {j}: {row.Qs[j]} vs ggml {qs[j]}");
        }
    }

    [Fact]
    public void FormatIsCheckedWhereRowsAreRead()
    {
        var act = new Q8Activations();
        act.Quantize(new float[512], 1, 512, Q8Format.Q8_K);
        Assert.Throws<InvalidOperationException>(() => act.Row(0));
        act.Quantize(new float[512], 1, 512);
        Assert.Equal(Q8Format.Q8_0, act.Format);
        Assert.Throws<InvalidOperationException>(() => act.RowK(0));
        Assert.Throws<ArgumentException>(() => act.Quantize(new float[96], 1, 96, Q8Format.Q8_K));
    }
}
