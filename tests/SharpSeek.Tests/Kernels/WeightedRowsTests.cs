using SharpSeek.Kernels;

namespace SharpSeek.Tests.Kernels;

/// <summary>The attention value sum against a double-precision loop, on widths that hit every chunk size and tail.</summary>
public sealed unsafe class WeightedRowsTests
{
    [Theory]
    [InlineData(1, 1)]
    [InlineData(7, 3)]
    [InlineData(8, 5)]
    [InlineData(20, 2)]
    [InlineData(64, 65)]
    [InlineData(100, 17)]
    [InlineData(512, 40)]
    public void SumMatchesDoubleLoop(int n, int len)
    {
        var r = new Random(n * 1000 + len);
        int stride = n + 3;
        var rows = Enumerable.Range(0, len * stride).Select(_ => r.NextSingle() * 2 - 1).ToArray();
        var w = Enumerable.Range(0, len).Select(_ => r.NextSingle()).ToArray();
        var dst = new float[n];
        fixed (float* rp = rows)
        fixed (float* dp = dst)
            WeightedRows.Sum(rp, stride, w, dp, n);
        for (int c = 0; c < n; c++)
        {
            double sum = 0, abs = 0;
            for (int s = 0; s < len; s++)
            {
                sum += (double)w[s] * rows[s * stride + c];
                abs += Math.Abs((double)w[s] * rows[s * stride + c]);
            }
            Assert.True(Math.Abs(dst[c] - sum) <= 1e-6 * abs + 1e-30, $"n={n} len={len} c={c}: {dst[c]} vs {sum}");
        }
    }
}
