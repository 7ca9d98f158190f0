using SharpSeek.Kernels;
using SharpSeek.Tensors;

namespace SharpSeek.Models.DeepSeek;

/// <summary>The MLA cache of one layer: the normalised latent c_kv [S, rkv] and the rotated rope key k_pe [S, dr]. Nothing per head.</summary>
internal sealed class MlaCache(int rkv, int dr, int maxSequence) : ILayerCache
{
    public GrowableRows Latent { get; } = new(rkv, maxSequence);
    public GrowableRows RopeKey { get; } = new(dr, maxSequence);

    public void EnsureCapacity(int length)
    {
        Latent.EnsureCapacity(length);
        RopeKey.EnsureCapacity(length);
    }

    public long Bytes => 4L * (Latent.Data.Length + RopeKey.Data.Length);

    public IReadOnlyList<GrowableRows> Rows => [Latent, RopeKey];
}

/// <summary>
/// Multi-head Latent Attention in the weight-absorbed form (model.py <c>MLA.forward</c> with <c>attn_impl="absorb"</c>):
/// q_lat[h] = W_UK[h]ᵀ q_nope[h]; s[h,t] = scale·(q_lat[h]·c_kv[t] + q_pe[h]·k_pe[t]); o[h] = W_UV[h] Σ_t p[h,t] c_kv[t].
/// Only c_kv and k_pe are cached. <see cref="Forward"/> follows the reference line by line; the work of each line is a named
/// kernel operation (<see cref="MatMul"/>, <see cref="Attention.Latent"/>) that takes its arguments and keeps nothing.
/// </summary>
internal sealed unsafe class Mla : IAttention
{
    private readonly WeightTensor? _wq, _wqA, _wqB;     // q_proj [H·dq, D] | q_a_proj [rq, D], q_b_proj [H·dq, rq]
    private readonly float[]? _qNorm;                   // q_a_layernorm [rq]
    private readonly WeightTensor _wkvA;                // kv_a_proj_with_mqa [rkv + dr, D]
    private readonly float[] _kvNorm;                   // kv_a_layernorm [rkv]
    private readonly WeightTensor _wUK;                 // kv_b_proj [H·(dn+dv), rkv], or k_b_proj [H·rkv, dn] (GGUF split layout)
    private readonly WeightTensor _wUV;                 // kv_b_proj, or v_b_proj [H·dv, rkv]
    private readonly bool _splitLayout;
    private readonly WeightTensor _wo;                  // o_proj [D, H·dv]
    private readonly Rope _rope;
    private readonly int _dim, _heads, _dn, _dr, _dv, _dq, _rq, _rkv;
    private readonly float _eps, _scale;

    public Mla(WeightLoader w, string prefix, ModelConfig c, Rope rope)
    {
        _dim = c.HiddenSize; _heads = c.NumAttentionHeads; _dn = c.QkNopeHeadDim; _dr = c.QkRopeHeadDim;
        _dv = c.VHeadDim; _dq = _dn + _dr; _rq = c.QLoraRank; _rkv = c.KvLoraRank;
        _eps = (float)c.RmsNormEps;
        _rope = rope;
        _scale = (float)(Math.Pow(_dq, -0.5) * Math.Pow(Rope.SoftmaxMscale(c.RopeScaling), 2));
        if (_rq > 0)
        {
            _wqA = w.Linear(prefix + ".q_a_proj.weight", _rq, _dim);
            _qNorm = w.Vector(prefix + ".q_a_layernorm.weight", _rq);
            _wqB = w.Linear(prefix + ".q_b_proj.weight", _heads * _dq, _rq);
        }
        else _wq = w.Linear(prefix + ".q_proj.weight", _heads * _dq, _dim);
        _wkvA = w.Linear(prefix + ".kv_a_proj_with_mqa.weight", _rkv + _dr, _dim);
        _kvNorm = w.Vector(prefix + ".kv_a_layernorm.weight", _rkv);
        if (!w.Has(prefix + ".kv_b_proj.weight") && w.Has(prefix + ".k_b_proj.weight"))
        {
            _splitLayout = true;
            var kb = w.Tensor(prefix + ".k_b_proj.weight", _heads, _rkv, _dn);
            var vb = w.Tensor(prefix + ".v_b_proj.weight", _heads, _dv, _rkv);
            _wUK = w.ForProducts(kb).SliceRows(0, kb.Rows);
            _wUV = w.ForProducts(vb).SliceRows(0, vb.Rows);
        }
        else
        {
            _wUK = _wUV = w.Matrix(prefix + ".kv_b_proj.weight", _heads * (_dn + _dv), _rkv);
        }
        _wo = w.Linear(prefix + ".o_proj.weight", _dim, _heads * _dv);
    }

    public int CachedValuesPerToken => _rkv + _dr;

    /// <summary>What a plain multi-head cache (k and v per head) would hold per token.</summary>
    public int NaiveCachedValuesPerToken => _heads * (_dq + _dv);

    public long ParameterCount =>
        (_wq?.ElementCount ?? 0) + (_wqA?.ElementCount ?? 0) + (_qNorm?.Length ?? 0) + (_wqB?.ElementCount ?? 0)
        + _wkvA.ElementCount + _kvNorm.Length + (_splitLayout ? _wUK.ElementCount + _wUV.ElementCount : _wUK.ElementCount) + _wo.ElementCount;

    public ILayerCache CreateCache(int maxSequence) => new MlaCache(_rkv, _dr, maxSequence);

    public void Forward(Pass pass, int layer)
    {
        var ws = pass.Ws;
        var k = pass.Kernels;
        int n = pass.Rows, h = _heads;
        // q = self.wq(x) if self.q_lora_rank == 0 else self.wq_b(self.q_norm(self.wq_a(x)))
        if (_rq > 0)
        {
            MatMul.Compute(k, _wqA!, ws.Xn, n, ws.QA);
            Norms.RmsNormRows(ws.QA, _qNorm!, _eps, ws.QA, n);
            MatMul.Compute(k, _wqB!, ws.QA, n, ws.Q);
        }
        else MatMul.Compute(k, _wq!, ws.Xn, n, ws.Q);
        // kv = self.wkv_a(x); kv, k_pe = torch.split(kv, [self.kv_lora_rank, self.qk_rope_head_dim], dim=-1)
        MatMul.Compute(k, _wkvA, ws.Xn, n, ws.KvA);
        // q_pe = apply_rotary_emb(q_pe, freqs_cis); k_pe = apply_rotary_emb(k_pe, freqs_cis)
        // self.kv_cache[:bsz, start_pos:end_pos] = self.kv_norm(kv); self.pe_cache[:bsz, start_pos:end_pos] = k_pe
        foreach (var seg in pass.Segments) seg.Caches[layer].EnsureCapacity(seg.StartPosition + seg.Rows);
        var keys = pass.Scratch<LatentKeys>(n);
        for (int t = 0; t < n; t++)
        {
            var cache = (MlaCache)pass.Cache(t, layer);
            int pos = pass.Position(t);
            RotateAndStore(ws, t, pos, cache);
            keys[t] = new LatentKeys(cache.Latent.Data, cache.RopeKey.Data, pos + 1, pass.Segments[pass.SegmentOf(t)].FirstCached);
        }
        fixed (float* q = ws.Q)
        fixed (float* qLat = ws.QLatent)
        fixed (float* oLat = ws.OLatent)
        fixed (float* o = ws.AttnOut)
        {
            // q_nope = torch.einsum("bshd,hdc->bshc", q_nope, wkv_b[:, :self.qk_nope_head_dim])
            if (_splitLayout) MatMul.PerHead(k, _wUK, h, _rkv, _rkv, 0, q, (long)h * _dq, _dq, n, qLat, (long)h * _rkv, _rkv);
            else MatMul.PerHeadTransposed(k, _wUK, h, _dn, _dn + _dv, q, (long)h * _dq, _dq, n, qLat, (long)h * _rkv, _rkv);
            // scores = (einsum("bshc,btc->bsht", q_nope, kv_cache) + einsum("bshr,btr->bsht", q_pe, pe_cache)) * self.softmax_scale
            // scores = scores.softmax(dim=-1); x = torch.einsum("bsht,btc->bshc", scores, self.kv_cache[:bsz, :end_pos])
            Attention.Latent(k, keys, n, ws.QLatent, ws.Q, h, _rkv, _dn, _dr, _scale, ws.OLatent);
            // x = torch.einsum("bshc,hdc->bshd", x, wkv_b[:, -self.v_head_dim:])
            if (_splitLayout) MatMul.PerHead(k, _wUV, h, _dv, _dv, 0, oLat, (long)h * _rkv, _rkv, n, o, (long)h * _dv, _dv);
            else MatMul.PerHead(k, _wUV, h, _dv, _dn + _dv, _dn, oLat, (long)h * _rkv, _rkv, n, o, (long)h * _dv, _dv);
        }
        // x = self.wo(x.flatten(2))
        MatMul.Compute(k, _wo, ws.AttnOut, n, ws.Out);
    }

    /// <summary>Row t's normalised latent and rotated rope key straight into the cache at <paramref name="pos"/>; RoPE on its queries.</summary>
    private void RotateAndStore(Workspace ws, int t, int pos, MlaCache cache)
    {
        int half = _dr / 2;
        var cos = ws.Cos.AsSpan(t * half, half);
        var sin = ws.Sin.AsSpan(t * half, half);
        var kv = ws.KvA.AsSpan(t * (_rkv + _dr), _rkv + _dr);
        Norms.RmsNorm(kv[.._rkv], _kvNorm, _eps, cache.Latent.Row(pos));
        var pe = cache.RopeKey.Row(pos);
        kv.Slice(_rkv, _dr).CopyTo(pe);
        _rope.Apply(pe, cos, sin);
        for (int h = 0; h < _heads; h++) _rope.Apply(ws.Q.AsSpan(t * _heads * _dq + h * _dq + _dn, _dr), cos, sin);
    }
}
