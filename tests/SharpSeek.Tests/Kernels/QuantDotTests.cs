using SharpSeek.Kernels;
using SharpSeek.Tensors;

namespace SharpSeek.Tests.Kernels;

/// <summary>
/// Quantized integer dot kernels: every SIMD path against the scalar reference, the scalar reference against a double-precision
/// dot of the dequantized operands, and MatMul's quantized path against both, on random sizes (0 to 3 vectors + 1 blocks) and random data.
/// </summary>
[Collection(KernelPathCollection.Name)]
public sealed unsafe class QuantDotTests
{
    public static readonly DType[] Types = [DType.Q8_0, DType.Q4_0, DType.Q4_K, DType.Q6_K];

    public static TheoryData<DType, KernelPath, int> PathCases
    {
        get
        {
            var data = new TheoryData<DType, KernelPath, int>();
            foreach (var t in Types)
                foreach (var p in new[] { KernelPath.Avx2, KernelPath.Avx512BW, KernelPath.Vnni })
                    // 512-bit vectors hold two 32-value blocks: 0..3 vectors + 1 is 0..7 blocks; k-quants count 256-value super-blocks.
                    foreach (int n in t.BlockSize() == 32 ? new[] { 0, 1, 2, 3, 4, 5, 7, 8, 13, 48 } : new[] { 0, 1, 2, 3, 4, 6 })
                        data.Add(t, p, n);
            return data;
        }
    }

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

    /// <summary>Σ|w·x| over the dequantized operands: the scale a float-order tolerance is relative to.</summary>
    private static (double dot, double abs) Exact(DType type, byte[] row, Q8Row x, int cols)
    {
        var w = new float[cols];
        GgmlQuants.DequantizeRow(type, row, w);
        double dot = 0, abs = 0;
        for (int j = 0; j < cols; j++)
        {
            double v = (double)w[j] * x.Qs[j] * x.D[j / 32];
            dot += v;
            abs += Math.Abs(v);
        }
        return (dot, abs);
    }

    [Theory, MemberData(nameof(PathCases))]
    public void PathMatchesScalarReference(DType type, KernelPath path, int blocks)
    {
        if (!KernelPaths.IsSupported(path)) return;
        var r = new Random(HashCode.Combine(type, path, blocks));
        int cols = blocks * type.BlockSize();
        var row = RandomRows(r, type, 1, cols);
        var act = new Q8Activations();
        if (cols > 0) act.Quantize(RandomFloats(r, cols), 1, cols);
        fixed (byte* w = row)
        {
            var x = cols > 0 ? act.Row(0) : default;
            float fast = QuantDot.Row(path, type, w, x, cols);
            float reference = QuantDot.Row(KernelPath.Scalar, type, w, x, cols);
            double abs = cols > 0 ? Exact(type, row, x, cols).abs : 0;
            Assert.True(Math.Abs(fast - reference) <= 2e-6 * abs + 1e-30, $"{type} {path} {cols}: {fast} vs {reference} (Σ|wx| {abs})");
        }
    }

    [Theory, MemberData(nameof(TypeCases))]
    public void ScalarReferenceIsTheDequantizedDot(DType type)
    {
        var r = new Random((int)type);
        foreach (int blocks in new[] { 1, 2, 5 })
        {
            int cols = blocks * type.BlockSize();
            var row = RandomRows(r, type, 1, cols);
            var act = new Q8Activations();
            act.Quantize(RandomFloats(r, cols), 1, cols);
            fixed (byte* w = row)
            {
                var x = act.Row(0);
                float reference = QuantDot.Row(KernelPath.Scalar, type, w, x, cols);
                var (dot, abs) = Exact(type, row, x, cols);
                Assert.True(Math.Abs(reference - dot) <= 2e-6 * abs, $"{type} {cols}: {reference} vs {dot} (Σ|wx| {abs})");
            }
        }
    }

    public static TheoryData<DType> TypeCases => new(Types);

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
        var saved = KernelPaths.Current;
        try
        {
            KernelPaths.Current = KernelPath.Scalar;
            scalar.Quantize(x, 1, x.Length);
            KernelPaths.Current = KernelPaths.Best;
            vector.Quantize(x, 1, x.Length);
        }
        finally { KernelPaths.Current = saved; }
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
                foreach (var p in new[] { KernelPath.Scalar, KernelPath.Avx2, KernelPath.Avx512BW, KernelPath.Vnni })
                    foreach (var (rows, blocks, tokens) in new[] { (1, 1, 1), (37, 3, 1), (130, 2, 5), (300, 4, 2) })
                        data.Add(t, p, rows, blocks * t.BlockSize(), tokens);
            return data;
        }
    }

    [Theory, MemberData(nameof(MatMulCases))]
    public void MatMulQuantizedPathMatchesReferences(DType type, KernelPath path, int rows, int cols, int tokens)
    {
        if (!KernelPaths.IsSupported(path)) return;
        var r = new Random(HashCode.Combine(type, rows, cols, tokens));
        var bytes = RandomRows(r, type, rows, cols);
        var x = RandomFloats(r, tokens * cols);
        var fast = new float[tokens * rows];
        var floatReference = new float[tokens * rows];
        var saved = KernelPaths.Current;
        fixed (byte* p = bytes)
        {
            var w = new WeightTensor("w", "test", type, [rows, cols], p, bytes.Length);
            try
            {
                KernelPaths.Current = path;
                MatMul.Compute(w, x, tokens, fast);
            }
            finally { KernelPaths.Current = saved; }
            MatMul.Reference(w, x, tokens, floatReference);

            var act = new Q8Activations();
            act.Quantize(x, tokens, cols);
            var wf = w.ToFloat32();
            for (int t = 0; t < tokens; t++)
                for (int i = 0; i < rows; i++)
                {
                    double abs = 0, err = 0;
                    for (int j = 0; j < cols; j++)
                    {
                        abs += Math.Abs((double)wf[i * cols + j] * x[t * cols + j]);
                        err += Math.Abs(wf[i * cols + j]) * act.Row(t).D[j / 32] * 0.5;
                    }
                    // Same quantized activations, integer dot: equal to the scalar kernel up to float order.
                    float exactQ = QuantDot.Row(KernelPath.Scalar, type, w.RowPointer(i), act.Row(t), cols);
                    float got = fast[t * rows + i];
                    Assert.True(Math.Abs(got - exactQ) <= 2e-6 * abs + 1e-30, $"{type} {path} {rows}x{cols} T={tokens} [{t},{i}]: {got} vs {exactQ}");
                    // Against float activations: within the activation rounding bound (half a step per value, plus fp16 scale rounding).
                    Assert.True(Math.Abs(got - floatReference[t * rows + i]) <= err * 1.01 + 1e-3 * abs, $"{type} {path} [{t},{i}]: {got} vs float {floatReference[t * rows + i]} (bound {err})");
                }
        }
    }
}

/// <summary>Tests that switch <see cref="KernelPaths.Current"/> (process-wide) must not run beside other kernel tests.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class KernelPathCollection
{
    public const string Name = "kernel paths";
}
