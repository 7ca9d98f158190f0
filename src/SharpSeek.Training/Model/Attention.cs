using static TorchSharp.torch;

namespace SharpSeek.Training.Model;

/// <summary>A decoder layer's causal self-attention over a whole sequence: MLA for DeepSeek, grouped-query attention for the dense baseline.</summary>
public abstract class Attention(string name) : nn.Module(name)
{
    /// <summary>x <c>[B, S, D]</c> → <c>[B, S, D]</c>, position i attending to 0..i; cos/sin the rotary tables.</summary>
    public abstract Tensor Forward(Tensor x, Tensor cos, Tensor sin);

    /// <summary>
    /// softmax(q·kᵀ·scale + causal)·v for q, k <c>[B, H, S, d]</c> and v <c>[B, H, S, dv]</c> through libtorch's fused
    /// kernel, which never materialises the <c>[B, H, S, S]</c> scores: allocating and page-faulting those each step
    /// cost more than the matrix products at our sizes. TorchSharp's binding has no scale argument, so q is pre-scaled
    /// to turn the kernel's 1/√d into <paramref name="scale"/>.
    /// </summary>
    protected static Tensor CausalAttention(Tensor q, Tensor k, Tensor v, double scale)
    {
        long d = q.shape[^1], dv = v.shape[^1];
        // The fused kernels need one head size for q, k and v (else libtorch falls back to the unfused path): MLA's
        // narrower values are zero-padded and the padding's zero outputs cut off again.
        if (dv < d) v = nn.functional.pad(v, [0, d - dv]);
        var o = nn.functional.scaled_dot_product_attention(q * (scale * Math.Sqrt(d)), k, v, null, 0, is_casual: true);
        return dv < d ? o.narrow(-1, 0, dv) : o;
    }
}
