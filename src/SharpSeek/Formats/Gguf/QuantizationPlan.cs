using SharpSeek.Tensors;

namespace SharpSeek.Formats.Gguf;

/// <summary>File types <c>sharpseek quantize</c> writes (llama-quantize's names).</summary>
public enum QuantizationTarget
{
    Q8_0,
    Q4_0,
    /// <summary>Q4_K for most matrices, Q6_K for the output matrix and for attn_v/ffn_down of some layers.</summary>
    Q4_K_M,
}

/// <summary>
/// Which ggml type each tensor gets, following llama-quantize (<c>llama_tensor_get_type</c>) without an importance matrix:
/// 1-D tensors and the MoE router stay F32; a matrix whose rows are not a whole number of blocks falls back to a type that
/// fits (Q8_0, then F16).
/// </summary>
public static class QuantizationPlan
{
    public static QuantizationTarget Parse(string text) => text.ToUpperInvariant() switch
    {
        "Q8_0" => QuantizationTarget.Q8_0,
        "Q4_0" => QuantizationTarget.Q4_0,
        "Q4_K_M" => QuantizationTarget.Q4_K_M,
        _ => throw new SharpSeekException($"unknown quantization type '{text}' (Q8_0, Q4_0, Q4_K_M)"),
    };

    /// <summary>llama.cpp's general.file_type value (LLAMA_FTYPE_MOSTLY_*).</summary>
    public static uint FileType(QuantizationTarget t) => t switch
    {
        QuantizationTarget.Q8_0 => 7,
        QuantizationTarget.Q4_0 => 2,
        _ => 15,
    };

    /// <param name="name">GGUF tensor name.</param>
    /// <param name="shape">PyTorch-order shape (last dimension contiguous).</param>
    /// <param name="layers">Decoder blocks in the model.</param>
    /// <param name="hasOutput">Whether the file has its own <c>output.weight</c> (else the embedding is the output).</param>
    public static DType TypeFor(QuantizationTarget target, string name, long[] shape, int layers, bool hasOutput)
    {
        if (shape.Length < 2 || name.EndsWith(".bias", StringComparison.Ordinal) || name.Contains("ffn_gate_inp", StringComparison.Ordinal)
            || name.Contains("_norm", StringComparison.Ordinal) || name == GgufTensorNames.RopeFreqs)
            return DType.F32;
        DType want = target switch
        {
            QuantizationTarget.Q8_0 => DType.Q8_0,
            QuantizationTarget.Q4_0 => DType.Q4_0,
            _ => KQuantType(name, layers, hasOutput),
        };
        long cols = shape[^1];
        if (cols % want.BlockSize() == 0) return want;
        if (cols % 32 == 0) return DType.Q8_0;
        return DType.F16;
    }

    private static DType KQuantType(string name, int layers, bool hasOutput)
    {
        if (name == "output.weight" || (!hasOutput && name == "token_embd.weight")) return DType.Q6_K;
        int layer = Layer(name);
        bool moreBits = layer >= 0 && UseMoreBits(layer, layers);
        if (moreBits && (name.Contains(".attn_v.", StringComparison.Ordinal) || name.Contains(".ffn_down", StringComparison.Ordinal) || name.Contains(".attn_v_b.", StringComparison.Ordinal)))
            return DType.Q6_K;
        return DType.Q4_K;
    }

    /// <summary>llama.cpp's use_more_bits: the first and last eighth of the layers, and every third one between.</summary>
    private static bool UseMoreBits(int i, int n) => i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2;

    private static int Layer(string name)
    {
        if (!name.StartsWith("blk.", StringComparison.Ordinal)) return -1;
        int dot = name.IndexOf('.', 4);
        return dot > 4 && int.TryParse(name.AsSpan(4, dot - 4), out int l) ? l : -1;
    }
}
