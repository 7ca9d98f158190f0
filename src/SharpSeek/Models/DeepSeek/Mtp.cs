using SharpSeek.Tensors;

namespace SharpSeek.Models.DeepSeek;

/// <summary>
/// DeepSeek-V3's multi-token-prediction module, stored as layer <c>num_hidden_layers + j</c>:
/// h' = eh_proj · [enorm(embed(t+1)); hnorm(h)], one decoder block, then shared_head.norm and shared_head.head.
/// Speculative decoding drafts with it (<see cref="Transformer.ForwardMtp"/>, <c>--speculate mtp</c>).
/// </summary>
internal sealed class Mtp
{
    public Mtp(WeightLoader w, ModelConfig c, int layer, Rope rope)
    {
        string p = $"model.layers.{layer}";
        int d = c.HiddenSize;
        Layer = layer;
        Embed = w.Matrix(p + ".embed_tokens.weight", c.VocabSize, d);
        ENorm = w.Vector(p + ".enorm.weight", d);
        HNorm = w.Vector(p + ".hnorm.weight", d);
        EhProj = w.Linear(p + ".eh_proj.weight", d, 2L * d);
        Block = Block.Load(w, c, layer, rope);
        HeadNorm = w.Vector(p + ".shared_head.norm.weight", d);
        Head = w.Linear(p + ".shared_head.head.weight", c.VocabSize, d);
    }

    public int Layer { get; }
    public WeightTensor Embed { get; }       // [V, D]
    public float[] ENorm { get; }            // [D]
    public float[] HNorm { get; }            // [D]
    public WeightTensor EhProj { get; }      // [D, 2D]
    public Block Block { get; }
    public float[] HeadNorm { get; }         // [D]
    public WeightTensor Head { get; }        // [V, D]

    public long ParameterCount => Embed.ElementCount + ENorm.Length + HNorm.Length + EhProj.ElementCount + Block.ParameterCount + HeadNorm.Length + Head.ElementCount;
}
