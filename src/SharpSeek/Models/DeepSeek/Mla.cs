using System.Numerics.Tensors;
using SharpSeek.Kernels;
using SharpSeek.Tensors;
using SharpSeek.Threading;

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
/// Multi-head Latent Attention in the weight-absorbed form (model.py <c>attn_impl="absorb"</c>):
/// q_lat[h] = W_UK[h]ᵀ q_nope[h]; s[h,t] = scale·(q_lat[h]·c_kv[t] + q_pe[h]·k_pe[t]);
/// o[h] = W_UV[h] Σ_t p[h,t] c_kv[t]. Only c_kv and k_pe are cached.
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
    private readonly QueryLatentWork _phase1;
    private readonly AttendWork _phase2;
    private readonly ValueWork _phase3;

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
            _wUK = w.Grouped(kb).SliceRows(0, kb.Rows);
            _wUV = w.Grouped(vb).SliceRows(0, vb.Rows);
        }
        else
        {
            _wUK = _wUV = w.Matrix(prefix + ".kv_b_proj.weight", _heads * (_dn + _dv), _rkv);
        }
        _wo = w.Linear(prefix + ".o_proj.weight", _dim, _heads * _dv);
        _phase1 = new QueryLatentWork(this);
        _phase2 = new AttendWork(this);
        _phase3 = new ValueWork(this);
    }

    public int CachedValuesPerToken => _rkv + _dr;

    /// <summary>What a plain multi-head cache (k and v per head) would hold per token.</summary>
    public int NaiveCachedValuesPerToken => _heads * (_dq + _dv);

    public long ParameterCount =>
        (_wq?.ElementCount ?? 0) + (_wqA?.ElementCount ?? 0) + (_qNorm?.Length ?? 0) + (_wqB?.ElementCount ?? 0)
        + _wkvA.ElementCount + _kvNorm.Length + (_splitLayout ? _wUK.ElementCount + _wUV.ElementCount : _wUK.ElementCount) + _wo.ElementCount;

    public ILayerCache CreateCache(int maxSequence) => new MlaCache(_rkv, _dr, maxSequence);

    public void Forward(Workspace ws, int tokens, int startPos, ILayerCache layerCache)
    {
        var cache = (MlaCache)layerCache;
        cache.EnsureCapacity(startPos + tokens);
        Project(ws, tokens);
        for (int t = 0; t < tokens; t++) Place(ws, t, startPos + t, cache);
        var pool = WorkerPool.Shared;
        _phase2.Set(ws, startPos, cache, pool);
        Attend(ws, tokens, (long)tokens * _heads * (startPos + tokens) * (_rkv + _dr) >= 65536, pool);
    }

    /// <summary>
    /// Row b of ws is the next token of <paramref name="states"/>[b]: the query, kv_a, absorbed and output projections run
    /// once over all rows (each weight read once per step); each row's latent goes into its own sequence's cache and
    /// each row attends only to that cache.
    /// </summary>
    public void ForwardDecodeBatch(Workspace ws, IReadOnlyList<InferenceState> states, int layer)
    {
        int b = states.Count;
        Project(ws, b);
        long work = 0;
        for (int t = 0; t < b; t++)
        {
            var cache = (MlaCache)states[t].Caches[layer];
            int pos = states[t].Length;
            cache.EnsureCapacity(pos + 1);
            Place(ws, t, pos, cache);
            work += (long)_heads * (pos + 1) * (_rkv + _dr);
        }
        var pool = WorkerPool.Shared;
        _phase2.SetBatch(ws, states, layer, pool);
        Attend(ws, b, work >= 65536, pool);
    }

    /// <summary>Queries [T, H·dq] and the kv_a output [T, rkv + dr] of every row.</summary>
    private void Project(Workspace ws, int tokens)
    {
        if (_rq > 0)
        {
            MatMul.Compute(_wqA!, ws.Xn, tokens, ws.QA);
            for (int t = 0; t < tokens; t++)
            {
                var qa = ws.QA.AsSpan(t * _rq, _rq);
                Norms.RmsNorm(qa, _qNorm, _eps, qa);
            }
            MatMul.Compute(_wqB!, ws.QA, tokens, ws.Q);
        }
        else MatMul.Compute(_wq!, ws.Xn, tokens, ws.Q);
        MatMul.Compute(_wkvA, ws.Xn, tokens, ws.KvA);
    }

    /// <summary>Row t's normalised latent and rotated rope key straight into the cache at <paramref name="pos"/>; RoPE on its queries.</summary>
    private void Place(Workspace ws, int t, int pos, MlaCache cache)
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

    /// <summary>Absorbed query, attention (phase 2 already set), value and output projections over all rows.</summary>
    private void Attend(Workspace ws, int tokens, bool bigAttention, WorkerPool pool)
    {
        bool bigProjections = (long)_heads * _rkv * (_dn + _dv) * tokens >= 65536;
        try
        {
            _phase1.Set(ws, tokens, pool);
            pool.For(_heads, _phase1, bigProjections);
            pool.For(_phase2.Items(tokens, bigAttention ? pool.ThreadCount : 1), _phase2, bigAttention);
            _phase3.Set(ws, tokens, pool);
            pool.For(_heads, _phase3, bigProjections);
        }
        finally { _phase1.Clear(); _phase2.Clear(); _phase3.Clear(); }

        MatMul.Compute(_wo, ws.AttnOut, tokens, ws.Out);
    }

    /// <summary>One reusable activation buffer per worker of <paramref name="pool"/>.</summary>
    private static T[] PerWorker<T>(T[] current, WorkerPool pool) where T : new()
    {
        if (current.Length >= pool.ThreadCount) return current;
        var next = new T[pool.ThreadCount];
        for (int i = 0; i < next.Length; i++) next[i] = i < current.Length ? current[i] : new T();
        return next;
    }

    /// <summary>Row <paramref name="row"/> of <paramref name="w"/> as float32: the mapped row itself for F32, else decoded into scratch.</summary>
    private static float* Row(WeightTensor w, long row, float* scratch)
    {
        if (w.Type == DType.F32) return (float*)w.RowPointer(row);
        w.DequantizeRow(row, new Span<float>(scratch, (int)w.Cols));
        return scratch;
    }

    /// <summary>Phase 1, one item per head: q_lat[t, h] = W_UK[h]ᵀ q_nope[t, h] for every token of the batch.</summary>
    private sealed class QueryLatentWork(Mla m) : IParallelWork
    {
        private Workspace? _ws;
        private int _tokens;
        private WorkerPool? _pool;

        private Q8Activations[] _act = [];
        private Q8TokenGroups[] _groups = [];
        private bool _tiled;

        public void Set(Workspace ws, int tokens, WorkerPool pool)
        {
            _ws = ws; _tokens = tokens; _pool = pool;
            _tiled = MatMul.UseTiles(tokens);
            _act = PerWorker(_act, pool);
            _groups = PerWorker(_groups, pool);
        }
        public void Clear() { _ws = null; _pool = null; }

        public void Execute(int h, int worker)
        {
            var ws = _ws!;
            int rkv = m._rkv, dn = m._dn, dq = m._dq, heads = m._heads;
            if (m._splitLayout && MatMul.UsesIntegerKernels(m._wUK))
            {
                // llama.cpp's mul_mat(k_b, q_nope): q_nope of this head quantized once, then integer products per latent channel
                // (row h·rkv + c of k_b lands at ql[t, h, c], i.e. at t·heads·rkv + row).
                var act = _act[worker];
                fixed (float* qp = ws.Q)
                fixed (float* ql = ws.QLatent)
                {
                    act.Quantize(qp + (long)h * dq, _tokens, dn, (long)heads * dq, MatMul.ActivationFormat(m._wUK, KernelPaths.Current, _tiled));
                    MatMul.QuantizedRows(m._wUK, h * rkv, rkv, act, _groups[worker], ql, (long)heads * rkv, _pool!, worker, _tiled);
                }
                return;
            }
            fixed (float* scratch = _pool!.Scratch(worker, Math.Max(rkv, dn)))
            fixed (float* q = ws.Q)
            fixed (float* qlat = ws.QLatent)
            {
                if (m._splitLayout)
                {
                    // k_b[h] is [rkv, dn]: a plain product per latent channel.
                    for (int c = 0; c < rkv; c++)
                    {
                        float* row = Row(m._wUK, (long)h * rkv + c, scratch);
                        for (int t = 0; t < _tokens; t++)
                            qlat[((long)t * heads + h) * rkv + c] = Dot.F32(row, q + ((long)t * heads + h) * dq, dn);
                    }
                    return;
                }
                for (int t = 0; t < _tokens; t++) new Span<float>(qlat + ((long)t * heads + h) * rkv, rkv).Clear();
                long baseRow = (long)h * (dn + m._dv);
                for (int n = 0; n < dn; n++)
                {
                    float* row = Row(m._wUK, baseRow + n, scratch);
                    var rowSpan = new ReadOnlySpan<float>(row, rkv);
                    for (int t = 0; t < _tokens; t++)
                    {
                        var dst = new Span<float>(qlat + ((long)t * heads + h) * rkv, rkv);
                        TensorPrimitives.MultiplyAdd(rowSpan, q[((long)t * heads + h) * dq + n], dst, dst);
                    }
                }
            }
        }
    }

    /// <summary>
    /// Phase 2, one item per (token, group of heads): causal softmax over the cache, output kept in latent space. In a prefill
    /// all tokens share one cache; in a batched decode token t is the newest of states[t] and reads that sequence's cache.
    /// A token's heads read the same latent keys, so a group's scores and value sums run as multi-row tiles
    /// (<see cref="AttentionScores"/>, <see cref="WeightedRows.SumRows"/>) that load each cached row once per four heads.
    /// </summary>
    private sealed class AttendWork(Mla m) : IParallelWork
    {
        private Workspace? _ws;
        private MlaCache? _cache;
        private IReadOnlyList<InferenceState>? _states;
        private int _startPos, _layer, _groups, _groupHeads;
        private WorkerPool? _pool;

        // Each setter clears the other mode's fields: a prefill after a batched step must not attend to the batch's caches.
        public void Set(Workspace ws, int startPos, MlaCache cache, WorkerPool pool) { _ws = ws; _startPos = startPos; _cache = cache; _states = null; _pool = pool; }
        public void SetBatch(Workspace ws, IReadOnlyList<InferenceState> states, int layer, WorkerPool pool) { _ws = ws; _states = states; _layer = layer; _cache = null; _pool = pool; }
        public void Clear() { _ws = null; _cache = null; _states = null; _pool = null; }

        /// <summary>
        /// Items for <paramref name="tokens"/> rows: whole tokens (all heads) when there are enough of them to keep every worker
        /// busy, else each token's heads split into groups (of at least 4, the tile height) so a decode step still spreads.
        /// </summary>
        public int Items(int tokens, int workers)
        {
            int heads = m._heads;
            _groups = Math.Clamp((4 * workers + tokens - 1) / tokens, 1, Math.Max(1, heads / 4));
            _groupHeads = (heads + _groups - 1) / _groups;
            _groups = (heads + _groupHeads - 1) / _groupHeads;
            return tokens * _groups;
        }

        public void Execute(int index, int worker)
        {
            var ws = _ws!;
            int heads = m._heads, rkv = m._rkv, dr = m._dr, dq = m._dq;
            int t = index / _groups, h0 = index % _groups * _groupHeads, hn = Math.Min(_groupHeads, heads - h0);
            MlaCache cache;
            int len;
            if (_states is { } states) { cache = (MlaCache)states[t].Caches[_layer]; len = states[t].Length + 1; }
            else { cache = _cache!; len = _startPos + t + 1; }
            var scores = _pool!.Scratch(worker, hn * len);
            long row = (long)t * heads + h0;
            fixed (float* sp = scores)
            fixed (float* qlat = ws.QLatent)
            fixed (float* q = ws.Q)
            fixed (float* lat = cache.Latent.Data)
            fixed (float* pe = cache.RopeKey.Data)
            fixed (float* op = ws.OLatent)
            {
                AttentionScores.Compute(qlat + row * rkv, rkv, q + row * dq + m._dn, dq, hn, lat, rkv, rkv, pe, dr, dr, len, m._scale, sp, len);
                for (int i = 0; i < hn; i++) Norms.Softmax(new Span<float>(sp + i * len, len));
                WeightedRows.SumRows(lat, rkv, sp, len, hn, len, op + row * rkv, rkv, rkv);
            }
        }
    }

    /// <summary>Phase 3, one item per head: o[t, h] = W_UV[h] · o_lat[t, h].</summary>
    private sealed class ValueWork(Mla m) : IParallelWork
    {
        private Workspace? _ws;
        private int _tokens;
        private WorkerPool? _pool;

        private Q8Activations[] _act = [];
        private Q8TokenGroups[] _groups = [];
        private bool _tiled;

        public void Set(Workspace ws, int tokens, WorkerPool pool)
        {
            _ws = ws; _tokens = tokens; _pool = pool;
            _tiled = MatMul.UseTiles(tokens);
            _act = PerWorker(_act, pool);
            _groups = PerWorker(_groups, pool);
        }
        public void Clear() { _ws = null; _pool = null; }

        public void Execute(int h, int worker)
        {
            var ws = _ws!;
            int rkv = m._rkv, dv = m._dv, heads = m._heads;
            long baseRow = m._splitLayout ? (long)h * dv : (long)h * (m._dn + dv) + m._dn;
            if (m._splitLayout && MatMul.UsesIntegerKernels(m._wUV))
            {
                // Row h·dv + v of v_b lands at o[t, h, v], i.e. at t·heads·dv + row.
                var act = _act[worker];
                fixed (float* olp = ws.OLatent)
                fixed (float* op = ws.AttnOut)
                {
                    act.Quantize(olp + (long)h * rkv, _tokens, rkv, (long)heads * rkv, MatMul.ActivationFormat(m._wUV, KernelPaths.Current, _tiled));
                    MatMul.QuantizedRows(m._wUV, (int)baseRow, dv, act, _groups[worker], op, (long)heads * dv, _pool!, worker, _tiled);
                }
                return;
            }
            fixed (float* scratch = _pool!.Scratch(worker, rkv))
            fixed (float* olat = ws.OLatent)
            fixed (float* o = ws.AttnOut)
            {
                for (int v = 0; v < dv; v++)
                {
                    float* row = Row(m._wUV, baseRow + v, scratch);
                    for (int t = 0; t < _tokens; t++)
                        o[(long)t * heads * dv + h * dv + v] = Dot.F32(row, olat + ((long)t * heads + h) * rkv, rkv);
                }
            }
        }
    }
}
