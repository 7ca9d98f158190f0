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

/// <summary>Grouped-query attention of Qwen2 / Llama: q/k/v projections (optional biases), RoPE, causal softmax, o_proj.</summary>
internal sealed class GqaAttention : IAttention
{
    private readonly WeightTensor _wq, _wk, _wv, _wo;     // [H·hd, D], [kvH·hd, D] ×2, [D, H·hd]
    private readonly float[]? _bq, _bk, _bv;
    private readonly Rope _rope;
    private readonly int _dim, _heads, _kvHeads, _hd;
    private readonly float _scale;
    private readonly AttendWork _attend;

    public GqaAttention(WeightLoader w, string prefix, ModelConfig c, Rope rope)
    {
        _dim = c.HiddenSize; _heads = c.NumAttentionHeads; _kvHeads = c.NumKeyValueHeads; _hd = c.HeadDim;
        _rope = rope;
        _scale = 1f / MathF.Sqrt(_hd);
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
        _attend = new AttendWork(this);
    }

    public int CachedValuesPerToken => 2 * _kvHeads * _hd;

    public long ParameterCount => _wq.ElementCount + _wk.ElementCount + _wv.ElementCount + _wo.ElementCount
        + (_bq?.Length ?? 0) + (_bk?.Length ?? 0) + (_bv?.Length ?? 0);

    public ILayerCache CreateCache(int maxSequence) => new KvCache(_kvHeads * _hd, maxSequence);

    public void Forward(Workspace ws, int tokens, int startPos, ILayerCache layerCache)
    {
        var cache = (KvCache)layerCache;
        cache.EnsureCapacity(startPos + tokens);
        Project(ws, tokens);
        for (int t = 0; t < tokens; t++) Place(ws, t, startPos + t, cache);
        var pool = WorkerPool.Shared;
        _attend.Set(ws, startPos, cache, pool);
        pool.For(tokens * _heads, _attend, (long)tokens * _heads * (startPos + tokens) * _hd >= 32768);
        _attend.Clear();
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
        pool.For(b * _heads, _attend, work >= 32768);
        _attend.Clear();
        MatMul.Compute(_wo, ws.AttnOut, b, ws.Out);
    }

    private void Project(Workspace ws, int tokens)
    {
        MatMul.Compute(_wq, ws.Xn, tokens, ws.Q);
        MatMul.Compute(_wk, ws.Xn, tokens, ws.K);
        MatMul.Compute(_wv, ws.Xn, tokens, ws.V);
    }

    /// <summary>Row t's key and value into the cache at <paramref name="pos"/>, biases added, RoPE (ws Cos/Sin row t) on q and k.</summary>
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
        var cos = ws.Cos.AsSpan(t * half, half);
        var sin = ws.Sin.AsSpan(t * half, half);
        for (int h = 0; h < _heads; h++) _rope.Apply(q.Slice(h * _hd, _hd), cos, sin);
        for (int h = 0; h < _kvHeads; h++) _rope.Apply(k.Slice(h * _hd, _hd), cos, sin);
    }

    /// <summary>
    /// One item per (token, head): causal softmax(q·K/√hd)·V against the head's key/value group. In a prefill all tokens
    /// share one cache; in a batched decode token t is the newest of states[t] and reads that sequence's cache.
    /// </summary>
    private sealed unsafe class AttendWork(GqaAttention a) : IParallelWork
    {
        private Workspace? _ws;
        private KvCache? _cache;
        private IReadOnlyList<InferenceState>? _states;
        private int _startPos, _layer;
        private WorkerPool? _pool;

        public void Set(Workspace ws, int startPos, KvCache cache, WorkerPool pool) { _ws = ws; _startPos = startPos; _cache = cache; _pool = pool; }
        public void SetBatch(Workspace ws, IReadOnlyList<InferenceState> states, int layer, WorkerPool pool) { _ws = ws; _states = states; _layer = layer; _pool = pool; }
        public void Clear() { _ws = null; _cache = null; _states = null; _pool = null; }

        public void Execute(int index, int worker)
        {
            var ws = _ws!;
            int heads = a._heads, hd = a._hd, kvw = a._kvHeads * hd;
            int t = index / heads, h = index % heads, g = h / (heads / a._kvHeads);
            KvCache cache;
            int len;
            if (_states is { } states) { cache = (KvCache)states[t].Caches[_layer]; len = states[t].Length + 1; }
            else { cache = _cache!; len = _startPos + t + 1; }
            var scores = _pool!.Scratch(worker, len).AsSpan(0, len);
            var q = ws.Q.AsSpan(t * heads * hd + h * hd, hd);
            float[] keys = cache.Keys.Data, values = cache.Values.Data;
            for (int s = 0; s < len; s++) scores[s] = a._scale * TensorPrimitives.Dot(q, keys.AsSpan(s * kvw + g * hd, hd));
            Norms.Softmax(scores);
            fixed (float* vp = values)
            fixed (float* op = ws.AttnOut)
                WeightedRows.Sum(vp + g * hd, kvw, scores, op + t * heads * hd + h * hd, hd);
        }
    }
}
