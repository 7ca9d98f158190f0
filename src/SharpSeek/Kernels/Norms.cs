using System.Numerics.Tensors;

namespace SharpSeek.Kernels;

/// <summary>RMSNorm and the SwiGLU activation, in float32.</summary>
public static class Norms
{
    /// <summary>dst = x / sqrt(mean(x²) + eps) ⊙ weight. dst may alias x.</summary>
    public static void RmsNorm(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, float eps, Span<float> dst)
    {
        float ms = TensorPrimitives.SumOfSquares(x) / x.Length;
        float inv = 1f / MathF.Sqrt(ms + eps);
        TensorPrimitives.Multiply(x, inv, dst);
        TensorPrimitives.Multiply(dst[..x.Length], weight, dst);
    }

    /// <summary>RMSNorm of each of <paramref name="rows"/> rows of x (width = <paramref name="weight"/>'s length) into dst; dst may alias x.</summary>
    public static void RmsNormRows(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, float eps, Span<float> dst, int rows)
    {
        int d = weight.Length;
        for (int r = 0; r < rows; r++) RmsNorm(x.Slice(r * d, d), weight, eps, dst.Slice(r * d, d));
    }

    /// <summary>Reference RMSNorm in double.</summary>
    public static void RmsNormReference(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, float eps, Span<float> dst)
    {
        double ss = 0;
        foreach (float v in x) ss += (double)v * v;
        double inv = 1 / Math.Sqrt(ss / x.Length + eps);
        for (int i = 0; i < x.Length; i++) dst[i] = (float)(x[i] * inv * weight[i]);
    }

    /// <summary>gate = silu(gate) ⊙ up, using <paramref name="scratch"/> (same length) for the sigmoid.</summary>
    public static void SwiGlu(Span<float> gate, ReadOnlySpan<float> up, Span<float> scratch)
    {
        TensorPrimitives.Sigmoid(gate, scratch);
        TensorPrimitives.Multiply(gate, scratch[..gate.Length], gate);
        TensorPrimitives.Multiply(gate, up, gate);
    }

    /// <summary>Numerically stable softmax in place.</summary>
    public static void Softmax(Span<float> x)
    {
        if (x.Length == 0) return;
        // TensorPrimitives.SoftMax does not subtract the maximum, so large scores would overflow.
        float max = TensorPrimitives.Max(x);
        TensorPrimitives.Subtract(x, max, x);
        // Floor at e^-60: below ~e^-87 exp gives denormals, and every later multiply-add with one takes a microcode assist (100+ cycles;
        // .NET cannot set flush-to-zero). The floor moves each weight by < 1e-26, far below float resolution.
        TensorPrimitives.Max(x, -60f, x);
        TensorPrimitives.Exp(x, x);
        float sum = TensorPrimitives.Sum(x);
        TensorPrimitives.Multiply(x, 1f / sum, x);
    }

    /// <summary>Reference softmax in double.</summary>
    public static void SoftmaxReference(Span<float> x)
    {
        double max = double.NegativeInfinity;
        foreach (float v in x) max = Math.Max(max, v);
        double sum = 0;
        for (int i = 0; i < x.Length; i++) sum += Math.Exp(x[i] - max);
        for (int i = 0; i < x.Length; i++) x[i] = (float)(Math.Exp(x[i] - max) / sum);
    }
}
