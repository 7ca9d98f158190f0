using SharpSeek.Kernels;

namespace SharpSeek.Models;

/// <summary>One decoder layer: h += Attn(RMSNorm(h)); h += FFN(RMSNorm(h)).</summary>
internal sealed class Block(float[] attnNorm, IAttention attention, float[] ffnNorm, IFeedForward ffn, float eps, int layer)
{
    public IAttention Attention { get; } = attention;
    public IFeedForward FeedForward { get; } = ffn;

    /// <summary>The checkpoint's layer index (the MTP block's is num_hidden_layers + j).</summary>
    public int Layer { get; } = layer;

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
            ? new DeepSeek.Moe(w, p + ".mlp", c)
            : new Mlp(w, p + ".mlp", d, c.IntermediateSize);
        return new Block(attnNorm, attn, ffnNorm, ffn, (float)c.RmsNormEps, layer);
    }

    /// <summary>Runs the layer on the pass's rows of ws.X ([rows, D]) in place; <paramref name="cache"/> indexes each segment's caches.</summary>
    public void Forward(Pass pass, int cache)
    {
        var ws = pass.Ws;
        int d = attnNorm.Length, rows = pass.Rows;
        Norms.RmsNormRows(ws.X, attnNorm, eps, ws.Xn, rows);
        Attention.Forward(pass, cache);
        Residual(ws, rows * d);
        Norms.RmsNormRows(ws.X, ffnNorm, eps, ws.Xn, rows);
        FeedForward.Forward(pass, Layer);
        Residual(ws, rows * d);
    }

    private static void Residual(Workspace ws, int n) =>
        System.Numerics.Tensors.TensorPrimitives.Add(ws.X.AsSpan(0, n), ws.Out.AsSpan(0, n), ws.X.AsSpan(0, n));
}
