using SharpSeek.Models;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SharpSeek.Training.Model;

/// <summary>
/// Multi-head Latent Attention over a whole sequence (training form of model.py's naive path):
/// q through an optional low-rank bottleneck, one shared decoupled RoPE key, per-head keys and values
/// expanded from a normalised latent c_kv.
/// </summary>
public sealed class Mla : Attention
{
    private readonly int _heads, _dn, _dr, _dv, _rkv;
    private readonly double _scale;
    private readonly Linear? _qProj;            // [H·dq, D]            when q_lora_rank is null
    private readonly Linear? _qAProj;           // [rq, D]
    private readonly RmsNorm? _qANorm;          // [rq]
    private readonly Linear? _qBProj;           // [H·dq, rq]
    private readonly Linear _kvAProj;           // [rkv + dr, D]
    private readonly RmsNorm _kvANorm;          // [rkv]
    private readonly Linear _kvBProj;           // [H·(dn + dv), rkv]
    private readonly Linear _oProj;             // [D, H·dv]

    public Mla(ModelConfig cfg) : base(nameof(Mla))
    {
        _heads = cfg.NumAttentionHeads;
        _dn = cfg.QkNopeHeadDim;
        _dr = cfg.QkRopeHeadDim;
        _dv = cfg.VHeadDim;
        _rkv = cfg.KvLoraRank;
        _scale = Rope.SoftmaxScale(cfg);
        int d = cfg.HiddenSize, dq = cfg.QkHeadDim;
        if (cfg.QLoraRank == 0)
        {
            _qProj = nn.Linear(d, _heads * dq, hasBias: false);
            register_module("q_proj", _qProj);
        }
        else
        {
            _qAProj = nn.Linear(d, cfg.QLoraRank, hasBias: false);
            _qANorm = new RmsNorm(cfg.QLoraRank, cfg.RmsNormEps);
            _qBProj = nn.Linear(cfg.QLoraRank, _heads * dq, hasBias: false);
            register_module("q_a_proj", _qAProj);
            register_module("q_a_layernorm", _qANorm);
            register_module("q_b_proj", _qBProj);
        }
        _kvAProj = nn.Linear(d, _rkv + _dr, hasBias: false);
        _kvANorm = new RmsNorm(_rkv, cfg.RmsNormEps);
        _kvBProj = nn.Linear(_rkv, _heads * (_dn + _dv), hasBias: false);
        _oProj = nn.Linear(_heads * _dv, d, hasBias: false);
        register_module("kv_a_proj_with_mqa", _kvAProj);
        register_module("kv_a_layernorm", _kvANorm);
        register_module("kv_b_proj", _kvBProj);
        register_module("o_proj", _oProj);
    }

    public override Tensor Forward(Tensor x, Tensor cos, Tensor sin)
    {
        long b = x.shape[0], s = x.shape[1];
        var q = _qProj is not null ? _qProj.call(x) : _qBProj!.call(_qANorm!.call(_qAProj!.call(x)));
        q = q.view(b, s, _heads, _dn + _dr);
        var qNope = q.narrow(-1, 0, _dn);
        var qPe = Rope.Apply(q.narrow(-1, _dn, _dr), cos, sin);

        var kv = _kvAProj.call(x);                                                     // [B, S, rkv + dr]
        var kPe = Rope.Apply(kv.narrow(-1, _rkv, _dr).unsqueeze(2), cos, sin);         // [B, S, 1, dr]
        var kvb = _kvBProj.call(_kvANorm.call(kv.narrow(-1, 0, _rkv))).view(b, s, _heads, _dn + _dv);
        var kNope = kvb.narrow(-1, 0, _dn);
        var v = kvb.narrow(-1, _dn, _dv);

        var qh = cat([qNope, qPe], -1).transpose(1, 2);                                // [B, H, S, dq]
        var kh = cat([kNope, kPe.expand(b, s, _heads, _dr)], -1).transpose(1, 2);      // [B, H, S, dq]
        var o = CausalAttention(qh, kh, v.transpose(1, 2), _scale);                    // [B, H, S, dv]
        return _oProj.call(o.transpose(1, 2).reshape(b, s, _heads * _dv));
    }
}
