using System.Numerics.Tensors;
using SharpSeek.Kernels;
using SharpSeek.Tensors;

namespace SharpSeek.Models.Dense;

/// <summary>Keys and values of one layer: [S, kvH·hd] each.</summary>
internal sealed class KvCache(int width, int maxSequence) : ILayerCache
{
    public GrowableRows Keys { get; } = new(width, maxSequence);
    public GrowableRows Values { get; } = new(width, maxSequence);

    public void EnsureCapacity(int length)
    {
        Keys.EnsureCapacity(length);
        Values.EnsureCapacity(length);
    }

    public long Bytes => 4L * (Keys.Data.Length + Values.Data.Length);

    public IReadOnlyList<GrowableRows> Rows => [Keys, Values];
}

/// <summary>
/// Grouped-query attention of Qwen2 / Qwen3 / Llama (Hugging Face <c>Qwen2Attention.forward</c>, <c>Qwen3Attention.forward</c>):
/// q/k/v projections with optional biases, Qwen3's per-head q/k RMSNorm, RoPE, causal softmax over the sequence's cache,
/// o_proj. The steps are separate methods in the order of the reference (Qwen3's norm sits between <see cref="Project"/> and
/// the rotation in <see cref="Place"/>).
/// </summary>
internal sealed class GqaAttention : IAttention
{
    private readonly WeightTensor _wq, _wk, _wv, _wo;     // [H·hd, D], [kvH·hd, D] ×2, [D, H·hd]
    private readonly float[]? _bq, _bk, _bv;
    private readonly float[]? _qNorm, _kNorm;            // [hd] each (Qwen3)
    private readonly Rope _rope;
    private readonly int _dim, _heads, _kvHeads, _hd;
    private readonly float _scale, _eps;

    public GqaAttention(WeightLoader w, string prefix, ModelConfig c, Rope rope)
    {
        _dim = c.HiddenSize; _heads = c.NumAttentionHeads; _kvHeads = c.NumKeyValueHeads; _hd = c.HeadDim;
        _rope = rope;
        _scale = 1f / MathF.Sqrt(_hd);
        _eps = (float)c.RmsNormEps;
        _wq = w.Linear(prefix + ".q_proj.weight", _heads * _hd, _dim);
        _wk = w.Linear(prefix + ".k_proj.weight", _kvHeads * _hd, _dim);
        _wv = w.Linear(prefix + ".v_proj.weight", _kvHeads * _hd, _dim);
        _wo = w.Linear(prefix + ".o_proj.weight", _dim, _heads * _hd);
        if (c.AttentionBias)
        {
            _bq = w.Vector(prefix + ".q_proj.bias", _heads * _hd);
            _bk = w.Vector(prefix + ".k_proj.bias", _kvHeads * _hd);
            _bv = w.Vector(prefix + ".v_proj.bias", _kvHeads * _hd);
        }
        if (c.QkNorm)
        {
            _qNorm = w.Vector(prefix + ".q_norm.weight", _hd);
            _kNorm = w.Vector(prefix + ".k_norm.weight", _hd);
        }
    }

    public int CachedValuesPerToken => 2 * _kvHeads * _hd;

    public long ParameterCount => _wq.ElementCount + _wk.ElementCount + _wv.ElementCount + _wo.ElementCount
        + (_bq?.Length ?? 0) + (_bk?.Length ?? 0) + (_bv?.Length ?? 0) + (_qNorm?.Length ?? 0) + (_kNorm?.Length ?? 0);

    public ILayerCache CreateCache(int maxSequence) => new KvCache(_kvHeads * _hd, maxSequence);

    public void Forward(Pass pass, int layer)
    {
        var ws = pass.Ws;
        int rows = pass.Rows;
        // q, k, v = q_proj(x), k_proj(x), v_proj(x)
        Project(pass.Kernels, ws, rows);
        // (+ biases) q, k = apply_rotary_pos_emb(q, k); past_key_value.update(k, v): each row into its own sequence's cache
        foreach (var seg in pass.Segments) seg.Caches[layer].EnsureCapacity(seg.StartPosition + seg.Rows);
        for (int t = 0; t < rows; t++) Place(ws, t, pass.Position(t), (KvCache)pass.Cache(t, layer));
        // softmax(q·kᵀ·scale + causal mask)·v, every head of a key/value group for up to 4 consecutive rows together
        var blocks = pass.Scratch<KeyBlock>(pass.Blocks.Length);
        for (int b = 0; b < pass.Blocks.Length; b++)
        {
            var (segment, first, count) = pass.Blocks[b];
            var seg = pass.Segments[segment];
            var cache = (KvCache)seg.Caches[layer];
            blocks[b] = new KeyBlock(cache.Keys.Data, cache.Values.Data, first, count, seg.Length(first));
        }
        Attention.Grouped(pass.Kernels, blocks, pass.Blocks.Length, ws.Q, _heads, _kvHeads, _hd, _scale, ws.AttnOut);
        // o_proj
        MatMul.Compute(pass.Kernels, _wo, ws.AttnOut, rows, ws.Out);
    }

    private void Project(in KernelContext k, Workspace ws, int rows)
    {
        MatMul.Compute(k, _wq, ws.Xn, rows, ws.Q);
        MatMul.Compute(k, _wk, ws.Xn, rows, ws.K);
        MatMul.Compute(k, _wv, ws.Xn, rows, ws.V);
    }

    /// <summary>
    /// Row t's key and value into the cache at <paramref name="pos"/>: biases added, q and k normalised per head (Qwen3),
    /// then RoPE (ws Cos/Sin row t) on q and k.
    /// </summary>
    private void Place(Workspace ws, int t, int pos, KvCache cache)
    {
        int qw = _heads * _hd, kw = _kvHeads * _hd, half = _hd / 2;
        var q = ws.Q.AsSpan(t * qw, qw);
        var k = cache.Keys.Row(pos);
        var v = cache.Values.Row(pos);
        ws.K.AsSpan(t * kw, kw).CopyTo(k);
        ws.V.AsSpan(t * kw, kw).CopyTo(v);
        if (_bq is not null)
        {
            TensorPrimitives.Add(q, _bq, q);
            TensorPrimitives.Add(k, _bk!, k);
            TensorPrimitives.Add(v, _bv!, v);
        }
        if (_qNorm is not null)
        {
            NormalizeHeads(q, _qNorm, _eps);
            NormalizeHeads(k, _kNorm!, _eps);
        }
        var cos = ws.Cos.AsSpan(t * half, half);
        var sin = ws.Sin.AsSpan(t * half, half);
        for (int h = 0; h < _heads; h++) _rope.Apply(q.Slice(h * _hd, _hd), cos, sin);
        for (int h = 0; h < _kvHeads; h++) _rope.Apply(k.Slice(h * _hd, _hd), cos, sin);
    }

    /// <summary>
    /// Qwen3's q_norm/k_norm: RMSNorm over each head's <c>head_dim</c> values of <paramref name="x"/> ([heads·hd]) in place,
    /// with the one weight vector shared by all heads (Hugging Face <c>Qwen3RMSNorm(head_dim)</c> on the [.., heads, hd] view;
    /// llama.cpp <c>build_norm(Qcur, attn_q_norm)</c>).
    /// </summary>
    internal static void NormalizeHeads(Span<float> x, ReadOnlySpan<float> weight, float eps)
    {
        int hd = weight.Length;
        for (int h = 0; h + hd <= x.Length; h += hd) Norms.RmsNorm(x.Slice(h, hd), weight, eps, x.Slice(h, hd));
    }
}
