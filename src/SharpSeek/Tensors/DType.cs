namespace SharpSeek.Tensors;

/// <summary>Element encodings the engine can read. Block types store <see cref="DTypeInfo.BlockSize"/> values per block.</summary>
public enum DType
{
    F32,
    F16,
    BF16,
    /// <summary>float8_e4m3fn; DeepSeek's release pairs it with 128×128 fp32 block scales (<c>weight_scale_inv</c>).</summary>
    F8E4M3,
    /// <summary>ggml Q8_0: 32 values, fp16 scale + 32 int8.</summary>
    Q8_0,
    /// <summary>ggml Q4_0: 32 values, fp16 scale + 16 bytes of nibbles.</summary>
    Q4_0,
    /// <summary>ggml Q4_K: 256-value super-blocks.</summary>
    Q4_K,
    /// <summary>ggml Q6_K: 256-value super-blocks.</summary>
    Q6_K,
}

public static class DTypeInfo
{
    /// <summary>Values per block (1 for plain element types).</summary>
    public static int BlockSize(this DType t) => t switch
    {
        DType.Q8_0 or DType.Q4_0 => 32,
        DType.Q4_K or DType.Q6_K => 256,
        _ => 1,
    };

    /// <summary>Bytes per block.</summary>
    public static int BlockBytes(this DType t) => t switch
    {
        DType.F32 => 4,
        DType.F16 or DType.BF16 => 2,
        DType.F8E4M3 => 1,
        DType.Q8_0 => 34,
        DType.Q4_0 => 18,
        DType.Q4_K => 144,
        DType.Q6_K => 210,
        _ => throw new ArgumentOutOfRangeException(nameof(t)),
    };

    /// <summary>Bytes needed for <paramref name="count"/> values, or -1 when count is not a whole number of blocks.</summary>
    public static long ByteCount(this DType t, long count)
    {
        int bs = t.BlockSize();
        if (count < 0 || count % bs != 0) return -1;
        return checked(count / bs * t.BlockBytes());
    }

    /// <summary>Name as safetensors / GGUF tools print it.</summary>
    public static string DisplayName(this DType t) => t switch
    {
        DType.F8E4M3 => "F8_E4M3",
        _ => t.ToString(),
    };
}
