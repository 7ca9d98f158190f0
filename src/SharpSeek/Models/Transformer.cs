using SharpSeek.Formats;
using SharpSeek.Kernels;
using SharpSeek.Models.DeepSeek;
using SharpSeek.Tensors;

namespace SharpSeek.Models;

/// <summary>
/// The whole model: embedding → decoder blocks → final RMSNorm → lm_head, for both families.
/// Weights stay memory-mapped; per-sequence state lives in <see cref="InferenceState"/>.
/// One forward pass runs at a time (the kernels already use every core).
/// </summary>
public sealed class Transformer : IDisposable
{
    private readonly ITensorSource _source;
    private readonly WeightTensor _embed;    // [V, D] (grouped when it is the tied head)
    private readonly float[] _norm;          // [D]
    private readonly WeightTensor _head;     // [V, D]
    private readonly Block[] _layers;
    private readonly Rope _rope;
    private readonly object _forwardLock = new();
    private readonly IReadOnlyList<WeightTensor> _weights;
    private readonly WeightArena _arena;              // the grouped copies' memory

    internal Transformer(ModelConfig config, ITensorSource source)
    {
        Config = config;
        _source = source;
        CheckSizesAgainst(config, source);
        var w = new WeightLoader(source);
        int d = config.HiddenSize, v = config.VocabSize;
        int ropeDim = config.Family == ModelFamily.DeepSeek ? config.QkRopeHeadDim : config.HeadDim;
        _rope = new Rope(ropeDim, config.RopeTheta, config.RopeScaling, config.RopeFreqFactors, config.RopeLayout);
        _embed = w.Matrix("model.embed_tokens.weight", v, d);
        _layers = new Block[config.NumHiddenLayers];
        for (int i = 0; i < _layers.Length; i++) _layers[i] = Block.Load(w, config, i, _rope);
        _norm = w.Vector("model.norm.weight", d);
        // A tied head takes the product layout too; the embedding lookup then decodes one row of it per token.
        _head = config.TieWordEmbeddings && !w.Has("lm_head.weight") ? (_embed = w.Grouped(_embed)) : w.Linear("lm_head.weight", v, d);
        if (config.Family == ModelFamily.DeepSeek)
        {
            var mtp = new List<Mtp>();
            for (int j = 0; j < config.NumNextnPredictLayers; j++)
                if (w.Has($"model.layers.{config.NumHiddenLayers + j}.eh_proj.weight"))
                    mtp.Add(new Mtp(w, config, config.NumHiddenLayers + j, _rope));
            MtpModules = mtp;
        }
        w.RejectUnused();
        Rope = _rope;
        _weights = w.HandedOut;
        _arena = w.Arena;
    }

    /// <summary>
    /// Bounds every count and size of the config by the tensors actually present, before anything is allocated or looped
    /// over from them: each layer (and MTP module, and expert) has tensors of its own, and each size is at most the largest
    /// tensor dimension. A lying header (block_count 2³¹−1) then fails at once naming the key, instead of allocating
    /// gigabytes or looping for minutes before the first missing tensor is noticed.
    /// </summary>
    private static void CheckSizesAgainst(ModelConfig c, ITensorSource source)
    {
        long maxDim = 0;
        int tensors = source.Names.Count;
        foreach (string name in source.Names)
        {
            long[] shape;
            try { shape = source.Get(name).Shape; }
            catch (ModelFormatException) { continue; }   // an unreadable tensor fails where it is used, naming itself
            foreach (long d in shape) maxDim = Math.Max(maxDim, d);
        }
        string file = System.IO.Path.GetFileName(source.Path.TrimEnd('/', '\\'));
        Func<string, string> keyName = source is Formats.Gguf.GgufTensorSource g ? k => Formats.Gguf.GgufConfig.KeyName(g.File, k) : k => k;
        void Count(string key, long v)
        {
            if (v > tensors) throw new ModelFormatException($"{file}: key '{keyName(key)}' = {v} exceeds the number of tensors in the checkpoint ({tensors})");
        }
        void Size(string key, long v)
        {
            if (v > maxDim) throw new ModelFormatException($"{file}: key '{keyName(key)}' = {v} exceeds every tensor dimension in the checkpoint (largest {maxDim})");
        }
        Count("num_hidden_layers", c.NumHiddenLayers);
        Count("num_nextn_predict_layers", c.NumNextnPredictLayers);
        Count("num_hidden_layers + num_nextn_predict_layers", (long)c.NumHiddenLayers + c.NumNextnPredictLayers);
        Size("vocab_size", c.VocabSize);
        Size("hidden_size", c.HiddenSize);
        Size("intermediate_size", c.IntermediateSize);
        Size("num_attention_heads", c.NumAttentionHeads);
        Size("num_key_value_heads", c.NumKeyValueHeads);
        if (c.Family == ModelFamily.DeepSeek)
        {
            // Routed experts are tensors of their own (safetensors) or the third dimension of a stacked one (GGUF).
            if (c.NRoutedExperts > Math.Max(tensors, maxDim)) Count("n_routed_experts", c.NRoutedExperts);
            Size("moe_intermediate_size", c.MoeIntermediateSize);
            Size("n_shared_experts × moe_intermediate_size", (long)c.NSharedExperts * c.MoeIntermediateSize);
            Size("q_lora_rank", c.QLoraRank);
            Size("kv_lora_rank", c.KvLoraRank);
            Size("qk_rope_head_dim", c.QkRopeHeadDim);
            Size("qk_nope_head_dim", c.QkNopeHeadDim);
            Size("v_head_dim", c.VHeadDim);
            Size("num_attention_heads × (qk_nope_head_dim + qk_rope_head_dim)", (long)c.NumAttentionHeads * ((long)c.QkNopeHeadDim + c.QkRopeHeadDim));
            Size("num_attention_heads × v_head_dim", (long)c.NumAttentionHeads * c.VHeadDim);
        }
        else
        {
            Size("head_dim", c.HeadDim);
            Size("num_attention_heads × head_dim", (long)c.NumAttentionHeads * c.HeadDim);
        }
    }

    public ModelConfig Config { get; }

    /// <summary>Bytes of all weights (what <see cref="PageIn"/> touches).</summary>
    public long WeightBytes => WeightPager.Distinct(_weights).Sum(t => t.ByteLength);
    public string Path => _source.Path;
    public Rope Rope { get; }
    internal IReadOnlyList<Mtp> MtpModules { get; } = [];
    internal IReadOnlyList<Block> Layers => _layers;
    internal ITensorSource Source => _source;

    /// <summary>Number of MTP modules found in the checkpoint (loaded, not used for decoding yet).</summary>
    public int MtpModuleCount => MtpModules.Count;

    /// <summary>Values cached per token and layer by this model's attention.</summary>
    public int CachedValuesPerTokenPerLayer => _layers[0].Attention.CachedValuesPerToken;

    /// <summary>What a plain multi-head K/V cache would hold per token and layer (for MLA: H·(dq + dv)).</summary>
    public int NaiveCachedValuesPerTokenPerLayer => _layers[0].Attention is Mla mla ? mla.NaiveCachedValuesPerToken : CachedValuesPerTokenPerLayer;

    /// <summary>Parameters of the main model (embedding, layers, norm, head; MTP excluded).</summary>
    public long ParameterCount => _embed.ElementCount + _layers.Sum(l => l.ParameterCount) + _norm.Length + (ReferenceEquals(_head, _embed) ? 0 : _head.ElementCount);

    /// <summary>Parameters touched per token: only the chosen routed experts of each MoE layer count.</summary>
    public long ActiveParameterCount => _embed.ElementCount + _layers.Sum(l => l.ActiveParameterCount) + _norm.Length + (ReferenceEquals(_head, _embed) ? 0 : _head.ElementCount);

    public long MtpParameterCount => MtpModules.Sum(m => m.ParameterCount);

    /// <summary>A fresh sequence. <paramref name="maxSequence"/> ≤ 0 means the model's context length.</summary>
    public InferenceState CreateState(int maxSequence = 0, int maxBatch = 32)
    {
        if (maxSequence <= 0) maxSequence = Config.MaxPositionEmbeddings;
        if (maxBatch <= 0) throw new ArgumentOutOfRangeException(nameof(maxBatch));
        var caches = new ILayerCache[_layers.Length];
        for (int i = 0; i < caches.Length; i++) caches[i] = _layers[i].Attention.CreateCache(maxSequence);
        return new InferenceState(caches, new Workspace(Config, maxBatch), maxSequence);
    }

    /// <summary>
    /// Feeds <paramref name="tokens"/> after what <paramref name="state"/> already holds. With <paramref name="allLogits"/>
    /// writes [T, V] logits (row t after tokens[0..t]); otherwise only the last token's [V].
    /// </summary>
    public void Forward(InferenceState state, ReadOnlySpan<int> tokens, Span<float> logits, bool allLogits = false)
    {
        int v = Config.VocabSize;
        if (tokens.Length == 0) throw new ArgumentException("no tokens to run", nameof(tokens));
        if (logits.Length < (allLogits ? (long)tokens.Length * v : v)) throw new ArgumentException("logits buffer too small", nameof(logits));
        foreach (int t in tokens)
            if ((uint)t >= (uint)v) throw new SharpSeekException($"token id {t} is outside the vocabulary [0, {v})");
        if (state.Length + tokens.Length > state.MaxSequence)
            throw new SharpSeekException($"sequence length {state.Length + tokens.Length} exceeds the context size {state.MaxSequence}");

        lock (_forwardLock)
        {
            var ws = state.Workspace;
            for (int start = 0; start < tokens.Length; start += ws.MaxBatch)
            {
                int n = Math.Min(ws.MaxBatch, tokens.Length - start);
                bool last = start + n == tokens.Length;
                Span<float> rows = allLogits ? logits.Slice(start * v, n * v) : last ? logits[..v] : default;
                // A one-token chunk is a decode step: per-token dots, the same bits as in a batched decode step.
                MatMul.Decoding = n == 1;
                try { Chunk(state, tokens.Slice(start, n), rows, allLogits); }
                finally { MatMul.Decoding = false; }
            }
        }
    }

    private void Chunk(InferenceState state, ReadOnlySpan<int> tokens, Span<float> logits, bool allLogits)
    {
        var ws = state.Workspace;
        var observer = state.Observer;
        int d = Config.HiddenSize, n = tokens.Length, startPos = state.Length, half = ws.RopeDim / 2;
        for (int t = 0; t < n; t++)
        {
            _embed.DequantizeRow(tokens[t], ws.X.AsSpan(t * d, d));
            _rope.CosSin(startPos + t, ws.Cos.AsSpan(t * half, half), ws.Sin.AsSpan(t * half, half));
            observer?.OnHidden(0, startPos + t, ws.X.AsSpan(t * d, d));
        }
        for (int i = 0; i < _layers.Length; i++)
        {
            _layers[i].Forward(ws, n, startPos, state.Caches[i], observer);
            if (observer is not null)
                for (int t = 0; t < n; t++) observer.OnHidden(i + 1, startPos + t, ws.X.AsSpan(t * d, d));
        }
        state.Length = startPos + n;

        float eps = (float)Config.RmsNormEps;
        int first = allLogits || observer is not null ? 0 : n - 1;
        for (int t = first; t < n; t++)
        {
            Norms.RmsNorm(ws.X.AsSpan(t * d, d), _norm, eps, ws.Xn.AsSpan(t * d, d));
            observer?.OnHidden(_layers.Length + 1, startPos + t, ws.Xn.AsSpan(t * d, d));
        }
        if (allLogits) MatMul.Compute(_head, ws.Xn.AsSpan(0, n * d), n, logits);
        else if (!logits.IsEmpty) MatMul.Compute(_head, ws.Xn.AsSpan((n - 1) * d, d), 1, logits);
    }

    private Workspace? _batchWorkspace;

    /// <summary>
    /// Decodes one token for each of several sequences in one pass: embedding, norms, attention projections, feed-forward
    /// and lm_head run on all rows together, so every weight is read once per step; only the attention over the cache
    /// runs per sequence, each on its own.
    /// Writes [B, V] logits, row b for <paramref name="states"/>[b]. Results equal running each sequence alone.
    /// </summary>
    public void ForwardDecodeBatch(IReadOnlyList<InferenceState> states, ReadOnlySpan<int> tokens, Span<float> logits)
    {
        int v = Config.VocabSize, d = Config.HiddenSize, b = states.Count;
        if (b == 0) throw new ArgumentException("no sequences to run", nameof(states));
        if (tokens.Length != b) throw new ArgumentException($"{tokens.Length} tokens for {b} sequences", nameof(tokens));
        if (logits.Length < (long)b * v) throw new ArgumentException("logits buffer too small", nameof(logits));
        for (int i = 0; i < b; i++)
        {
            if ((uint)tokens[i] >= (uint)v) throw new SharpSeekException($"token id {tokens[i]} is outside the vocabulary [0, {v})");
            if (states[i].Length + 1 > states[i].MaxSequence)
                throw new SharpSeekException($"sequence length {states[i].Length + 1} exceeds the context size {states[i].MaxSequence}");
            for (int j = 0; j < i; j++)
                if (ReferenceEquals(states[i], states[j])) throw new ArgumentException("a sequence appears twice in one batch", nameof(states));
        }
        lock (_forwardLock)
        {
            if (_batchWorkspace is null || _batchWorkspace.MaxBatch < b) _batchWorkspace = new Workspace(Config, Math.Max(b, 8));
            var ws = _batchWorkspace;
            int half = ws.RopeDim / 2;
            for (int t = 0; t < b; t++)
            {
                _embed.DequantizeRow(tokens[t], ws.X.AsSpan(t * d, d));
                _rope.CosSin(states[t].Length, ws.Cos.AsSpan(t * half, half), ws.Sin.AsSpan(t * half, half));
            }
            MatMul.Decoding = true;
            try
            {
                for (int i = 0; i < _layers.Length; i++) _layers[i].ForwardDecodeBatch(ws, states, i);
                foreach (var state in states) state.Length++;
                float eps = (float)Config.RmsNormEps;
                for (int t = 0; t < b; t++) Norms.RmsNorm(ws.X.AsSpan(t * d, d), _norm, eps, ws.Xn.AsSpan(t * d, d));
                MatMul.Compute(_head, ws.Xn.AsSpan(0, b * d), b, logits);
            }
            finally { MatMul.Decoding = false; }
        }
    }

    /// <summary>
    /// Touches every page of every weight so the first answer does not wait on the disk, reporting bytes done
    /// (monotone, ending at <see cref="WeightBytes"/>) to <paramref name="progress"/>; synchronous reports arrive on this thread.
    /// </summary>
    public void PageIn(IProgress<LoadProgress>? progress = null, long memoryBudget = -1) => WeightPager.PageIn(_weights, progress, memoryBudget);

    /// <summary>Unmaps the files and frees the in-memory weight copies at once; the model must not be used afterwards.</summary>
    public void Dispose()
    {
        _source.Dispose();
        _arena.Dispose();
    }
}
