using SharpSeek.Models;
using static TorchSharp.torch;

namespace SharpSeek.Training.Model;

/// <summary>One decoder layer: h = x + attention(norm(x)); out = h + FFN(norm(h)). DeepSeek: MLA, the FFN dense for the first layers and MoE after; the dense baseline: GQA and SwiGLU everywhere.</summary>
public class Block : nn.Module
{
    private readonly RmsNorm _attnNorm;
    private readonly Attention _attn;
    private readonly RmsNorm _ffnNorm;
    private readonly Mlp? _dense;
    private readonly Moe? _moe;

    public Block(ModelConfig cfg, bool moe) : base(nameof(Block))
    {
        _attnNorm = new RmsNorm(cfg.HiddenSize, cfg.RmsNormEps);
        _attn = cfg.Family == ModelFamily.DeepSeek ? new Mla(cfg) : new GqaAttention(cfg);
        _ffnNorm = new RmsNorm(cfg.HiddenSize, cfg.RmsNormEps);
        register_module("input_layernorm", _attnNorm);
        register_module("self_attn", _attn);
        register_module("post_attention_layernorm", _ffnNorm);
        if (moe)
        {
            _moe = new Moe(cfg);
            register_module("mlp", _moe);
        }
        else
        {
            _dense = new Mlp(cfg.HiddenSize, cfg.IntermediateSize);
            register_module("mlp", _dense);
        }
    }

    /// <summary>The MoE feed-forward, or null for a dense layer.</summary>
    public Moe? Moe => _moe;

    /// <summary>x <c>[B, S, D]</c> → <c>[B, S, D]</c>.</summary>
    public Tensor Forward(Tensor x, Tensor cos, Tensor sin, ForwardContext? ctx)
    {
        var h = x + _attn.Forward(_attnNorm.call(x), cos, sin);
        var f = _ffnNorm.call(h);
        return h + (_moe is not null ? _moe.Forward(f, ctx) : _dense!.call(f));
    }
}

/// <summary>
/// The multi-token-prediction module (depth 1), stored as decoder layer <c>num_hidden_layers</c>:
/// h' = eh_proj · [enorm(embed(t_{i+1})); hnorm(h_i)], then this layer's block, then the shared head
/// (<c>shared_head.norm</c> here, the main model's embedding and <c>lm_head</c> shared).
/// </summary>
public sealed class MtpLayer : Block
{
    private readonly RmsNorm _enorm;
    private readonly RmsNorm _hnorm;
    private readonly TorchSharp.Modules.Linear _ehProj; // [D, 2D]
    private readonly SharedHead _sharedHead;

    public MtpLayer(ModelConfig cfg, bool moe) : base(cfg, moe)
    {
        _enorm = new RmsNorm(cfg.HiddenSize, cfg.RmsNormEps);
        _hnorm = new RmsNorm(cfg.HiddenSize, cfg.RmsNormEps);
        _ehProj = nn.Linear(2L * cfg.HiddenSize, cfg.HiddenSize, hasBias: false);
        _sharedHead = new SharedHead(cfg);
        register_module("enorm", _enorm);
        register_module("hnorm", _hnorm);
        register_module("eh_proj", _ehProj);
        register_module("shared_head", _sharedHead);
    }

    /// <summary>Combines the next token's embedding <c>[B, S, D]</c> with the main model's hidden state <c>[B, S, D]</c> and runs the block; returns the normed output.</summary>
    public Tensor Forward(Tensor nextEmbedding, Tensor hidden, Tensor cos, Tensor sin, ForwardContext? ctx)
    {
        var h = _ehProj.call(cat([_enorm.call(nextEmbedding), _hnorm.call(hidden)], -1));
        return _sharedHead.Norm.call(Forward(h, cos, sin, ctx));
    }

    /// <summary>Holds <c>shared_head.norm</c>; <c>shared_head.head</c> is the main <c>lm_head</c>, written as a copy on export.</summary>
    private sealed class SharedHead : nn.Module
    {
        public SharedHead(ModelConfig cfg) : base(nameof(SharedHead))
        {
            Norm = new RmsNorm(cfg.HiddenSize, cfg.RmsNormEps);
            register_module("norm", Norm);
        }

        public RmsNorm Norm { get; }
    }
}
