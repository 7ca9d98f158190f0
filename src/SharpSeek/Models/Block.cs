using SharpSeek.Kernels;

namespace SharpSeek.Models;

/// <summary>One decoder layer: h += Attn(RMSNorm(h)); h += FFN(RMSNorm(h)).</summary>
internal sealed class Block(float[] attnNorm, IAttention attention, float[] ffnNorm, IFeedForward ffn, float eps)
{
    public IAttention Attention { get; } = attention;
    public IFeedForward FeedForward { get; } = ffn;

    public long ParameterCount => attnNorm.Length + ffnNorm.Length + Attention.ParameterCount + FeedForward.ParameterCount;
    public long ActiveParameterCount => attnNorm.Length + ffnNorm.Length + Attention.ParameterCount + FeedForward.ActiveParameterCount;

    public static Block Load(WeightLoader w, ModelConfig c, int layer, Rope rope)
    {
        string p = $"model.layers.{layer}";
        int d = c.HiddenSize;
        var attnNorm = w.Vector(p + ".input_layernorm.weight", d);
        IAttention attn = c.Family == ModelFamily.DeepSeek
            ? new DeepSeek.Mla(w, p + ".self_attn", c, rope)
            : new Dense.GqaAttention(w, p + ".self_attn", c, rope);
        var ffnNorm = w.Vector(p + ".post_attention_layernorm.weight", d);
        IFeedForward ffn = c.IsMoeLayer(layer)
            ? new DeepSeek.Moe(w, p + ".mlp", c, layer)
            : new Mlp(w, p + ".mlp", d, c.IntermediateSize);
        return new Block(attnNorm, attn, ffnNorm, ffn, (float)c.RmsNormEps);
    }

    /// <summary>Runs the layer on ws.X ([T, D]) in place.</summary>
    public void Forward(Workspace ws, int tokens, int startPos, ILayerCache cache, IForwardObserver? observer)
    {
        int d = attnNorm.Length;
        for (int t = 0; t < tokens; t++) Norms.RmsNorm(ws.X.AsSpan(t * d, d), attnNorm, eps, ws.Xn.AsSpan(t * d, d));
        Attention.Forward(ws, tokens, startPos, cache);
        Residual(ws, tokens * d);
        for (int t = 0; t < tokens; t++) Norms.RmsNorm(ws.X.AsSpan(t * d, d), ffnNorm, eps, ws.Xn.AsSpan(t * d, d));
        FeedForward.Forward(ws, tokens, startPos, observer);
        Residual(ws, tokens * d);
    }

    /// <summary>
    /// One decode token for each of several sequences, in ws rows [0, B): norms, the attention projections and the
    /// feed-forward run on all rows at once (each weight is read once per step); attention itself runs per sequence on
    /// its own cache. ws Cos/Sin row b holds the position of sequence b.
    /// </summary>
    public void ForwardDecodeBatch(Workspace ws, IReadOnlyList<InferenceState> states, int layer)
    {
        int d = attnNorm.Length, b = states.Count;
        for (int t = 0; t < b; t++) Norms.RmsNorm(ws.X.AsSpan(t * d, d), attnNorm, eps, ws.Xn.AsSpan(t * d, d));
        Attention.ForwardDecodeBatch(ws, states, layer);
        Residual(ws, b * d);
        for (int t = 0; t < b; t++) Norms.RmsNorm(ws.X.AsSpan(t * d, d), ffnNorm, eps, ws.Xn.AsSpan(t * d, d));
        FeedForward.Forward(ws, b, 0, null);
        Residual(ws, b * d);
    }

    private static void Residual(Workspace ws, int n) =>
        System.Numerics.Tensors.TensorPrimitives.Add(ws.X.AsSpan(0, n), ws.Out.AsSpan(0, n), ws.X.AsSpan(0, n));
}
