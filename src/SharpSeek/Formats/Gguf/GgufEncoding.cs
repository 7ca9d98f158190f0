using System.Runtime.InteropServices;
using SharpSeek.Kernels;
using SharpSeek.Tensors;

namespace SharpSeek.Formats.Gguf;

/// <summary>Encodes float32 values into a GGUF tensor payload of a given type (row-major, ggml block layouts).</summary>
public static class GgufEncoding
{
    /// <summary>Encodes <paramref name="values"/>; the count must be a whole number of the type's blocks.</summary>
    public static byte[] Encode(DType type, ReadOnlySpan<float> values)
    {
        long bytes = type.ByteCount(values.Length);
        if (bytes < 0) throw new ArgumentException($"{type}: {values.Length} values are not a whole number of {type.BlockSize()}-value blocks", nameof(values));
        var dst = new byte[bytes];
        Encode(type, values, dst);
        return dst;
    }

    public static void Encode(DType type, ReadOnlySpan<float> values, Span<byte> dst)
    {
        long bytes = type.ByteCount(values.Length);
        if (bytes < 0 || dst.Length < bytes) throw new ArgumentException($"{type}: cannot encode {values.Length} values into {dst.Length} bytes", nameof(dst));
        switch (type)
        {
            case DType.F32:
                MemoryMarshal.AsBytes(values).CopyTo(dst);
                break;
            case DType.F16:
            {
                var h = MemoryMarshal.Cast<byte, Half>(dst[..(int)bytes]);
                // Round to nearest even, as ggml's fp32→fp16 conversion.
                for (int i = 0; i < values.Length; i++) h[i] = (Half)values[i];
                break;
            }
            case DType.BF16:
            {
                var h = MemoryMarshal.Cast<byte, ushort>(dst[..(int)bytes]);
                for (int i = 0; i < values.Length; i++) h[i] = BFloat16.FromSingle(values[i]);
                break;
            }
            case DType.Q8_0 or DType.Q4_0 or DType.Q4_K or DType.Q6_K:
                GgmlQuants.QuantizeRow(type, values, dst);
                break;
            default:
                throw new ArgumentException($"{type.DisplayName()} cannot be stored in GGUF", nameof(type));
        }
    }
}
