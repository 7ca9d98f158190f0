using SharpSeek.Kernels;
using SharpSeek.Tensors;

namespace SharpSeek.Tests.Kernels;

/// <summary>Every fast kernel against its plain reference, on random sizes 0..3×512/32+1 and random data (never zeros).</summary>
public sealed unsafe class KernelTests
{
    public static TheoryData<int> Sizes => new([0, 1, 3, 7, 15, 16, 17, 31, 32, 33, 47, 63, 64, 65, 97, 128, 129, 511, 1000]);

    private static float[] Random(Random r, int n, float scale = 1) => Enumerable.Range(0, n).Select(_ => (float)(r.NextDouble() * 2 - 1) * scale).ToArray();

    [Theory, MemberData(nameof(Sizes))]
    public void Bf16DotMatchesReference(int n)
    {
        var r = new Random(n + 1);
        var w = Random(r, n).Select(BFloat16.FromSingle).ToArray();
        var x = Random(r, n);
        fixed (ushort* wp = w)
        fixed (float* xp = x)
        {
            float fast = Dot.Bf16(wp, xp, n), reference = Dot.Bf16Reference(wp, xp, n);
            Assert.True(Math.Abs(fast - reference) <= 1e-5f * (1 + n), $"n={n}: {fast} vs {reference}");
        }
    }

    [Theory, MemberData(nameof(Sizes))]
    public void Bf16WideningMatchesScalar(int n)
    {
        var r = new Random(n + 7);
        var bits = Enumerable.Range(0, n).Select(_ => (ushort)r.Next(0, 65536)).ToArray();
        var fast = new float[n];
        BFloat16.ToSingle(bits, fast);
        for (int i = 0; i < n; i++) Assert.Equal(BitConverter.SingleToInt32Bits(BFloat16.ToSingle(bits[i])), BitConverter.SingleToInt32Bits(fast[i]));
    }

    [Fact]
    public void Bf16RoundsToNearestEven()
    {
        Assert.Equal(0x3F80, BFloat16.FromSingle(1f));
        Assert.Equal(0x3F80, BFloat16.FromSingle(BitConverter.Int32BitsToSingle(0x3F808000)));   // tie → even
        Assert.Equal(0x3F82, BFloat16.FromSingle(BitConverter.Int32BitsToSingle(0x3F818000)));   // tie → even (up)
        Assert.Equal(0x3F81, BFloat16.FromSingle(BitConverter.Int32BitsToSingle(0x3F808001)));
    }

    [Fact]
    public void Fp8E4M3KnownValues()
    {
        Assert.Equal(0f, Fp8E4M3.ToSingle(0x00));
        Assert.Equal(1f, Fp8E4M3.ToSingle(0x38));
        Assert.Equal(448f, Fp8E4M3.ToSingle(0x7E));
        Assert.Equal(-448f, Fp8E4M3.ToSingle(0xFE));
        Assert.Equal(MathF.Pow(2, -9), Fp8E4M3.ToSingle(0x01));      // smallest subnormal
        Assert.Equal(0.875f * MathF.Pow(2, -6), Fp8E4M3.ToSingle(0x07));
        Assert.Equal(MathF.Pow(2, -6), Fp8E4M3.ToSingle(0x08));      // smallest normal
        Assert.True(float.IsNaN(Fp8E4M3.ToSingle(0x7F)));
        Assert.True(float.IsNaN(Fp8E4M3.ToSingle(0xFF)));
        for (int i = 0; i < 256; i++)
        {
            float a = Fp8E4M3.Table[i], b = Fp8E4M3.Decode((byte)i);
            Assert.True(a.Equals(b), $"code {i}");
        }
    }

    [Theory, MemberData(nameof(Sizes))]
    public void RmsNormMatchesReference(int n)
    {
        if (n == 0) return;
        var r = new Random(n + 3);
        var x = Random(r, n, 3);
        var w = Random(r, n);
        var fast = new float[n];
        var reference = new float[n];
        Norms.RmsNorm(x, w, 1e-6f, fast);
        Norms.RmsNormReference(x, w, 1e-6f, reference);
        for (int i = 0; i < n; i++) Assert.True(Math.Abs(fast[i] - reference[i]) <= 1e-5f * (1 + Math.Abs(reference[i])), $"n={n} i={i}");
    }

    [Theory, MemberData(nameof(Sizes))]
    public void SoftmaxMatchesReferenceAndSurvivesLargeScores(int n)
    {
        if (n == 0) return;
        var r = new Random(n + 5);
        var x = Random(r, n, 200);      // exp(200) overflows float unless the maximum is subtracted
        var reference = (float[])x.Clone();
        Norms.Softmax(x);
        Norms.SoftmaxReference(reference);
        for (int i = 0; i < n; i++) Assert.True(Math.Abs(x[i] - reference[i]) <= 1e-6f, $"n={n} i={i}: {x[i]} vs {reference[i]}");
    }

    public static TheoryData<DType, int, int, int> MatMulCases
    {
        get
        {
            var data = new TheoryData<DType, int, int, int>();
            foreach (var t in new[] { DType.F32, DType.F16, DType.BF16, DType.F8E4M3 })
                foreach (var (rows, cols, tokens) in new[] { (1, 1, 1), (5, 17, 1), (33, 64, 3), (130, 200, 1), (257, 131, 5), (300, 256, 2) })
                    data.Add(t, rows, cols, tokens);
            return data;
        }
    }

    [Theory, MemberData(nameof(MatMulCases))]
    public void MatMulMatchesReference(DType type, int rows, int cols, int tokens)
    {
        var r = new Random(rows * 31 + cols * 7 + tokens);
        var values = Random(r, rows * cols);
        byte[] bytes;
        float[]? scales = null;
        switch (type)
        {
            case DType.F32: bytes = new byte[values.Length * 4]; Buffer.BlockCopy(values, 0, bytes, 0, bytes.Length); break;
            case DType.F16: bytes = values.SelectMany(v => BitConverter.GetBytes((Half)v)).ToArray(); break;
            case DType.BF16: bytes = values.SelectMany(v => BitConverter.GetBytes(BFloat16.FromSingle(v))).ToArray(); break;
            default:
                bytes = values.Select(_ => (byte)r.Next(0, 0x7F)).Select((b, i) => (byte)(i % 2 == 0 ? b : b | 0x80)).ToArray();
                scales = Random(r, ((rows + 127) / 128) * ((cols + 127) / 128));
                break;
        }
        var x = Random(r, tokens * cols);
        fixed (byte* p = bytes)
        fixed (float* s = scales)
        {
            var bs = scales is null ? null : new BlockScales(s, (rows + 127) / 128, (cols + 127) / 128, 128);
            var w = new WeightTensor("w", "test", type, [rows, cols], p, bytes.Length, bs);
            var fast = new float[tokens * rows];
            var reference = new float[tokens * rows];
            MatMul.Compute(KernelContext.Default(tokens), w, x, tokens, fast);
            MatMul.Reference(w, x, tokens, reference);
            for (int i = 0; i < fast.Length; i++)
                Assert.True(Math.Abs(fast[i] - reference[i]) <= 1e-4f * (1 + Math.Abs(reference[i])), $"{type} {rows}x{cols} T={tokens} i={i}: {fast[i]} vs {reference[i]}");
            // A row view keeps the block-scale row index of the original tensor.
            if (rows > 130)
            {
                var view = w.SliceRows(129, rows - 129);
                var part = new float[tokens * view.Rows];
                MatMul.Compute(KernelContext.Default(tokens), view, x, tokens, part);
                for (int t = 0; t < tokens; t++)
                    for (int i = 0; i < view.Rows; i++)
                        Assert.Equal(fast[t * rows + 129 + i], part[t * view.Rows + i], 4);
            }
        }
    }
}
