using SharpSeek.Kernels;
using SharpSeek.Tensors;

namespace SharpSeek.Tests.Kernels;

/// <summary>
/// The 8-row grouped layout of Q4_0/Q8_0/Q4_K/Q6_K matrices: the layout round-trips to the file's bytes, the one-token group kernel
/// matches its scalar reference on every path (random sizes, random data), and products over a grouped matrix equal those over
/// the same matrix in rows: bit for bit in prefill (the same tiles). In decode Q4_0/Q8_0 groups equal rows up to float order;
/// the K-quants' groups read Q8_K activations where the row kernels read Q8_0, so each is held to its own activation rounding
/// of the float product.
/// </summary>
[Collection(KernelPathCollection.Name)]
public sealed unsafe class RowGroupsTests
{
    public static readonly DType[] Types = [DType.Q8_0, DType.Q4_0, DType.Q4_K, DType.Q6_K];

    /// <summary>Columns: <paramref name="blocks32"/> 32-value blocks of Q4_0/Q8_0, or <paramref name="superBlocks"/> 256-value super-blocks of Q4_K/Q6_K.</summary>
    private static int Cols(DType type, int blocks32, int superBlocks) => type.BlockSize() == 32 ? blocks32 * 32 : superBlocks * 256;

    public static TheoryData<DType, KernelPath, int> KernelCases => KernelCasesOf(DType.Q8_0, DType.Q4_0);

    public static TheoryData<DType, KernelPath, int> KQuantKernelCases => KernelCasesOf(DType.Q4_K, DType.Q6_K);

    private static TheoryData<DType, KernelPath, int> KernelCasesOf(params DType[] types)
    {
        var data = new TheoryData<DType, KernelPath, int>();
        foreach (var t in types)
            foreach (var p in new[] { KernelPath.Scalar, KernelPath.Avx2, KernelPath.Avx512BW, KernelPath.Vnni })
                // Blocks of the type: 32 values, or 256-value super-blocks for the K-quants.
                foreach (int n in t.BlockSize() == 32 ? new[] { 0, 1, 2, 3, 4, 5, 7, 8, 13, 48 } : new[] { 0, 1, 2, 3, 4, 6 })
                    data.Add(t, p, n);
        return data;
    }

    private static WeightTensor Grouped(WeightTensor w)
    {
        var saved = KernelPaths.Current;
        try
        {
            KernelPaths.Current = KernelPaths.Best;
            return RowGroups.Interleave(w);
        }
        finally { KernelPaths.Current = saved; }
    }

    [Theory, MemberData(nameof(KernelCases))]
    public void GroupKernelMatchesReferences(DType type, KernelPath path, int blocks)
    {
        if (!KernelPaths.IsSupported(path) || KernelPaths.Best == KernelPath.Scalar) return;
        var r = new Random(HashCode.Combine(type, path, blocks, 5));
        int bs = type.BlockSize(), cols = Math.Max(blocks, 1) * bs, n = blocks * bs;
        var bytes = QuantDotTests.RandomRows(r, type, 8, cols);
        var act = new Q8Activations();
        act.Quantize(QuantDotTests.RandomFloats(r, cols), 1, cols);
        var x = act.Row(0);
        fixed (byte* p = bytes)
        {
            var g = Grouped(new WeightTensor("w", "test", type, [8, cols], p, bytes.Length));
            float* fast = stackalloc float[8], reference = stackalloc float[8];
            QuantDot.Group(path, type, g.Data, x, n, fast);
            QuantDot.GroupReference(type, g.Data, x, n, reference);
            GC.KeepAlive(g);   // g.Data points into memory g owns: a GC between the calls could otherwise free it
            for (int i = 0; i < 8; i++)
            {
                // The row kernel on the file's bytes, over the same blocks; Σ|w·x| bounds float-order differences.
                float row = QuantDot.Row(KernelPath.Scalar, type, p + i * type.ByteCount(cols), x, n);
                var wf = new float[cols];
                GgmlQuants.DequantizeRow(type, new ReadOnlySpan<byte>(p + i * type.ByteCount(cols), (int)type.ByteCount(cols)), wf);
                double abs = 0;
                for (int j = 0; j < n; j++) abs += Math.Abs((double)wf[j] * x.Qs[j] * x.D[j / 32]);
                Assert.True(Math.Abs(fast[i] - reference[i]) <= 2e-6 * abs + 1e-30, $"{type} {path} {blocks} row {i}: {fast[i]} vs reference {reference[i]}");
                Assert.True(Math.Abs(reference[i] - row) <= 2e-6 * abs + 1e-30, $"{type} {blocks} row {i}: reference {reference[i]} vs row kernel {row}");
                if (blocks > 0) Assert.NotEqual(0f, fast[i]);
            }
        }
    }

    /// <summary>
    /// Q4_K/Q6_K groups over Q8_K activations: every path against the scalar reference, the reference against a double dot of
    /// the dequantized weights and the dequantized Q8_K activations, and against the row kernel over Q8_0 activations of the
    /// same floats within the two activation roundings.
    /// </summary>
    [Theory, MemberData(nameof(KQuantKernelCases))]
    public void KQuantGroupKernelMatchesReferences(DType type, KernelPath path, int superBlocks)
    {
        if (!KernelPaths.IsSupported(path) || KernelPaths.Best == KernelPath.Scalar) return;
        var r = new Random(HashCode.Combine(type, path, superBlocks, 7));
        int cols = Math.Max(superBlocks, 1) * 256, n = superBlocks * 256;
        var bytes = QuantDotTests.RandomRows(r, type, 8, cols);
        var xf = QuantDotTests.RandomFloats(r, cols);
        var act = new Q8Activations();
        act.Quantize(xf, 1, cols, Q8Format.Q8_K);
        var x = act.RowK(0);
        var act0 = new Q8Activations();
        act0.Quantize(xf, 1, cols);
        fixed (byte* p = bytes)
        {
            var g = Grouped(new WeightTensor("w", "test", type, [8, cols], p, bytes.Length));
            float* fast = stackalloc float[8], reference = stackalloc float[8];
            QuantDot.Group(path, type, g.Data, x, n, fast);
            QuantDot.GroupReference(type, g.Data, x, n, reference);
            GC.KeepAlive(g);   // g.Data points into memory g owns: a GC between the calls could otherwise free it
            var wf = new float[cols];
            for (int i = 0; i < 8; i++)
            {
                GgmlQuants.DequantizeRow(type, new ReadOnlySpan<byte>(p + i * type.ByteCount(cols), (int)type.ByteCount(cols)), wf);
                double exact = 0, abs = 0;
                for (int j = 0; j < n; j++)
                {
                    double v = (double)wf[j] * x.Qs[j] * x.D[j / 256];
                    exact += v;
                    abs += Math.Abs(v);
                }
                Assert.True(Math.Abs(fast[i] - reference[i]) <= 2e-6 * abs + 1e-30, $"{type} {path} {superBlocks} row {i}: {fast[i]} vs reference {reference[i]}");
                Assert.True(Math.Abs(reference[i] - exact) <= 2e-6 * abs + 1e-30, $"{type} {superBlocks} row {i}: reference {reference[i]} vs exact {exact}");
                float row = QuantDot.Row(KernelPath.Scalar, type, p + i * type.ByteCount(cols), act0.Row(0), n);
                double bound = ActivationBound(wf, xf, 0, n, Q8Format.Q8_K) + ActivationBound(wf, xf, 0, n, Q8Format.Q8_0) + 4e-6 * abs;
                Assert.True(Math.Abs(fast[i] - row) <= bound + 1e-30, $"{type} {path} {superBlocks} row {i}: Q8_K {fast[i]} vs Q8_0 row kernel {row} (bound {bound})");
                if (superBlocks > 0) Assert.NotEqual(0f, fast[i]);
            }
        }
    }

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
            var g = Grouped(w);
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
            Assert.False(RowGroups.Supports(odd));
        }
    }

    public static TheoryData<DType, KernelPath, int, int, int> MatMulCases
    {
        get
        {
            var data = new TheoryData<DType, KernelPath, int, int, int>();
            foreach (var t in Types)
                foreach (var p in new[] { KernelPath.Scalar, KernelPath.Avx2, KernelPath.Avx512BW, KernelPath.Vnni })
                    foreach (var (rows, blocks, superBlocks, tokens) in new[] { (8, 1, 1, 1), (40, 3, 3, 1), (136, 2, 2, 5), (64, 48, 6, 2) })
                        data.Add(t, p, rows, Cols(t, blocks, superBlocks), tokens);
            return data;
        }
    }

    [Theory, MemberData(nameof(MatMulCases))]
    public void ProductsOverGroupsMatchProductsOverRows(DType type, KernelPath path, int rows, int cols, int tokens)
    {
        if (!KernelPaths.IsSupported(path) || KernelPaths.Best == KernelPath.Scalar) return;
        var r = new Random(HashCode.Combine(type, path, rows, cols, tokens));
        var bytes = QuantDotTests.RandomRows(r, type, rows, cols);
        var x = QuantDotTests.RandomFloats(r, tokens * cols);
        fixed (byte* p = bytes)
        {
            var w = new WeightTensor("w", "test", type, [rows, cols], p, bytes.Length);
            var g = Grouped(w);
            var wf = w.ToFloat32();
            foreach (bool decoding in new[] { false, true })
            {
                float[] a = Run(w, x, tokens, path, decoding), b = Run(g, x, tokens, path, decoding);
                if (!decoding && path != KernelPath.Scalar && QuantGemm.Supports(path, type))
                {
                    Assert.Equal(a, b);   // prefill: the tiles built from groups are the tiles built from rows
                    continue;
                }
                bool kQuant = type is DType.Q4_K or DType.Q6_K;
                var q8k = new Q8Activations();
                if (kQuant) q8k.Quantize(x, tokens, cols, Q8Format.Q8_K);
                for (int t = 0; t < tokens; t++)
                    for (int i = 0; i < rows; i++)
                    {
                        double abs = 0, exact = 0;
                        for (int j = 0; j < cols; j++)
                        {
                            double v = (double)wf[i * cols + j] * x[t * cols + j];
                            abs += Math.Abs(v);
                            exact += v;
                        }
                        float rowsY = a[t * rows + i], groupsY = b[t * rows + i];
                        if (!kQuant)
                        {
                            Assert.True(Math.Abs(rowsY - groupsY) <= 4e-6 * abs + 1e-30,
                                $"{type} {path} decoding={decoding} [{t},{i}]: rows {rowsY} vs groups {groupsY}");
                            continue;
                        }
                        // Groups read Q8_K activations, rows Q8_0: each within its own activation rounding of the float product.
                        var wi = wf.AsSpan(i * cols, cols).ToArray();
                        double kBound = ActivationBound(wi, x, t * cols, cols, Q8Format.Q8_K) + 4e-6 * abs;
                        double bound0 = ActivationBound(wi, x, t * cols, cols, Q8Format.Q8_0) + 4e-6 * abs;
                        Assert.True(Math.Abs(groupsY - exact) <= kBound + 1e-30, $"{type} {path} decoding={decoding} [{t},{i}]: groups {groupsY} vs float {exact} (bound {kBound})");
                        // And tightly: the product of the dequantized weights with the Q8_K values the call should have made.
                        var xk = q8k.RowK(t);
                        double onQ8K = 0;
                        for (int j = 0; j < cols; j++) onQ8K += (double)wi[j] * xk.Qs[j] * xk.D[j / 256];
                        Assert.True(Math.Abs(groupsY - onQ8K) <= 4e-6 * abs + 1e-30, $"{type} {path} decoding={decoding} [{t},{i}]: groups {groupsY} vs Q8_K product {onQ8K}");
                        Assert.True(Math.Abs(rowsY - exact) <= bound0 + 1e-30, $"{type} {path} decoding={decoding} [{t},{i}]: rows {rowsY} vs float {exact} (bound {bound0})");
                    }
            }
        }
    }

    /// <summary>A decode step's token gets the same bits alone or beside others (per-token group kernels).</summary>
    [Theory, MemberData(nameof(TypeCases))]
    public void GroupedDecodeDoesNotDependOnBatch(DType type)
    {
        if (KernelPaths.Best == KernelPath.Scalar) return;
        var r = new Random((int)type + 77);
        int rows = 48, cols = Cols(type, 5, 2), tokens = 5;
        var bytes = QuantDotTests.RandomRows(r, type, rows, cols);
        var x = QuantDotTests.RandomFloats(r, tokens * cols);
        fixed (byte* p = bytes)
        {
            var g = Grouped(new WeightTensor("w", "test", type, [rows, cols], p, bytes.Length));
            var together = Run(g, x, tokens, KernelPaths.Best, decoding: true);
            for (int t = 0; t < tokens; t++)
                Assert.Equal(Run(g, x[(t * cols)..((t + 1) * cols)], 1, KernelPaths.Best, decoding: true), together[(t * rows)..((t + 1) * rows)]);
        }
    }

    private static float[] Run(WeightTensor w, float[] x, int tokens, KernelPath path, bool decoding)
    {
        var y = new float[tokens * (int)w.Rows];
        var saved = KernelPaths.Current;
        try
        {
            KernelPaths.Current = path;
            MatMul.Decoding = decoding;
            MatMul.Compute(w, x, tokens, y);
        }
        finally
        {
            KernelPaths.Current = saved;
            MatMul.Decoding = false;
        }
        return y;
    }
}
