using SharpSeek.Models;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SharpSeek.Training.Model;

/// <summary>
/// Llama's grouped-query attention (no biases), for the dense baseline the recipe compares DeepSeek's architecture
/// with. RoPE rotates split halves over the whole head, as Hugging Face's <c>LlamaForCausalLM</c> does, so the
/// exported checkpoint runs unchanged in the engine.
/// </summary>
public sealed class GqaAttention : Attention
{
    private readonly int _heads, _kvHeads, _hd;
    private readonly double _scale;
    private readonly Linear _q, _k, _v, _o;

    public GqaAttention(ModelConfig cfg) : base(nameof(GqaAttention))
    {
        _heads = cfg.NumAttentionHeads;
        _kvHeads = cfg.NumKeyValueHeads;
        _hd = cfg.HeadDim;
        _scale = 1 / Math.Sqrt(_hd);
        int d = cfg.HiddenSize;
        _q = nn.Linear(d, _heads * _hd, hasBias: false);
        _k = nn.Linear(d, _kvHeads * _hd, hasBias: false);
        _v = nn.Linear(d, _kvHeads * _hd, hasBias: false);
        _o = nn.Linear(_heads * _hd, d, hasBias: false);
        register_module("q_proj", _q);
        register_module("k_proj", _k);
        register_module("v_proj", _v);
        register_module("o_proj", _o);
    }

    public override Tensor Forward(Tensor x, Tensor cos, Tensor sin)
    {
        long b = x.shape[0], s = x.shape[1];
        var q = Rope.ApplyHalfSplit(_q.call(x).view(b, s, _heads, _hd), cos, sin).transpose(1, 2);   // [B, H, S, hd]
        var k = Rope.ApplyHalfSplit(_k.call(x).view(b, s, _kvHeads, _hd), cos, sin).transpose(1, 2); // [B, Hkv, S, hd]
        var v = _v.call(x).view(b, s, _kvHeads, _hd).transpose(1, 2);
        if (_kvHeads != _heads)
        {
            k = k.repeat_interleave(_heads / _kvHeads, 1);
            v = v.repeat_interleave(_heads / _kvHeads, 1);
        }
        var o = CausalAttention(q, k, v, _scale);                                                  // [B, H, S, hd]
        return _o.call(o.transpose(1, 2).reshape(b, s, _heads * _hd));
    }
}
