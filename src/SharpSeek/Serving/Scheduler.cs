using System.Diagnostics;
using System.Threading.Channels;
using SharpSeek.Generation;
using SharpSeek.Models;

namespace SharpSeek.Serving;

/// <summary>
/// Continuous batching at the step level: one loop owns the model; each step admits waiting sequences (up to
/// <see cref="SchedulerOptions.MaxActive"/>), then advances every active one by a prefill chunk or one decoded
/// token. Sequences join and leave between steps; a cancelled one is dropped before its next step and its state
/// goes to the <see cref="PrefixCache"/>. All decoding sequences advance together in one
/// <see cref="Transformer.ForwardDecodeBatch"/> (feed-forward and head weights read once per step; attention per
/// sequence); prefill chunks run per sequence. Each sequence owns its sampler, and batched logits equal solo ones,
/// so a seed gives the same output whatever else runs.
/// </summary>
public sealed class Scheduler : IDisposable
{
    private sealed class Sequence(SequenceHandle handle)
    {
        public readonly SequenceHandle Handle = handle;
        public InferenceState? State;
        public Sampler? Sampler;
        public List<int> Fed = [];
        public int PromptDone;
        public int Produced;
        public float[]? Logits;
        public float[]? Raw;
        public int LastToken;
        /// <summary>Why the sequence failed, handed to its caller when it leaves the batch.</summary>
        public Exception? Error;
    }

    private readonly Transformer _model;
    private readonly Channel<Sequence> _queue;
    private readonly List<Sequence> _active = [];
    private readonly Thread _loop;
    private readonly CancellationTokenSource _stop = new();
    private int _queued;

    public Scheduler(Transformer model, SchedulerOptions? options = null)
    {
        _model = model;
        Options = options ?? new SchedulerOptions();
        if (Options.MaxActive <= 0 || Options.MaxQueue < 0 || Options.PrefillChunk <= 0 || Options.BlockSize <= 0)
            throw new ArgumentException("scheduler limits must be positive", nameof(options));
        var disk = Options.PrefixCacheDirectory is { } dir
            ? new PrefixBlockStore(dir, PrefixBlockLayout.Of(model, Options.BlockSize), Options.PrefixCacheMaxBytes)
            : null;
        PrefixCache = new PrefixCache(Options.PrefixCacheEntries, Options.BlockSize, disk, () => _model.CreateState(ContextSize, Options.PrefillChunk));
        _queue = Channel.CreateUnbounded<Sequence>(new UnboundedChannelOptions { SingleReader = true });
        Metrics.CacheBudgetBytes = (long)(Options.MaxActive + Options.PrefixCacheEntries) * ContextSize * 4 * model.CachedValuesPerTokenPerLayer * model.Config.NumHiddenLayers;
        _loop = new Thread(Run) { IsBackground = true, Name = "sharpseek-scheduler" };
        _loop.Start();
    }

    public SchedulerOptions Options { get; }
    public PrefixCache PrefixCache { get; }
    public SchedulerMetrics Metrics { get; } = new();
    public int ContextSize => Math.Min(Options.ContextSize, _model.Config.MaxPositionEmbeddings);

    /// <summary>Queues a sequence. Throws <see cref="QueueFullException"/> when the queue is full, <see cref="SharpSeekException"/> for a bad request.</summary>
    public SequenceHandle Submit(SequenceRequest request)
    {
        if (request.Prompt.Length == 0) throw new SharpSeekException("the prompt is empty: at least one token is needed");
        if (request.MaxTokens < 0) throw new SharpSeekException($"max_tokens must be ≥ 0, is {request.MaxTokens}");
        if (request.Prompt.Length >= ContextSize)
            throw new SharpSeekException($"the prompt ({request.Prompt.Length} tokens) does not fit the context ({ContextSize} tokens)");
        foreach (int t in request.Prompt)
            if ((uint)t >= (uint)_model.Config.VocabSize) throw new SharpSeekException($"token id {t} is outside the vocabulary");
        request.Sampling.Validate();
        if (Interlocked.Increment(ref _queued) > Options.MaxQueue)
        {
            Interlocked.Decrement(ref _queued);
            Interlocked.Increment(ref Metrics._rejected);
            throw new QueueFullException(Options.MaxQueue);
        }
        var handle = new SequenceHandle(request);
        Interlocked.Increment(ref Metrics._requests);
        Metrics.QueueDepth = Volatile.Read(ref _queued);
        _queue.Writer.TryWrite(new Sequence(handle));
        return handle;
    }

    private void Run()
    {
        var clock = new Stopwatch();
        while (!_stop.IsCancellationRequested)
        {
            Admit();
            if (_active.Count == 0)
            {
                try { _queue.Reader.WaitToReadAsync(_stop.Token).AsTask().Wait(); }
                catch (AggregateException) { return; }
                continue;
            }
            clock.Restart();
            StepAll();
            Interlocked.Increment(ref Metrics._steps);
            Metrics._busySeconds += clock.Elapsed.TotalSeconds;
        }
    }

    private void Admit()
    {
        while (_active.Count < Options.MaxActive && _queue.Reader.TryRead(out var seq))
        {
            Metrics.QueueDepth = Interlocked.Decrement(ref _queued);
            if (seq.Handle.IsCancelled)
            {
                Interlocked.Increment(ref Metrics._cancelled);
                seq.Handle.Writer.TryComplete();
                continue;
            }
            var request = seq.Handle.Request;
            seq.State = PrefixCache.Take(request.Prompt, out int reused) ?? _model.CreateState(ContextSize, Options.PrefillChunk);
            seq.PromptDone = reused;
            seq.Fed.AddRange(request.Prompt.AsSpan(0, reused));
            seq.Handle.CachedTokens = reused;
            seq.Sampler = new Sampler(_model.Config.VocabSize, request.Sampling);
            foreach (int t in request.Prompt) seq.Sampler.Observe(t);
            seq.Logits = new float[_model.Config.VocabSize];
            Interlocked.Add(ref Metrics._promptTokens, request.Prompt.Length);
            Interlocked.Add(ref Metrics._cachedTokens, reused);
            _active.Add(seq);
        }
        Metrics.ActiveSequences = _active.Count;
        Metrics.ActiveCacheBytes = _active.Sum(q => q.State?.CacheBytes ?? 0);
    }

    /// <summary>
    /// One step: cancelled sequences leave, prefilling ones advance by a chunk each, and all decoding ones advance by
    /// one token in a single batched forward pass.
    /// </summary>
    private void StepAll()
    {
        var decoding = new List<Sequence>(_active.Count);
        var ended = new List<Sequence>();
        foreach (var seq in _active)
        {
            try
            {
                if (seq.Handle.IsCancelled) { Cancel(seq); ended.Add(seq); }
                else if (seq.PromptDone < seq.Handle.Request.Prompt.Length) { if (Prefill(seq)) ended.Add(seq); }
                else decoding.Add(seq);
            }
            catch (Exception e)
            {
                Fail(seq, e);
                ended.Add(seq);
            }
        }
        if (decoding.Count > 0)
        {
            int v = _model.Config.VocabSize;
            if (_batchLogits.Length < decoding.Count * v) _batchLogits = new float[decoding.Count * v];
            var states = new InferenceState[decoding.Count];
            var tokens = new int[decoding.Count];
            for (int i = 0; i < decoding.Count; i++) { states[i] = decoding[i].State!; tokens[i] = decoding[i].LastToken; }
            try
            {
                _model.ForwardDecodeBatch(states, tokens, _batchLogits);
            }
            catch (Exception e)
            {
                foreach (var seq in decoding) { Fail(seq, e); ended.Add(seq); }
                decoding.Clear();
            }
            for (int i = 0; i < decoding.Count; i++)
            {
                var seq = decoding[i];
                _batchLogits.AsSpan(i * v, v).CopyTo(seq.Logits);
                seq.Fed.Add(seq.LastToken);
                if (Emit(seq)) ended.Add(seq);
            }
        }
        foreach (var seq in ended)
        {
            Release(seq);
            _active.Remove(seq);
        }
        Metrics.ActiveSequences = _active.Count;
        Metrics.ActiveCacheBytes = _active.Sum(q => q.State?.CacheBytes ?? 0);
        // Callers see the end only after the sequence has left the batch, its cache is in the prefix cache and the
        // metrics count it out: a caller that awaits its tokens and then looks at either finds them settled.
        foreach (var seq in ended) seq.Handle.Writer.TryComplete(seq.Error);
    }

    private float[] _batchLogits = [];

    /// <summary>Chunked prefill: a long prompt takes several steps and the other sequences keep decoding. True when the sequence ended.</summary>
    private bool Prefill(Sequence seq)
    {
        var request = seq.Handle.Request;
        int n = Math.Min(Options.PrefillChunk, request.Prompt.Length - seq.PromptDone);
        var chunk = request.Prompt.AsSpan(seq.PromptDone, n);
        _model.Forward(seq.State!, chunk, seq.Logits);
        seq.Fed.AddRange(chunk);
        seq.PromptDone += n;
        if (seq.PromptDone < request.Prompt.Length) return false;
        return request.MaxTokens == 0 ? Finish(seq, FinishReason.Length) : Emit(seq);
    }

    private static void Fail(Sequence seq, Exception e)
    {
        seq.Error = e;
        seq.State = null;  // its cache may be half-written: never reuse it
    }

    /// <summary>Samples from the current logits and hands the token to the caller; true when the sequence ended.</summary>
    private bool Emit(Sequence seq)
    {
        var request = seq.Handle.Request;
        float lse = 0;
        if (request.TopLogprobs >= 0)
        {
            // Log-probabilities of the model's distribution, before the sampler filters and scales the logits in place.
            seq.Raw ??= new float[seq.Logits!.Length];
            seq.Logits!.CopyTo(seq.Raw, 0);
            lse = LogSumExp(seq.Raw);
        }
        request.Constraint?.Mask(seq.Logits!);
        int next = seq.Sampler!.Sample(seq.Logits);
        if (request.StopTokens.Contains(next)) return Finish(seq, FinishReason.Stop);
        request.Constraint?.Accept(next);
        float logprob = request.TopLogprobs >= 0 ? seq.Raw![next] - lse : 0;
        TokenLogprob[]? top = request.TopLogprobs > 0 ? Top(seq.Raw!, request.TopLogprobs, lse) : null;
        seq.Handle.Writer.TryWrite(new GeneratedToken(next, logprob, top));
        Interlocked.Increment(ref Metrics._generatedTokens);
        seq.Produced++;
        seq.LastToken = next;
        seq.Sampler.Observe(next);
        if (seq.Produced >= request.MaxTokens) return Finish(seq, FinishReason.Length);
        if (seq.State!.Length + 1 > seq.State.MaxSequence) return Finish(seq, FinishReason.ContextFull);
        return false;
    }

    private bool Finish(Sequence seq, FinishReason reason)
    {
        Interlocked.Increment(ref Metrics._completed);
        seq.Handle.FinishReason = reason;
        return true;
    }

    private bool Cancel(Sequence seq)
    {
        Interlocked.Increment(ref Metrics._cancelled);
        seq.Handle.FinishReason = FinishReason.Stop;
        return true;
    }

    private void Release(Sequence seq)
    {
        // The cache holds exactly the tokens fed so far, so what it computed can serve a later prompt.
        if (seq.State is { } state && state.Length == seq.Fed.Count) PrefixCache.Put([.. seq.Fed], state);
        seq.State = null;
        seq.Logits = null;
        seq.Raw = null;
    }

    private static float LogSumExp(ReadOnlySpan<float> x)
    {
        float max = float.NegativeInfinity;
        foreach (float v in x) max = Math.Max(max, v);
        double sum = 0;
        foreach (float v in x) sum += Math.Exp(v - max);
        return max + (float)Math.Log(sum);
    }

    private static TokenLogprob[] Top(float[] raw, int k, float lse)
    {
        k = Math.Min(k, raw.Length);
        var best = new List<TokenLogprob>(k + 1);
        for (int i = 0; i < raw.Length; i++)
        {
            if (best.Count == k && raw[i] <= best[^1].Logprob) continue;
            int at = best.Count;
            while (at > 0 && best[at - 1].Logprob < raw[i]) at--;
            best.Insert(at, new TokenLogprob(i, raw[i]));
            if (best.Count > k) best.RemoveAt(k);
        }
        return [.. best.Select(b => b with { Logprob = b.Logprob - lse })];
    }

    public void Dispose()
    {
        _stop.Cancel();
        _queue.Writer.TryComplete();
        _loop.Join();
        foreach (var seq in _active)
        {
            seq.Handle.Writer.TryComplete(new ObjectDisposedException(nameof(Scheduler)));
            Release(seq);   // what the cut-off sequences computed is still good for the disk cache
        }
        while (_queue.Reader.TryRead(out var seq)) seq.Handle.Writer.TryComplete(new ObjectDisposedException(nameof(Scheduler)));
        _active.Clear();
        PrefixCache.Clear();
        PrefixCache.Disk?.Dispose();
        _stop.Dispose();
    }
}
