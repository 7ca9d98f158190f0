using SharpSeek.Kernels;
using SharpSeek.Tensors;

namespace SharpSeek.Tests.Kernels;

/// <summary>
/// The tiled multi-token GEMM (<see cref="QuantGemm"/>) through <see cref="MatMul"/>: every SIMD path against the scalar per-token
/// kernel on random sizes (token counts 1..17, row counts off the 8-row tile, several blocks), and an exactness check on data whose
/// scales are 1, where every product is an integer and any error in the integer part (offsets, sign handling) would show.
/// </summary>
[Collection(KernelPathCollection.Name)]
public sealed unsafe class QuantGemmTests
{
    public static TheoryData<DType, KernelPath, int, int, int> Cases
    {
        get
        {
            var data = new TheoryData<DType, KernelPath, int, int, int>();
            foreach (var t in QuantDotTests.Types)
                foreach (var p in new[] { KernelPath.Avx2, KernelPath.Avx512BW, KernelPath.Vnni })
                    foreach (var (rows, blocks, tokens) in new[] { (8, 1, 4), (13, 3, 2), (37, 2, 5), (16, 5, 7), (3, 2, 17), (29, 4, 9), (64, 1, 13), (9, 3, 1) })
                        data.Add(t, p, rows, blocks * t.BlockSize(), tokens);
            return data;
        }
    }

    [Theory, MemberData(nameof(Cases))]
    public void TiledPathMatchesScalarKernel(DType type, KernelPath path, int rows, int cols, int tokens)
    {
        if (!KernelPaths.IsSupported(path)) return;
        var r = new Random(HashCode.Combine(type, path, rows, cols, tokens));
        var bytes = QuantDotTests.RandomRows(r, type, rows, cols);
        var x = QuantDotTests.RandomFloats(r, tokens * cols);
        var got = Run(type, path, bytes, x, rows, cols, tokens);
        fixed (byte* p = bytes)
        {
            var w = new WeightTensor("w", "test", type, [rows, cols], p, bytes.Length);
            var wf = w.ToFloat32();
            var act = new Q8Activations();
            act.Quantize(x, tokens, cols);
            for (int t = 0; t < tokens; t++)
                for (int i = 0; i < rows; i++)
                {
                    double abs = 0;
                    for (int j = 0; j < cols; j++) abs += Math.Abs((double)wf[i * cols + j] * act.Row(t).Qs[j] * act.Row(t).D[j / 32]);
                    float reference = QuantDot.Row(KernelPath.Scalar, type, w.RowPointer(i), act.Row(t), cols);
                    float g = got[t * rows + i];
                    Assert.True(Math.Abs(g - reference) <= 2e-6 * abs + 1e-30, $"{type} {path} {rows}x{cols} T={tokens} [{t},{i}]: {g} vs {reference} (Σ|wx| {abs})");
                }
        }
    }

    public static TheoryData<DType, KernelPath> ExactCases
    {
        get
        {
            var data = new TheoryData<DType, KernelPath>();
            foreach (var t in QuantDotTests.Types)
                foreach (var p in new[] { KernelPath.Avx2, KernelPath.Avx512BW, KernelPath.Vnni })
                    data.Add(t, p);
            return data;
        }
    }

    /// <summary>Scales of 1 and integer activations with |max| 127 (so d_x = 1): every result is an integer the float sums hold exactly.</summary>
    [Theory, MemberData(nameof(ExactCases))]
    public void IntegerPartIsExact(DType type, KernelPath path)
    {
        if (!KernelPaths.IsSupported(path)) return;
        var r = new Random(HashCode.Combine(type, path, 7));
        int rows = 11, tokens = 6, cols = 2 * Math.Max(type.BlockSize(), 64);
        var bytes = QuantDotTests.RandomRows(r, type, rows, cols);
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
        for (int i = 0; i < x.Length; i += 32) x[i + r.Next(32)] = r.Next(2) == 0 ? 127 : -127;
        var got = Run(type, path, bytes, x, rows, cols, tokens);
        fixed (byte* p = bytes)
        {
            var w = new WeightTensor("w", "test", type, [rows, cols], p, bytes.Length);
            var wf = w.ToFloat32();
            for (int t = 0; t < tokens; t++)
                for (int i = 0; i < rows; i++)
                {
                    double exact = 0;
                    for (int j = 0; j < cols; j++) exact += (double)wf[i * cols + j] * x[t * cols + j];
                    Assert.Equal(exact, (double)got[t * rows + i]);
                }
        }
    }

    /// <summary>A token's result must not depend on the batch it is in (prefill, solo decode and batched decode agree bit for bit).</summary>
    [Theory, MemberData(nameof(ExactCases))]
    public void TokenResultDoesNotDependOnBatch(DType type, KernelPath path)
    {
        if (!KernelPaths.IsSupported(path)) return;
        var r = new Random(HashCode.Combine(type, path, 11));
        // 11 tokens: one pair of 4-token groups (the 8-token kernels), then a lone, partly filled group.
        int rows = 21, tokens = 11, cols = 3 * type.BlockSize();
        var bytes = QuantDotTests.RandomRows(r, type, rows, cols);
        var x = QuantDotTests.RandomFloats(r, tokens * cols);
        var together = Run(type, path, bytes, x, rows, cols, tokens);
        for (int t = 0; t < tokens; t++)
        {
            var alone = Run(type, path, bytes, x[(t * cols)..((t + 1) * cols)], rows, cols, 1);
            Assert.Equal(alone, together[(t * rows)..((t + 1) * rows)]);
        }
    }

    private static float[] Run(DType type, KernelPath path, byte[] bytes, float[] x, int rows, int cols, int tokens)
    {
        var y = new float[tokens * rows];
        var saved = KernelPaths.Current;
        fixed (byte* p = bytes)
        {
            var w = new WeightTensor("w", "test", type, [rows, cols], p, bytes.Length);
            try
            {
                KernelPaths.Current = path;
                MatMul.Compute(w, x, tokens, y);
            }
            finally { KernelPaths.Current = saved; }
        }
        return y;
    }
}
