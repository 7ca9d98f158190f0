using System.Numerics.Tensors;
using SharpSeek.Kernels;
using SharpSeek.Tensors;
using SharpSeek.Threading;

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
/// Grouped-query attention of Qwen2 / Qwen3 / Llama: q/k/v projections (optional biases), Qwen3's per-head q/k RMSNorm,
/// RoPE, causal softmax, o_proj.
/// </summary>
internal sealed class GqaAttention : IAttention
{
    private readonly WeightTensor _wq, _wk, _wv, _wo;     // [H·hd, D], [kvH·hd, D] ×2, [D, H·hd]
    private readonly float[]? _bq, _bk, _bv;
    private readonly float[]? _qNorm, _kNorm;            // [hd] each (Qwen3)
    private readonly Rope _rope;
    private readonly int _dim, _heads, _kvHeads, _hd;
    private readonly float _scale, _eps;
    private readonly AttendWork _attend;

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
        _attend = new AttendWork(this);
    }

    public int CachedValuesPerToken => 2 * _kvHeads * _hd;

    public long ParameterCount => _wq.ElementCount + _wk.ElementCount + _wv.ElementCount + _wo.ElementCount
        + (_bq?.Length ?? 0) + (_bk?.Length ?? 0) + (_bv?.Length ?? 0) + (_qNorm?.Length ?? 0) + (_kNorm?.Length ?? 0);

    public ILayerCache CreateCache(int maxSequence) => new KvCache(_kvHeads * _hd, maxSequence);

    public void Forward(Workspace ws, int tokens, int startPos, ILayerCache layerCache)
    {
        var cache = (KvCache)layerCache;
        cache.EnsureCapacity(startPos + tokens);
        Project(ws, tokens);
        for (int t = 0; t < tokens; t++) Place(ws, t, startPos + t, cache);
        var pool = WorkerPool.Shared;
        _attend.Set(ws, startPos, tokens, cache, pool);
        int blocks = (tokens + AttendWork.PrefillTokens - 1) / AttendWork.PrefillTokens;
        try { pool.For(blocks * _kvHeads, _attend, (long)tokens * _heads * (startPos + tokens) * _hd >= 32768); }
        finally { _attend.Clear(); }
        MatMul.Compute(_wo, ws.AttnOut, tokens, ws.Out);
    }

    /// <summary>
    /// Row b of ws is the next token of <paramref name="states"/>[b]: the q/k/v and o projections run once over all rows
    /// (each weight read once per step), each row's keys/values go into its own sequence's cache, and each row attends
    /// only to that cache.
    /// </summary>
    public void ForwardDecodeBatch(Workspace ws, IReadOnlyList<InferenceState> states, int layer)
    {
        int b = states.Count;
        Project(ws, b);
        long work = 0;
        for (int t = 0; t < b; t++)
        {
            var cache = (KvCache)states[t].Caches[layer];
            int pos = states[t].Length;
            cache.EnsureCapacity(pos + 1);
            Place(ws, t, pos, cache);
            work += (long)_heads * (pos + 1) * _hd;
        }
        var pool = WorkerPool.Shared;
        _attend.SetBatch(ws, states, layer, pool);
        try { pool.For(b * _kvHeads, _attend, work >= 32768); }
        finally { _attend.Clear(); }
        MatMul.Compute(_wo, ws.AttnOut, b, ws.Out);
    }

    private void Project(Workspace ws, int tokens)
    {
        MatMul.Compute(_wq, ws.Xn, tokens, ws.Q);
        MatMul.Compute(_wk, ws.Xn, tokens, ws.K);
        MatMul.Compute(_wv, ws.Xn, tokens, ws.V);
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

    /// <summary>
    /// One item per (block of query rows, key/value group): the rows are every head of the group for up to
    /// <see cref="PrefillTokens"/> consecutive tokens of a prefill, or for one sequence's newest token in a batched decode.
    /// Their scores come from <see cref="AttentionScores"/> and their value sums from <see cref="WeightedRows.SumRows"/>,
    /// which load each cached key and value row once for four query rows instead of once per (token, head). A prefill block
    /// computes scores up to its last token's length; a row's positions past its own causal length get weight 0, which adds
    /// exactly nothing, so every row comes out bit for bit as it would alone (tests compare prefill and decode).
    /// </summary>
    private sealed unsafe class AttendWork(GqaAttention a) : IParallelWork
    {
        /// <summary>Tokens per prefill item: a full block is then a whole number of 4-row tiles, whatever the heads per group.</summary>
        public const int PrefillTokens = 4;

        private Workspace? _ws;
        private KvCache? _cache;
        private IReadOnlyList<InferenceState>? _states;
        private int _startPos, _tokens, _layer;
        private WorkerPool? _pool;

        // Each setter clears the other mode's fields: a prefill after a batched step must not attend to the batch's caches.
        public void Set(Workspace ws, int startPos, int tokens, KvCache cache, WorkerPool pool) { _ws = ws; _startPos = startPos; _tokens = tokens; _cache = cache; _states = null; _pool = pool; }
        public void SetBatch(Workspace ws, IReadOnlyList<InferenceState> states, int layer, WorkerPool pool) { _ws = ws; _states = states; _layer = layer; _cache = null; _pool = pool; }
        public void Clear() { _ws = null; _cache = null; _states = null; _pool = null; }

        public void Execute(int index, int worker)
        {
            var ws = _ws!;
            int heads = a._heads, hd = a._hd, kvHeads = a._kvHeads, kvw = kvHeads * hd, hpg = heads / kvHeads;
            int item = index / kvHeads, g = index % kvHeads;
            KvCache cache;
            int t0, nt, len0;   // first token, tokens, causal length of the first token
            if (_states is { } states) { cache = (KvCache)states[item].Caches[_layer]; t0 = item; nt = 1; len0 = states[item].Length + 1; }
            else { cache = _cache!; t0 = item * PrefillTokens; nt = Math.Min(PrefillTokens, _tokens - t0); len0 = _startPos + t0 + 1; }
            int rows = nt * hpg, len = len0 + nt - 1;
            // Scratch: scores [rows, len], then the block's query rows and outputs, each [rows, hd] and contiguous.
            var scratch = _pool!.Scratch(worker, rows * len + 2 * rows * hd);
            fixed (float* sp = scratch)
            fixed (float* qp = ws.Q)
            fixed (float* op = ws.AttnOut)
            fixed (float* kp = cache.Keys.Data)
            fixed (float* vp = cache.Values.Data)
            {
                float* qs = sp + rows * len, os = qs + rows * hd;
                for (int i = 0; i < nt; i++)
                    new ReadOnlySpan<float>(qp + (t0 + i) * heads * hd + g * hpg * hd, hpg * hd).CopyTo(new Span<float>(qs + i * hpg * hd, hpg * hd));
                AttentionScores.Compute(qs, hd, qs, 0, rows, kp + g * hd, kvw, hd, kp, 0, 0, len, a._scale, sp, len);
                for (int r = 0; r < rows; r++)
                {
                    int own = len0 + r / hpg;
                    var row = new Span<float>(sp + r * len, len);
                    Norms.Softmax(row[..own]);
                    row[own..].Clear();
                }
                WeightedRows.SumRows(vp + g * hd, kvw, sp, len, rows, len, os, hd, hd);
                for (int i = 0; i < nt; i++)
                    new ReadOnlySpan<float>(os + i * hpg * hd, hpg * hd).CopyTo(new Span<float>(op + (t0 + i) * heads * hd + g * hpg * hd, hpg * hd));
            }
        }
    }
}
