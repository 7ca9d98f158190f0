using SharpSeek.Kernels;
using SharpSeek.Tensors;

namespace SharpSeek.Tests.Kernels;

/// <summary>
/// How a decode product's rows are split over the pool: items are whole multiples of 16 rows that cover the matrix in about
/// 8 items per thread, and the result does not depend on the number of threads (every row's dot is computed whole).
/// </summary>
public sealed unsafe class MatMulSplitTests
{
    [Theory]
    [InlineData(1, 1)]
    [InlineData(16, 2)]
    [InlineData(256, 2)]
    [InlineData(1408, 2)]
    [InlineData(1536, 3)]
    [InlineData(8960, 2)]
    [InlineData(151936, 16)]
    public void ItemsAreWholeSixteenRowRunsCoveringTheMatrix(int rows, int threads)
    {
        int per = MatMul.DotRowsPerItem(rows, threads);
        int items = (rows + per - 1) / per;
        Assert.Equal(0, per % 16);
        Assert.True((long)items * per >= rows);
        Assert.True(items <= Math.Max(1, threads * MatMul.DotItemsPerThread), $"{items} items");
        // Not fewer than needed: a smaller multiple of 16 would already give the target count.
        Assert.True(per == 16 || (rows + per - 17) / (per - 16) > threads * MatMul.DotItemsPerThread);
    }

    [Theory]
    [InlineData(DType.Q4_K, 1536, 512)]
    [InlineData(DType.Q6_K, 1048, 768)]
    [InlineData(DType.Q4_0, 2056, 256)]
    public void DecodeProductsAreTheSameOnAnyNumberOfThreads(DType type, int rows, int cols)
    {
        var r = new Random(rows + cols);
        var bytes = QuantDotTests.RandomRows(r, type, rows, cols);
        var x = QuantDotTests.RandomFloats(r, 2 * cols);
        fixed (byte* p = bytes)
        {
            var w = new WeightTensor("w", "test", type, [rows, cols], p, bytes.Length);
            if (RowGroups.Supports(w, KernelPaths.Best)) w = RowGroups.Interleave(w);
            float[]? first = null;
            foreach (int threads in new[] { 1, 2, 3, 5 })
            {
                var y = QuantDotTests.Run(w, x, 2, KernelPaths.Best, threads);
                if (first is null) first = y;
                else Assert.Equal(first, y);
            }
            Assert.Contains(first!, v => v != 0);
        }
    }
}
