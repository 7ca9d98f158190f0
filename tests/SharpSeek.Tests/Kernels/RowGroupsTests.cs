using SharpSeek.Tests.Support;
using SharpSeek.Kernels;
using SharpSeek.Tensors;

namespace SharpSeek.Tests.Kernels;

/// <summary>
/// The 8-row grouped layout of Q4_0/Q8_0/Q4_K/Q6_K matrices: the layout round-trips to the file's bytes, the group kernels for 1..4
/// tokens match their scalar reference and the row kernels on the file's bytes bit for bit (random sizes, random data, every path),
/// and products over a grouped matrix equal those over the same matrix in rows bit for bit.
/// </summary>
public sealed unsafe class RowGroupsTests
{
    public static readonly DType[] Types = [DType.Q8_0, DType.Q4_0, DType.Q4_K, DType.Q6_K];

    /// <summary>Columns: <paramref name="blocks32"/> 32-value blocks of Q4_0/Q8_0, or <paramref name="superBlocks"/> 256-value super-blocks of Q4_K/Q6_K.</summary>
    private static int Cols(DType type, int blocks32, int superBlocks) => type.BlockSize() == 32 ? blocks32 * 32 : superBlocks * 256;

    public static TheoryData<DType, KernelPath, int> KernelCases
    {
        get
        {
            var data = new TheoryData<DType, KernelPath, int>();
            foreach (var t in Types)
                foreach (var p in TestedPaths.All)
                    // Blocks of the type: 32 values, or 256-value super-blocks for the K-quants.
                    foreach (int n in t.BlockSize() == 32 ? new[] { 1, 2, 3, 5, 8, 13, 48 } : new[] { 1, 2, 3, 6 })
                        data.Add(t, p, n);
            return data;
        }
    }

    [Theory, MemberData(nameof(KernelCases))]
    public void GroupKernelMatchesReferencesBitForBit(DType type, KernelPath path, int blocks)
    {
        var r = new Random(StableSeed.Of(type, path, blocks, 5));
        int cols = blocks * type.BlockSize(), tokens = 4;
        var bytes = QuantDotTests.RandomRows(r, type, 8, cols);
        var act = QuantDotTests.Activations(type, QuantDotTests.RandomFloats(r, tokens * cols), tokens, cols);
        fixed (byte* p = bytes)
        {
            var g = RowGroups.Interleave(new WeightTensor("w", "test", type, [8, cols], p, bytes.Length));
            float* reference = stackalloc float[8];
            float* fast = stackalloc float[8 * tokens];
            for (int t = 0; t < tokens; t++)
            {
                QuantDot.GroupReference(type, g.Data, act, t, reference);
                for (int i = 0; i < 8; i++)
                {
                    float row = QuantDot.RowReference(type, p + i * type.ByteCount(cols), act, t);
                    Assert.True(Bits(row) == Bits(reference[i]), $"{type} {blocks} token {t} row {i}: group reference {reference[i]} vs row kernel {row}");
                }
                // The comparison means something only if the products are not all zero (one row's can be, exactly, by chance).
                bool anyNonZero = false;
                for (int i = 0; i < 8; i++) anyNonZero |= reference[i] != 0f;
                Assert.True(anyNonZero, $"{type} {blocks} token {t}: every row's product is 0");
                // Every width of call that holds token t: alone, and as the last of n tokens.
                for (int n = 1; n <= QuantDot.GroupTokens && n <= t + 1; n++)
                {
                    QuantDot.Group(path, type, g.Data, act, t - n + 1, n, fast, 8);
                    for (int i = 0; i < 8; i++)
                        Assert.True(Bits(fast[(n - 1) * 8 + i]) == Bits(reference[i]), $"{type} {path} {blocks} width {n} token {t} row {i}: {fast[(n - 1) * 8 + i]} vs {reference[i]}");
                }
            }
            GC.KeepAlive(g);   // g.Data points into memory g owns: a GC between the calls could otherwise free it
        }
    }

    /// <summary>
    /// The two-group kernels (16 rows; 1 to 8 tokens for Q4_0, 1 to 4 for Q4_K, at 512 bits) against the scalar group reference
    /// of each of their groups, bit for bit, for every token at every call width that holds it.
    /// </summary>
    [PathTheory(KernelPath.Avx512)]
    [InlineData(DType.Q4_0, 1), InlineData(DType.Q4_0, 2), InlineData(DType.Q4_0, 7), InlineData(DType.Q4_0, 48)]
    [InlineData(DType.Q4_K, 1), InlineData(DType.Q4_K, 2), InlineData(DType.Q4_K, 6)]
    public void PairKernelMatchesTheGroupReferenceBitForBit(DType type, int blocks)
    {
        int tokens = QuantDot.PairTokens(type);
        Assert.True(QuantDot.HasPairKernel(KernelPath.Avx512, type));
        var r = new Random(StableSeed.Of("pair", type, blocks));
        int cols = blocks * type.BlockSize();
        var bytes = QuantDotTests.RandomRows(r, type, 16, cols);
        var act = QuantDotTests.Activations(type, QuantDotTests.RandomFloats(r, tokens * cols), tokens, cols);
        fixed (byte* p = bytes)
        {
            var g = RowGroups.Interleave(new WeightTensor("w", "test", type, [16, cols], p, bytes.Length));
            float* reference = stackalloc float[16];
            float* fast = stackalloc float[16 * tokens];
            for (int t = 0; t < tokens; t++)
            {
                QuantDot.GroupReference(type, g.RowPointer(0), act, t, reference);
                QuantDot.GroupReference(type, g.RowPointer(8), act, t, reference + 8);
                for (int i = 0; i < 16; i++)
                {
                    float row = QuantDot.RowReference(type, p + i * type.ByteCount(cols), act, t);
                    Assert.True(Bits(row) == Bits(reference[i]), $"{blocks} token {t} row {i}: group reference {reference[i]} vs row kernel {row}");
                }
                bool anyNonZero = false;
                for (int i = 0; i < 16; i++) anyNonZero |= reference[i] != 0f;
                Assert.True(anyNonZero, $"{blocks} token {t}: every row's product is 0");
                for (int n = 1; n <= t + 1; n++)
                {
                    QuantDot.Pair(KernelPath.Avx512, type, g.Data, act, t - n + 1, n, fast, 16);
                    for (int i = 0; i < 16; i++)
                        Assert.True(Bits(fast[(n - 1) * 16 + i]) == Bits(reference[i]), $"{blocks} width {n} token {t} row {i}: {fast[(n - 1) * 16 + i]} vs {reference[i]}");
                }
            }
            Assert.Throws<ArgumentOutOfRangeException>(() => QuantDot.Pair(KernelPath.Avx512, type, g.Data, act, 0, tokens + 1, fast, 16));
            Assert.Throws<NotSupportedException>(() => QuantDot.Pair(KernelPath.Vnni, type, g.Data, act, 0, 1, fast, 16));
            GC.KeepAlive(g);
        }
    }

    private static int Bits(float f) => BitConverter.SingleToInt32Bits(f);

    /// <summary>
    /// Bound on |Σ w·(x − x̂)| for x quantized in <paramref name="format"/>: Q8_K's error is at most amax/254 per 256 values;
    /// Q8_0's amax/254 per 32 plus its fp16 scale's rounding (127 · amax/127 · 2^-11).
    /// </summary>
    internal static double ActivationBound(float[] w, float[] x, int at, int n, Q8Format format)
    {
        int block = format == Q8Format.Q8_K ? 256 : 32;
        double perAmax = format == Q8Format.Q8_K ? 1.0 / 254 : 1.0 / 254 + 1.0 / 2048;
        double bound = 0;
        for (int b = 0; b < n; b += block)
        {
            double amax = 0, wabs = 0;
            for (int j = b; j < b + block; j++)
            {
                amax = Math.Max(amax, Math.Abs(x[at + j]));
                wabs += Math.Abs(w[j]);
            }
            bound += wabs * amax * perAmax;
        }
        return bound * 1.001;
    }

    public static TheoryData<DType> TypeCases => new(Types);

    [Theory, MemberData(nameof(TypeCases))]
    public void LayoutRoundTripsAndSlicesWholeGroups(DType type)
    {
        if (KernelPaths.Best == KernelPath.Scalar) return;
        var r = new Random((int)type);
        int rows = 24, cols = Cols(type, 3, 2);
        var bytes = QuantDotTests.RandomRows(r, type, rows, cols);
        long rb = type.ByteCount(cols);
        fixed (byte* p = bytes)
        {
            var w = new WeightTensor("w", "test", type, [rows, cols], p, bytes.Length);
            var g = RowGroups.Interleave(w);
            Assert.True(g.Interleaved);
            Assert.Equal(w.ByteLength, g.ByteLength);
            var back = new byte[rb];
            var a = new float[cols];
            var b = new float[cols];
            for (int i = 0; i < rows; i++)
            {
                fixed (byte* d = back) RowGroups.RowBytes(g, i, d);
                Assert.Equal(bytes.AsSpan((int)(i * rb), (int)rb).ToArray(), back);
                w.DequantizeRow(i, a);
                g.DequantizeRow(i, b);
                Assert.Equal(a, b);
            }
            var slice = g.SliceRows(8, 16);
            Assert.True(slice.Interleaved);
            for (int i = 0; i < 16; i++)
            {
                w.DequantizeRow(8 + i, a);
                slice.DequantizeRow(i, b);
                Assert.Equal(a, b);
            }
            Assert.Throws<ArgumentOutOfRangeException>(() => g.SliceRows(4, 8));
            Assert.Throws<ArgumentOutOfRangeException>(() => g.SliceRows(8, 12));
            Assert.Throws<ArgumentException>(() => RowGroups.Interleave(g));
            var odd = new WeightTensor("odd", "test", type, [rows - 1, cols], p, bytes.Length - rb);
            Assert.False(RowGroups.Supports(odd, KernelPaths.Best));
        }
    }

    public static TheoryData<DType, KernelPath, int, int, int> MatMulCases
    {
        get
        {
            var data = new TheoryData<DType, KernelPath, int, int, int>();
            foreach (var t in Types)
                foreach (var p in TestedPaths.All)
                    foreach (var (rows, blocks, superBlocks, tokens) in new[] { (8, 1, 1, 1), (40, 3, 3, 1), (136, 2, 2, 5), (64, 48, 6, 2), (48, 5, 1, 11), (40, 5, 2, 19) })
                        data.Add(t, p, rows, Cols(t, blocks, superBlocks), tokens);
            return data;
        }
    }

    [Theory, MemberData(nameof(MatMulCases))]
    public void ProductsOverGroupsEqualProductsOverRows(DType type, KernelPath path, int rows, int cols, int tokens)
    {
        var r = new Random(StableSeed.Of(type, path, rows, cols, tokens));
        var bytes = QuantDotTests.RandomRows(r, type, rows, cols);
        var x = QuantDotTests.RandomFloats(r, tokens * cols);
        fixed (byte* p = bytes)
        {
            var w = new WeightTensor("w", "test", type, [rows, cols], p, bytes.Length);
            Assert.Equal(QuantDotTests.Run(w, x, tokens, path), QuantDotTests.Run(RowGroups.Interleave(w), x, tokens, path));
        }
    }
}
