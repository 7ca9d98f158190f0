using SharpSeek.Tensors;

namespace SharpSeek.Kernels;

/// <summary>ggml block quantization formats (Q8_0, Q4_0, Q4_K, Q6_K): row dequantization, bit-exact with ggml's layouts.</summary>
public static partial class GgmlQuants
{
    public static void DequantizeRow(DType type, ReadOnlySpan<byte> src, Span<float> dst)
    {
        throw new NotSupportedException($"dequantization of {type} is not implemented yet");
    }
}
