using SharpSeek.Formats;
using SharpSeek.Kernels;
using SharpSeek.Models.DeepSeek;
using SharpSeek.Tensors;

namespace SharpSeek.Models;

/// <summary>
/// The whole model: embedding → decoder blocks → final RMSNorm → lm_head, for both families.
/// Weights stay memory-mapped; per-sequence state lives in <see cref="InferenceState"/>. One forward runs at a time (the
/// kernels already use every core); a forward takes any mix of sequences (<see cref="Segment"/>) and runs each layer once
/// for all of their rows.
/// </summary>
public sealed unsafe class Transformer : IDisposable
{
    /// <summary>
    /// Rows per pass at most: a step with more (a long prompt, many sequences) runs in several passes. The split changes no
    /// result (every row is computed the same way whatever else is in its pass) and bounds the workspace.
    /// </summary>
    internal const int MaxPassRows = 128;

    /// <summary>Rows per lm_head call: the head's output for them is held at once ([rows, V]).</summary>
    private const int HeadRows = 32;

    private readonly ITensorSource _source;
    private readonly WeightTensor _embed;    // [V, D] (grouped when it is the tied head)
    private readonly float[] _norm;          // [D]
    private readonly WeightTensor _head;     // [V, D]
    private readonly Block[] _layers;
    private readonly Rope _rope;
    private readonly object _forwardLock = new();
    private readonly IReadOnlyList<WeightTensor> _weights;
    private readonly WeightArena _arena;              // the grouped copies' memory
    private readonly Pass _pass;
    private readonly List<(int Run, int Offset)> _owners = [];
    private float[] _headIn = [], _headOut = [];

    internal Transformer(ModelConfig config, ITensorSource source, LoadOptions? options = null)
    {
        options ??= LoadOptions.Default;
        Config = config;
        Kernels = options.Kernels;
        _source = source;
        CheckSizesAgainst(config, source);
        var w = new WeightLoader(source, options.GroupRows ? options.Kernels.Path : null);
        int d = config.HiddenSize, v = config.VocabSize;
        int ropeDim = config.Family == ModelFamily.DeepSeek ? config.QkRopeHeadDim : config.HeadDim;
        _rope = new Rope(ropeDim, config.RopeTheta, config.RopeScaling, config.RopeFreqFactors, config.RopeLayout);
        _embed = w.Matrix("model.embed_tokens.weight", v, d);
        _layers = new Block[config.NumHiddenLayers];
        for (int i = 0; i < _layers.Length; i++) _layers[i] = Block.Load(w, config, i, _rope);
        _norm = w.Vector("model.norm.weight", d);
        // A tied head takes the product layout too; the embedding lookup then decodes one row of it per token.
        _head = config.TieWordEmbeddings && !w.Has("lm_head.weight") ? (_embed = w.ForProducts(_embed)) : w.Linear("lm_head.weight", v, d);
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
        _pass = new Pass(config);
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

    /// <summary>How this model runs its kernels (pool, instruction-set path, integer products), fixed when it was loaded.</summary>
    public KernelPolicy Kernels { get; }

    /// <summary>Bytes of all weights (what <see cref="PageIn"/> touches).</summary>
    public long WeightBytes => WeightPager.Distinct(_weights).Sum(t => t.ByteLength);
    public string Path => _source.Path;
    public Rope Rope { get; }
    internal IReadOnlyList<Mtp> MtpModules { get; } = [];
    internal IReadOnlyList<Block> Layers => _layers;
    internal ITensorSource Source => _source;
    internal WeightTensor Embedding => _embed;
    internal WeightTensor Head => _head;

    /// <summary>Number of MTP modules found in the checkpoint (what <c>--speculate mtp</c> drafts with).</summary>
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
    public InferenceState CreateState(int maxSequence = 0)
    {
        if (maxSequence <= 0) maxSequence = Config.MaxPositionEmbeddings;
        var caches = new ILayerCache[_layers.Length];
        for (int i = 0; i < caches.Length; i++) caches[i] = _layers[i].Attention.CreateCache(maxSequence);
        return new InferenceState(caches, maxSequence);
    }

    /// <summary>
    /// Feeds <paramref name="tokens"/> after what <paramref name="state"/> already holds. With <paramref name="allLogits"/>
    /// writes [T, V] logits (row t after tokens[0..t]); otherwise only the last token's [V]. The same forward as a one-segment
    /// <see cref="Forward(IReadOnlyList{Segment})"/>.
    /// </summary>
    public void Forward(InferenceState state, ReadOnlySpan<int> tokens, Span<float> logits, bool allLogits = false)
    {
        int v = Config.VocabSize;
        if (logits.Length < (allLogits ? (long)tokens.Length * v : v)) throw new ArgumentException("logits buffer too small", nameof(logits));
        fixed (int* tp = tokens)
        fixed (float* lp = logits)
        {
            var run = new SegmentRun(state, tp, tokens.Length, lp, allLogits && tokens.Length > 1, null, false);
            var runs = System.Runtime.InteropServices.MemoryMarshal.CreateSpan(ref run, 1);
            Validate(runs);
            Run(runs, null);
        }
    }

    /// <summary>
    /// One forward step over any mix of sequences: each segment's tokens are fed after what its state holds (decode rows,
    /// speculative verifications, prefill chunks), each layer runs once for all rows, and each segment gets its logits and
    /// hidden states as it asked (<see cref="Segment.Logits"/>, <see cref="Segment.Hidden"/>). A sequence's results are bit for
    /// bit what it gets alone, whatever else is in the step and however its tokens are cut into steps.
    /// </summary>
    public void Forward(IReadOnlyList<Segment> segments)
    {
        int v = Config.VocabSize, d = Config.HiddenSize, count = segments.Count;
        if (count == 0) throw new ArgumentException("no segments to run", nameof(segments));
        var handles = new System.Buffers.MemoryHandle[3 * count];
        var runs = new SegmentRun[count];
        try
        {
            for (int i = 0; i < count; i++)
            {
                var s = segments[i];
                int n = s.Tokens.Length;
                bool allLogits = OutputRows(s.Logits.Length, n, v, "logits", i), allHidden = OutputRows(s.Hidden.Length, n, d, "hidden", i);
                handles[3 * i] = s.Tokens.Pin();
                handles[3 * i + 1] = s.Logits.Pin();
                handles[3 * i + 2] = s.Hidden.Pin();
                runs[i] = new SegmentRun(s.State, (int*)handles[3 * i].Pointer, n,
                    s.Logits.IsEmpty ? null : (float*)handles[3 * i + 1].Pointer, allLogits,
                    s.Hidden.IsEmpty ? null : (float*)handles[3 * i + 2].Pointer, allHidden);
            }
            Validate(runs);
            Run(runs, null);
        }
        finally
        {
            foreach (var h in handles) h.Dispose();
        }
    }

    /// <summary>
    /// DeepSeek's MTP layer over positions <see cref="InferenceState.MtpLength"/>.. of <paramref name="state"/>: row i takes the
    /// main model's final hidden state at that position (<paramref name="hidden"/>, [T, D], as <see cref="Segment.Hidden"/> gives
    /// it) and the token that follows it (<paramref name="nextTokens"/>), and gives the logits of the token after that ([V], or
    /// [T, V] with <paramref name="allLogits"/>). The MTP layer's cache then holds these positions.
    /// </summary>
    public void ForwardMtp(InferenceState state, ReadOnlySpan<int> nextTokens, ReadOnlySpan<float> hidden, Span<float> logits, bool allLogits = false)
    {
        int v = Config.VocabSize, d = Config.HiddenSize, n = nextTokens.Length;
        if (MtpModules.Count == 0) throw new SharpSeekException($"{System.IO.Path.GetFileName(Path)}: the model has no MTP layer");
        if (hidden.Length < (long)n * d) throw new ArgumentException("hidden buffer too small", nameof(hidden));
        if (logits.Length < (allLogits ? (long)n * v : v)) throw new ArgumentException("logits buffer too small", nameof(logits));
        foreach (int t in nextTokens)
            if ((uint)t >= (uint)v) throw new SharpSeekException($"token id {t} is outside the vocabulary [0, {v})");
        fixed (int* tp = nextTokens)
        fixed (float* hp = hidden)
        fixed (float* lp = logits)
        {
            var run = new SegmentRun(state, tp, n, lp, allLogits && n > 1, null, false, hp) { Start = state.MtpLength };
            ForwardMtp(System.Runtime.InteropServices.MemoryMarshal.CreateSpan(ref run, 1));
        }
        state.MtpLength += n;
    }

    /// <summary>
    /// A pass of DeepSeek's MTP layer (<paramref name="module"/>): row i of a sequence combines the main model's final hidden
    /// state at position i (<see cref="SegmentRun.Input"/>) with the embedding of the token that follows it
    /// (<see cref="SegmentRun.Tokens"/>): h' = eh_proj · [enorm(embed(t_{i+1})); hnorm(h_i)], one decoder block over the MTP layer's own
    /// cache at position i, then shared_head.norm and shared_head.head predict token i + 2. Outputs as the main forward's; the
    /// hidden output is the normed block output (the next draft's input when drafts are chained). Rows start at each run's
    /// <see cref="SegmentRun.Start"/>; the caller keeps <see cref="InferenceState.MtpLength"/>.
    /// </summary>
    internal void ForwardMtp(Span<SegmentRun> runs, int module = 0)
    {
        var mtp = MtpModules[module];
        foreach (ref var r in runs)
        {
            if (r.Count == 0) throw new ArgumentException("an MTP segment has no rows");
            r.State.MtpCaches ??= [mtp.Block.Attention.CreateCache(r.State.MaxSequence)];
            if (r.Start + r.Count > r.State.MaxSequence) throw new SharpSeekException($"MTP position {r.Start + r.Count} exceeds the context size {r.State.MaxSequence}");
        }
        Run(runs, mtp);
    }

    /// <summary>Whether an output buffer of <paramref name="length"/> floats holds every row's (true) or the last row's (false).</summary>
    private static bool OutputRows(int length, int rows, int width, string what, int segment)
    {
        if (length == 0 || length == width) return false;
        if (length == (long)rows * width) return true;
        throw new ArgumentException($"segment {segment}: the {what} buffer holds {length} floats; expected 0, {width} (last token) or {(long)rows * width} (every token)");
    }

    private void Validate(ReadOnlySpan<SegmentRun> runs)
    {
        int v = Config.VocabSize;
        for (int i = 0; i < runs.Length; i++)
        {
            var r = runs[i];
            if (r.Count == 0) throw new ArgumentException($"segment {i}: no tokens to run");
            for (int t = 0; t < r.Count; t++)
                if ((uint)r.Tokens[t] >= (uint)v) throw new SharpSeekException($"token id {r.Tokens[t]} is outside the vocabulary [0, {v})");
            if (r.State.Length + r.Count > r.State.MaxSequence)
                throw new SharpSeekException($"sequence length {r.State.Length + r.Count} exceeds the context size {r.State.MaxSequence}");
            for (int j = 0; j < i; j++)
                if (ReferenceEquals(r.State, runs[j].State)) throw new ArgumentException("a sequence appears twice in one step");
        }
    }

    /// <summary>
    /// Runs the segments in passes of at most <see cref="MaxPassRows"/> rows. The states' lengths move only once every pass is
    /// done: a step that fails leaves every sequence as it was (what it wrote past its length is never read).
    /// </summary>
    private void Run(Span<SegmentRun> runs, Mtp? mtp)
    {
        lock (_forwardLock)
        {
            if (mtp is null)
                for (int i = 0; i < runs.Length; i++) runs[i].Start = runs[i].State.Length;
            int seg = 0, offset = 0;
            while (seg < runs.Length)
            {
                _pass.Clear();
                _owners.Clear();
                while (seg < runs.Length && _pass.Rows < MaxPassRows)
                {
                    ref var r = ref runs[seg];
                    int take = Math.Min(r.Count - offset, MaxPassRows - _pass.Rows);
                    if (mtp is null) _pass.Add(r.State, r.State.Caches, r.Start + offset, take);
                    else _pass.Add(r.State, r.State.MtpCaches!, r.Start + offset, take, r.State.MtpStart);
                    _owners.Add((seg, offset));
                    offset += take;
                    if (offset == r.Count) { seg++; offset = 0; }
                }
                _pass.Prepare(Kernels);
                if (mtp is null) RunPass(runs);
                else RunMtpPass(runs, mtp);
            }
            if (mtp is null)
                foreach (ref var r in runs) r.State.Length = r.Start + r.Count;
        }
    }

    private void RunMtpPass(Span<SegmentRun> runs, Mtp mtp)
    {
        var pass = _pass;
        var ws = pass.Ws;
        int d = Config.HiddenSize, half = ws.RopeDim / 2, n = pass.Rows;
        float eps = (float)Config.RmsNormEps;
        if (_pair.Length < n * 2 * d) _pair = new float[Math.Max(n, 16) * 2 * d];
        for (int i = 0; i < pass.Segments.Length; i++)
        {
            var seg = pass.Segments[i];
            var (run, offset) = _owners[i];
            for (int j = 0; j < seg.Rows; j++)
            {
                int row = seg.FirstRow + j, pos = seg.StartPosition + j;
                // [enorm(embed(t_{i+1})); hnorm(h_i)]: the embedding first, as vLLM and SGLang wire it.
                var pair = _pair.AsSpan(row * 2 * d, 2 * d);
                mtp.Embed.DequantizeRow(runs[run].Tokens[offset + j], pair[..d]);
                Norms.RmsNorm(pair[..d], mtp.ENorm, eps, pair[..d]);
                Norms.RmsNorm(new ReadOnlySpan<float>(runs[run].Input + (long)(offset + j) * d, d), mtp.HNorm, eps, pair[d..]);
                _rope.CosSin(pos, ws.Cos.AsSpan(row * half, half), ws.Sin.AsSpan(row * half, half));
            }
        }
        MatMul.Compute(pass.Kernels, mtp.EhProj, _pair.AsSpan(0, n * 2 * d), n, ws.X);
        mtp.Block.Forward(pass, 0);
        Outputs(runs, mtp.HeadNorm, mtp.Head, ws.X);
    }

    private float[] _pair = [];

    private void RunPass(Span<SegmentRun> runs)
    {
        var pass = _pass;
        var ws = pass.Ws;
        int d = Config.HiddenSize, half = ws.RopeDim / 2;
        bool observed = false;
        for (int i = 0; i < pass.Segments.Length; i++)
        {
            var seg = pass.Segments[i];
            var (run, offset) = _owners[i];
            var observer = seg.State.Observer;
            observed |= observer is not null;
            for (int j = 0; j < seg.Rows; j++)
            {
                int row = seg.FirstRow + j, pos = seg.StartPosition + j;
                _embed.DequantizeRow(runs[run].Tokens[offset + j], ws.X.AsSpan(row * d, d));
                _rope.CosSin(pos, ws.Cos.AsSpan(row * half, half), ws.Sin.AsSpan(row * half, half));
                observer?.OnHidden(0, pos, ws.X.AsSpan(row * d, d));
            }
        }
        for (int i = 0; i < _layers.Length; i++)
        {
            _layers[i].Forward(pass, i);
            if (observed) Observe(i + 1, ws.X);
        }
        Outputs(runs, _norm, _head, ws.X);
    }

    /// <summary>Reports the pass's rows of <paramref name="x"/> to the observers of their sequences as hidden state <paramref name="index"/>.</summary>
    private void Observe(int index, float[] x)
    {
        int d = Config.HiddenSize;
        foreach (var seg in _pass.Segments)
            if (seg.State.Observer is { } o)
                for (int j = 0; j < seg.Rows; j++) o.OnHidden(index, seg.StartPosition + j, x.AsSpan((seg.FirstRow + j) * d, d));
    }

    /// <summary>
    /// The final norm of the rows whose segments want an output (all of them when a sequence is observed), their hidden states,
    /// and <paramref name="head"/> over the rows that want logits: gathered into one product so the head streams once per pass.
    /// </summary>
    private void Outputs(Span<SegmentRun> runs, float[] norm, WeightTensor head, float[] x)
    {
        var pass = _pass;
        var ws = pass.Ws;
        int d = Config.HiddenSize, v = Config.VocabSize;
        float eps = (float)Config.RmsNormEps;
        int wanted = 0;
        for (int i = 0; i < pass.Segments.Length; i++)
        {
            var seg = pass.Segments[i];
            var (run, offset) = _owners[i];
            var r = runs[run];
            for (int j = 0; j < seg.Rows; j++)
            {
                int token = offset + j, row = seg.FirstRow + j;
                bool last = token == r.Count - 1;
                bool logits = r.Logits != null && (r.AllLogits || last), hidden = r.Hidden != null && (r.AllHidden || last);
                if (!logits && !hidden && seg.State.Observer is null) continue;
                var xn = ws.Xn.AsSpan(row * d, d);
                Norms.RmsNorm(x.AsSpan(row * d, d), norm, eps, xn);
                seg.State.Observer?.OnHidden(_layers.Length + 1, seg.StartPosition + j, xn);
                if (hidden) xn.CopyTo(new Span<float>(r.Hidden + (r.AllHidden ? (long)token * d : 0), d));
                if (!logits) continue;
                if (_headIn.Length < (wanted + 1) * d) Array.Resize(ref _headIn, Math.Max((wanted + 1) * d, 2 * _headIn.Length));
                xn.CopyTo(_headIn.AsSpan(wanted * d, d));
                _headTargets.Add((IntPtr)(r.Logits + (r.AllLogits ? (long)token * v : 0)));
                wanted++;
            }
        }
        try
        {
            for (int first = 0; first < wanted; first += HeadRows)
            {
                int n = Math.Min(HeadRows, wanted - first);
                if (wanted == 1)
                {
                    // One row (a decode step of one sequence): straight into its logits.
                    MatMul.Compute(pass.Kernels, head, _headIn.AsSpan(0, d), 1, new Span<float>((float*)_headTargets[0], v));
                    break;
                }
                if (_headOut.Length < n * v) _headOut = new float[Math.Min(HeadRows, wanted) * v];
                MatMul.Compute(pass.Kernels, head, _headIn.AsSpan(first * d, n * d), n, _headOut);
                for (int i = 0; i < n; i++) _headOut.AsSpan(i * v, v).CopyTo(new Span<float>((float*)_headTargets[first + i], v));
            }
        }
        finally { _headTargets.Clear(); }
    }

    private readonly List<IntPtr> _headTargets = [];

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

/// <summary>
/// A segment's tokens and output buffers as pinned pointers, for the length of one forward. In an MTP pass the tokens are the
/// ones that follow each row's position and <see cref="Input"/> holds the main model's hidden states of the rows ([count, D]).
/// </summary>
internal unsafe struct SegmentRun(InferenceState state, int* tokens, int count, float* logits, bool allLogits, float* hidden, bool allHidden, float* input = null)
{
    public readonly InferenceState State = state;
    public readonly int* Tokens = tokens;
    public readonly int Count = count;
    public readonly float* Logits = logits;
    public readonly bool AllLogits = allLogits;
    public readonly float* Hidden = hidden;
    public readonly bool AllHidden = allHidden;
    public readonly float* Input = input;

    /// <summary>The position of the first row: the state's length when a main step began; set by the caller for an MTP pass.</summary>
    public int Start;
}
