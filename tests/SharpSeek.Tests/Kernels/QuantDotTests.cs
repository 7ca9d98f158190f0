using SharpSeek.Tests.Support;
using SharpSeek.Kernels;
using SharpSeek.Tensors;

namespace SharpSeek.Tests.Kernels;

/// <summary>
/// Quantized integer products: the scalar row kernel against a double-precision dot of the dequantized operands, and MatMul's
/// integer path on every kernel path and layout against it bit for bit, exact integer parts, and batch invariance.
/// </summary>
public sealed unsafe class QuantDotTests
{
    public static readonly DType[] Types = [DType.Q8_0, DType.Q4_0, DType.Q4_K, DType.Q6_K];

    /// <summary>Random but valid blocks: finite fp16 scales, every quant bit random.</summary>
    internal static byte[] RandomRows(Random r, DType type, int rows, int cols)
    {
        var bytes = new byte[type.ByteCount((long)rows * cols)];
        r.NextBytes(bytes);
        int bb = type.BlockBytes();
        for (int o = 0; o < bytes.Length; o += bb)
        {
            var blk = bytes.AsSpan(o, bb);
            switch (type)
            {
                case DType.Q8_0:
                    Scale(blk, 0, r);
                    for (int j = 2; j < 34; j++) if (blk[j] == 0x80) blk[j] = 0x81;   // ggml never writes −128
                    break;
                case DType.Q4_0: Scale(blk, 0, r); break;
                case DType.Q4_K: Scale(blk, 0, r); Scale(blk, 2, r); break;
                case DType.Q6_K: Scale(blk, 208, r); break;
            }
        }
        return bytes;
    }

    private static void Scale(Span<byte> blk, int at, Random r) =>
        BitConverter.TryWriteBytes(blk[at..], BitConverter.HalfToUInt16Bits((Half)((r.NextDouble() * 2 - 1) * 0.01 + 0.002)));

    internal static float[] RandomFloats(Random r, int n) => Enumerable.Range(0, n).Select(_ => (float)(r.NextDouble() * 2 - 1) * (r.Next(8) == 0 ? 4 : 1)).ToArray();

    /// <summary>The activations a product with <paramref name="type"/> quantizes <paramref name="x"/> to (its kernels' format).</summary>
    internal static Q8Activations Activations(DType type, float[] x, int tokens, int cols, bool vector = true)
    {
        var act = new Q8Activations();
        act.Quantize(x, tokens, cols, QuantDot.ActivationFormat(type), vector);
        return act;
    }

    /// <summary>Token <paramref name="t"/> of <paramref name="act"/> dequantized (either format).</summary>
    internal static double[] Dequantized(Q8Activations act, int t)
    {
        int cols = act.Cols;
        var v = new double[cols];
        if (act.Format == Q8Format.Q8_K)
        {
            var x = act.RowK(t);
            for (int j = 0; j < cols; j++) v[j] = (double)x.Qs[j] * x.D[j / 256];
        }
        else
        {
            var x = act.Row(t);
            for (int j = 0; j < cols; j++) v[j] = (double)x.Qs[j] * x.D[j / 32];
        }
        return v;
    }

    /// <summary>The double dot of dequantized weights and activations, and Σ|w·x| (the scale a float-order tolerance is relative to).</summary>
    private static (double dot, double abs) Exact(DType type, byte[] row, double[] x, int cols)
    {
        var w = new float[cols];
        GgmlQuants.DequantizeRow(type, row, w);
        double dot = 0, abs = 0;
        for (int j = 0; j < cols; j++)
        {
            double v = w[j] * x[j];
            dot += v;
            abs += Math.Abs(v);
        }
        return (dot, abs);
    }

    public static TheoryData<DType> TypeCases => new(Types);

    [Theory, MemberData(nameof(TypeCases))]
    public void ScalarReferenceIsTheDequantizedDot(DType type)
    {
        var r = new Random((int)type);
        foreach (int blocks in new[] { 1, 2, 5 })
        {
            int cols = blocks * type.BlockSize();
            var row = RandomRows(r, type, 1, cols);
            var act = Activations(type, RandomFloats(r, cols), 1, cols);
            fixed (byte* w = row)
            {
                float reference = QuantDot.RowReference(type, w, act, 0);
                var (dot, abs) = Exact(type, row, Dequantized(act, 0), cols);
                Assert.True(Math.Abs(reference - dot) <= 2e-6 * abs, $"{type} {cols}: {reference} vs {dot} (Σ|wx| {abs})");
            }
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(40)]
    public void VectorActivationQuantizationIsBitExact(int blocks)
    {
        var r = new Random(blocks);
        var x = RandomFloats(r, blocks * 32);
        x[5] = 0.5f / 127 * MathF.Abs(x.Take(32).Max(MathF.Abs)) * 3;   // a value on a rounding tie in most blocks is unlikely; random is enough
        if (blocks > 1) Array.Clear(x, 32, 32);                          // an all-zero block must give d = 0 and q = 0
        var scalar = new Q8Activations();
        var vector = new Q8Activations();
        scalar.Quantize(x, 1, x.Length, vector: false);
        vector.Quantize(x, 1, x.Length);
        Q8Row a = scalar.Row(0), b = vector.Row(0);
        for (int j = 0; j < x.Length; j++) Assert.Equal(a.Qs[j], b.Qs[j]);
        for (int k = 0; k < blocks; k++)
        {
            Assert.Equal(a.D[k], b.D[k]);
            Assert.Equal(a.Sum32[k], b.Sum32[k]);
            Assert.Equal(a.Sum16[2 * k] + a.Sum16[2 * k + 1], a.Sum32[k]);
            Assert.Equal(a.Sum16[2 * k], b.Sum16[2 * k]);
        }
        // Dequantized activations stay within half a step of the input.
        for (int j = 0; j < x.Length; j++) Assert.True(Math.Abs(a.Qs[j] * a.D[j / 32] - x[j]) <= a.D[j / 32] * 0.51 + 1e-7, $"j={j}");
    }

    public static TheoryData<DType, KernelPath, int, int, int> MatMulCases
    {
        get
        {
            var data = new TheoryData<DType, KernelPath, int, int, int>();
            foreach (var t in Types)
                foreach (var p in TestedPaths.All)
                    foreach (var (rows, blocks, tokens) in new[] { (1, 1, 1), (37, 3, 1), (130, 2, 5), (300, 4, 2), (16, 48, 3) })
                        data.Add(t, p, rows, blocks * t.BlockSize(), tokens);
            return data;
        }
    }

    /// <summary>
    /// MatMul's integer path on every kernel path and both layouts (grouped, and the file's rows packed on the fly, with row counts
    /// off the 8-row group): equal bit for bit to the scalar row kernel (the float steps are the same everywhere), and within the
    /// activation rounding of the float product.
    /// </summary>
    [Theory, MemberData(nameof(MatMulCases))]
    public void MatMulQuantizedPathMatchesReferences(DType type, KernelPath path, int rows, int cols, int tokens)
    {
        var r = new Random(StableSeed.Of(type, rows, cols, tokens));
        var bytes = RandomRows(r, type, rows, cols);
        var x = RandomFloats(r, tokens * cols);
        var floatReference = new float[tokens * rows];
        var act = Activations(type, x, tokens, cols);
        fixed (byte* p = bytes)
        {
            var w = new WeightTensor("w", "test", type, [rows, cols], p, bytes.Length);
            MatMul.Reference(w, x, tokens, floatReference);
            var layouts = new List<WeightTensor> { w };
            if (RowGroups.Supports(w, KernelPaths.Best)) layouts.Add(RowGroups.Interleave(w));
            var wf = w.ToFloat32();
            foreach (var layout in layouts)
            {
                var fast = Run(layout, x, tokens, path);
                for (int t = 0; t < tokens; t++)
                    for (int i = 0; i < rows; i++)
                    {
                        float exactQ = QuantDot.RowReference(type, w.RowPointer(i), act, t);
                        float got = fast[t * rows + i];
                        Assert.True(BitConverter.SingleToInt32Bits(got) == BitConverter.SingleToInt32Bits(exactQ),
                            $"{type} {path} grouped={layout.Interleaved} {rows}x{cols} T={tokens} [{t},{i}]: {got} vs row kernel {exactQ}");
                        var wi = wf.AsSpan(i * cols, cols).ToArray();
                        double abs = 0;
                        for (int j = 0; j < cols; j++) abs += Math.Abs((double)wi[j] * x[t * cols + j]);
                        double bound = RowGroupsTests.ActivationBound(wi, x, t * cols, cols, act.Format) + 4e-6 * abs;
                        Assert.True(Math.Abs(got - floatReference[t * rows + i]) <= bound + 1e-30,
                            $"{type} {path} [{t},{i}]: {got} vs float {floatReference[t * rows + i]} (bound {bound})");
                    }
            }
        }
    }

    public static TheoryData<DType, KernelPath> PathCases
    {
        get
        {
            var data = new TheoryData<DType, KernelPath>();
            foreach (var t in Types)
                foreach (var p in TestedPaths.All)
                    data.Add(t, p);
            return data;
        }
    }

    /// <summary>Scales of 1 and integer activations with |max| 127 (so d_x = 1): every result is an integer the float sums hold exactly.</summary>
    [Theory, MemberData(nameof(PathCases))]
    public void IntegerPartIsExact(DType type, KernelPath path)
    {
        var r = new Random(StableSeed.Of(type, path, 7));
        int rows = 16, tokens = 6, cols = 2 * Math.Max(type.BlockSize(), 64);
        var bytes = RandomRows(r, type, rows, cols);
        int bb = type.BlockBytes();
        ushort one = BitConverter.HalfToUInt16Bits((Half)1);
        for (int o = 0; o < bytes.Length; o += bb)
            foreach (int at in type switch { DType.Q4_K => new[] { 0, 2 }, DType.Q6_K => new[] { 208 }, _ => new[] { 0 } })
                BitConverter.TryWriteBytes(bytes.AsSpan(o + at), one);
        if (type == DType.Q6_K)   // int8 sub-block scales: keep them small so the sums stay well inside float's exact range
            for (int o = 0; o < bytes.Length; o += bb)
                for (int j = 192; j < 208; j++) bytes[o + j] = (byte)(sbyte)r.Next(-3, 4);
        if (type == DType.Q4_K)   // 6-bit scales and mins of 0..3 (and mins of 0 for sub-blocks 4..7), for the same reason
            for (int o = 0; o < bytes.Length; o += bb)
                for (int j = 4; j < 16; j++) bytes[o + j] &= 0x03;
        var x = new float[tokens * cols];
        for (int i = 0; i < x.Length; i++) x[i] = r.Next(-127, 128);
        // Q8_0 activations: d = 1 when every 32 values reach ±127; Q8_K: d = −1 when every 256 start their maximum at +127.
        for (int i = 0; i < x.Length; i += 32) x[i] = 127;
        fixed (byte* p = bytes)
        {
            var w = new WeightTensor("w", "test", type, [rows, cols], p, bytes.Length);
            var wf = w.ToFloat32();
            foreach (var layout in RowGroups.Supports(w, KernelPaths.Best) ? new[] { w, RowGroups.Interleave(w) } : [w])
            {
                var got = Run(layout, x, tokens, path);
                for (int t = 0; t < tokens; t++)
                    for (int i = 0; i < rows; i++)
                    {
                        double exact = 0;
                        for (int j = 0; j < cols; j++) exact += (double)wf[i * cols + j] * x[t * cols + j];
                        Assert.Equal(exact, (double)got[t * rows + i]);
                    }
            }
        }
    }

    /// <summary>
    /// A token's result does not depend on the batch it is in: 11 tokens together (runs of 4, 4 and 3) against each alone, on
    /// every path and both layouts. This is what makes batched decode, verification and prefill agree with decoding alone.
    /// </summary>
    [Theory, MemberData(nameof(PathCases))]
    public void TokenResultDoesNotDependOnBatch(DType type, KernelPath path)
    {
        var r = new Random(StableSeed.Of(type, path, 11));
        int rows = 21, tokens = 11, cols = 3 * type.BlockSize();
        var bytes = RandomRows(r, type, 24, cols);
        var x = RandomFloats(r, tokens * cols);
        fixed (byte* p = bytes)
        {
            var file = new WeightTensor("w", "test", type, [rows, cols], p, (long)rows * type.ByteCount(cols));
            var full = new WeightTensor("w", "test", type, [24, cols], p, bytes.Length);
            foreach (var w in new[] { file, RowGroups.Interleave(full) })
            {
                int n = (int)w.Rows;
                var together = Run(w, x, tokens, path);
                for (int t = 0; t < tokens; t++)
                    Assert.Equal(Run(w, x[(t * cols)..((t + 1) * cols)], 1, path), together[(t * n)..((t + 1) * n)]);
            }
        }
    }

    internal static float[] Run(WeightTensor w, float[] x, int tokens, KernelPath path, int threads = 0)
    {
        var y = new float[tokens * (int)w.Rows];
        var policy = new KernelPolicy { Path = path };
        if (threads > 0)
        {
            using var pool = new Threading.WorkerPool(threads);
            MatMul.Compute((policy with { Pool = pool }).For(tokens), w, x, tokens, y);
        }
        else MatMul.Compute(policy.For(tokens), w, x, tokens, y);
        return y;
    }
}
