using SharpSeek.Models;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SharpSeek.Training.Model;

/// <summary>The losses of one training forward.</summary>
/// <param name="Total">main + λ·mtp + balance: what is differentiated.</param>
/// <param name="Main">mean next-token cross-entropy over positions 0..T−2.</param>
/// <param name="Mtp">mean cross-entropy of the MTP module predicting t+2 over positions 0..T−3, or null.</param>
/// <param name="Balance">α-weighted sequence-wise balance loss summed over MoE layers, or null.</param>
public sealed record LossParts(Tensor Total, Tensor Main, Tensor? Mtp, Tensor? Balance);

/// <summary>
/// A DeepSeek-V2/V3 model in TorchSharp, built from the engine's <see cref="ModelConfig"/>; with a
/// <c>LlamaForCausalLM</c> config, the dense Llama baseline of the recipe's architecture comparison (same blocks with
/// grouped-query attention and SwiGLU everywhere, no MTP). Module names equal
/// the Hugging Face checkpoint names (<c>model.layers.{i}.self_attn.kv_b_proj.weight</c>, …), so import and
/// export are name-for-name; the MTP module is layer <c>num_hidden_layers</c>.
/// </summary>
public sealed class DeepSeekModel : nn.Module
{
    private readonly Decoder _model;
    private readonly Linear _lmHead; // [V, D], not tied
    private Tensor? _cos, _sin;      // [L, dr/2] cached rotary tables

    public DeepSeekModel(ModelConfig cfg) : base(nameof(DeepSeekModel))
    {
        if (cfg.Family != ModelFamily.DeepSeek && cfg.Architecture != "LlamaForCausalLM")
            throw new ArgumentException($"the trainer builds DeepSeek models and the dense Llama baseline, not {cfg.Architecture}", nameof(cfg));
        if (cfg.Family != ModelFamily.DeepSeek && (cfg.AttentionBias || cfg.TieWordEmbeddings))
            throw new ArgumentException("the dense baseline has no attention biases and an untied head", nameof(cfg));
        if (cfg.NumNextnPredictLayers > 1) throw new ArgumentException("only MTP depth 1 (num_nextn_predict_layers ≤ 1) is supported", nameof(cfg));
        Config = cfg;
        _model = new Decoder(cfg);
        _lmHead = nn.Linear(cfg.HiddenSize, cfg.VocabSize, hasBias: false);
        register_module("model", _model);
        register_module("lm_head", _lmHead);
    }

    public ModelConfig Config { get; }

    /// <summary>The main decoder layers (without the MTP layer).</summary>
    public IReadOnlyList<Block> Layers => _model.Main;

    /// <summary>The MTP module, or null when <c>num_nextn_predict_layers</c> is 0.</summary>
    public MtpLayer? Mtp => _model.Mtp;

    /// <summary>Every MoE feed-forward with its checkpoint layer index (the MTP layer's last).</summary>
    public IEnumerable<(int Layer, Moe Moe)> MoeLayers()
    {
        for (int i = 0; i < _model.Main.Length; i++)
            if (_model.Main[i].Moe is { } m) yield return (i, m);
        if (_model.Mtp?.Moe is { } mm) yield return (_model.Main.Length, mm);
    }

    /// <summary>Full causal forward of tokens <c>[B, T]</c> from position 0: logits <c>[B, T, V]</c> and the final normed hidden state <c>[B, T, D]</c>.</summary>
    public (Tensor Logits, Tensor Hidden) Forward(Tensor tokens, ForwardContext? ctx = null)
    {
        long t = tokens.shape[1];
        var (cos, sin) = RopeTables(t);
        var h = _model.Embed.call(tokens);
        foreach (var layer in _model.Main) h = layer.Forward(h, cos, sin, ctx);
        var hidden = _model.Norm.call(h);
        return (_lmHead.call(hidden), hidden);
    }

    /// <summary>
    /// MTP logits <c>[B, T−1, V]</c>: row i combines the main hidden state at i with the embedding of token i+1
    /// and predicts token i+2.
    /// </summary>
    public Tensor MtpLogits(Tensor tokens, Tensor hidden, ForwardContext? ctx = null)
    {
        var mtp = _model.Mtp ?? throw new InvalidOperationException("the model has no MTP module (num_nextn_predict_layers = 0)");
        long t = tokens.shape[1] - 1;
        var (cos, sin) = RopeTables(t);
        var next = _model.Embed.call(tokens.narrow(1, 1, t));
        return _lmHead.call(mtp.Forward(next, hidden.narrow(1, 0, t), cos, sin, ctx));
    }

    /// <summary>
    /// The training objective on tokens <c>[B, T]</c>: next-token cross-entropy over positions 0..T−2, plus
    /// <paramref name="mtpWeight"/> × the MTP cross-entropy (t+2, positions 0..T−3) when there is an MTP module,
    /// plus the balance loss collected in <paramref name="ctx"/>.
    /// </summary>
    public LossParts Loss(Tensor tokens, double mtpWeight = 0, ForwardContext? ctx = null)
    {
        long b = tokens.shape[0], t = tokens.shape[1];
        if (t < 2) throw new ArgumentException("need at least 2 tokens per sequence", nameof(tokens));
        var (logits, hidden) = Forward(tokens, ctx);
        int v = Config.VocabSize;
        var main = nn.functional.cross_entropy(logits.narrow(1, 0, t - 1).reshape(-1, v), tokens.narrow(1, 1, t - 1).reshape(-1));
        var total = main;
        Tensor? mtp = null;
        if (mtpWeight > 0 && _model.Mtp is not null && t >= 3)
        {
            var mtpLogits = MtpLogits(tokens, hidden, ctx);
            mtp = nn.functional.cross_entropy(mtpLogits.narrow(1, 0, t - 2).reshape(-1, v), tokens.narrow(1, 2, t - 2).reshape(-1));
            total = total + mtp * mtpWeight;
        }
        var balance = ctx?.BalanceLoss;
        if (balance is not null) total = total + balance;
        _ = b;
        return new LossParts(total, main, mtp, balance);
    }

    /// <summary>
    /// Random initialisation: matrices and embeddings N(0, std²), norms 1, gate biases 0. Draws from its own generator
    /// seeded with <paramref name="seed"/>, so other users of torch's global RNG (other threads) cannot change the result.
    /// </summary>
    public void InitialiseWeights(double std = 0.02, long seed = 0)
    {
        using var _ = no_grad();
        using var generator = new Generator((ulong)seed, CPU);
        foreach (var (name, p) in named_parameters())
        {
            if (name.EndsWith("e_score_correction_bias", StringComparison.Ordinal)) p.zero_();
            else if (p.dim() == 1) p.fill_(1);
            else p.normal_(0, std, generator);
        }
    }

    private (Tensor Cos, Tensor Sin) RopeTables(long length)
    {
        if (_cos is null || _cos.shape[0] < length)
        {
            _cos?.Dispose();
            _sin?.Dispose();
            var (c, s) = Rope.Tables(Config, Math.Max(length, 64));
            _cos = c.DetachFromDisposeScope();
            _sin = s.DetachFromDisposeScope();
        }
        return (_cos, _sin!);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _cos?.Dispose();
            _sin?.Dispose();
        }
        base.Dispose(disposing);
    }

    /// <summary>The <c>model.*</c> part of the checkpoint: embedding, layers (MTP last), final norm.</summary>
    private sealed class Decoder : nn.Module
    {
        public Decoder(ModelConfig cfg) : base(nameof(Decoder))
        {
            Embed = nn.Embedding(cfg.VocabSize, cfg.HiddenSize);
            var layers = new List<Block>();
            for (int i = 0; i < cfg.NumHiddenLayers; i++) layers.Add(new Block(cfg, cfg.IsMoeLayer(i)));
            Main = layers.ToArray();
            if (cfg.NumNextnPredictLayers == 1)
            {
                Mtp = new MtpLayer(cfg, cfg.IsMoeLayer(cfg.NumHiddenLayers));
                layers.Add(Mtp);
            }
            Norm = new RmsNorm(cfg.HiddenSize, cfg.RmsNormEps);
            register_module("embed_tokens", Embed);
            register_module("layers", nn.ModuleList(layers.ToArray()));
            register_module("norm", Norm);
        }

        public Embedding Embed { get; }
        public Block[] Main { get; }
        public MtpLayer? Mtp { get; }
        public RmsNorm Norm { get; }
    }
}
