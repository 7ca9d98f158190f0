using static TorchSharp.torch;

namespace SharpSeek.Training.Model;

/// <summary>A decoder layer's self-attention over a whole sequence: MLA for DeepSeek, grouped-query attention for the dense baseline.</summary>
public abstract class Attention(string name) : nn.Module(name)
{
    /// <summary>x <c>[B, S, D]</c> → <c>[B, S, D]</c>; <paramref name="mask"/> <c>[S, S]</c> additive causal mask; cos/sin the rotary tables.</summary>
    public abstract Tensor Forward(Tensor x, Tensor cos, Tensor sin, Tensor mask);
}
