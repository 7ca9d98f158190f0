using SharpSeek.Kernels;

namespace SharpSeek.Tests.Kernels;

/// <summary>
/// The multi-row attention kernels: scores against a double-precision loop, and each row's result independent of how many
/// rows share the call (a decode step's single row must score exactly as the same row inside a prefill tile).
/// </summary>
public sealed unsafe class AttentionScoresTests
{
    [Theory]
    [InlineData(1, 1, 16, 0)]
    [InlineData(4, 4, 16, 16)]
    [InlineData(5, 7, 33, 8)]
    [InlineData(16, 37, 512, 64)]
    [InlineData(3, 9, 49, 17)]
    [InlineData(8, 13, 64, 16)]
    public void ScoresMatchDoubleLoopAndAreRowInvariant(int rows, int len, int dk, int dr)
    {
        var r = new Random(rows * 7919 + len * 31 + dk + dr);
        float[] Fill(int n) => Enumerable.Range(0, n).Select(_ => r.NextSingle() * 2 - 1).ToArray();
        long qs = dk + 3, qpes = dr + 5, ks = dk + 1, pes = dr + 2, ss = len + 4;
        float[] q = Fill((int)(rows * qs)), qpe = Fill((int)(rows * qpes + 1)), k = Fill((int)(len * ks)), pe = Fill((int)(len * pes + 1));
        var all = new float[rows * ss];
        var one = new float[len];
        const float scale = 0.37f;
        fixed (float* qp = q) fixed (float* qpep = qpe) fixed (float* kp = k) fixed (float* pep = pe) fixed (float* ap = all) fixed (float* op = one)
        {
            AttentionScores.Compute(qp, qs, qpep, qpes, rows, kp, ks, dk, pep, pes, dr, len, scale, ap, ss);
            for (int i = 0; i < rows; i++)
            {
                AttentionScores.Compute(qp + i * qs, qs, qpep + i * qpes, qpes, 1, kp, ks, dk, pep, pes, dr, len, scale, op, len);
                for (int s = 0; s < len; s++)
                {
                    double sum = 0, abs = 0;
                    for (int c = 0; c < dk; c++) { double v = (double)q[i * qs + c] * k[s * ks + c]; sum += v; abs += Math.Abs(v); }
                    for (int c = 0; c < dr; c++) { double v = (double)qpe[i * qpes + c] * pe[s * pes + c]; sum += v; abs += Math.Abs(v); }
                    float got = all[i * ss + s];
                    Assert.True(Math.Abs(got - scale * sum) <= 2e-6 * scale * abs + 1e-30, $"row {i} key {s}: {got} vs {scale * sum}");
                    Assert.Equal(got, one[s]);
                    float reference = scale * AttentionScores.Reference(qp + i * qs, kp + s * ks, dk, qpep + i * qpes, pep + s * pes, dr);
                    Assert.True(Math.Abs(got - reference) <= 2e-6 * scale * abs + 1e-30, $"row {i} key {s}: {got} vs scalar {reference}");
                }
            }
        }
    }

    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(4, 64, 3)]
    [InlineData(5, 100, 17)]
    [InlineData(16, 512, 40)]
    [InlineData(7, 130, 9)]
    public void SumRowsEqualsSumPerRow(int count, int n, int len)
    {
        var r = new Random(count * 131 + n * 7 + len);
        long stride = n + 3, ws = len + 2, ds = n + 5;
        var rows = Enumerable.Range(0, (int)(len * stride)).Select(_ => r.NextSingle() * 2 - 1).ToArray();
        var w = Enumerable.Range(0, (int)(count * ws)).Select(_ => r.NextSingle()).ToArray();
        var dst = new float[count * ds];
        var one = new float[n];
        fixed (float* rp = rows) fixed (float* wp = w) fixed (float* dp = dst) fixed (float* op = one)
        {
            WeightedRows.SumRows(rp, stride, wp, ws, count, len, dp, ds, n);
            for (int i = 0; i < count; i++)
            {
                WeightedRows.Sum(rp, stride, w.AsSpan((int)(i * ws), len), op, n);
                for (int c = 0; c < n; c++) Assert.Equal(one[c], dst[i * ds + c]);
            }
        }
    }
}
