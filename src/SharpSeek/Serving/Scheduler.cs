using System.Diagnostics;
using System.Threading.Channels;
using SharpSeek.Generation;
using SharpSeek.Models;

namespace SharpSeek.Serving;

/// <summary>
/// Continuous batching at the step level: one loop owns the model; each step admits waiting sequences (up to
/// <see cref="SchedulerOptions.MaxActive"/>), drops cancelled ones, and advances every active one by a prefill chunk, a decoded
/// token or a verified run of drafts in one <see cref="DecodeStep"/> — one forward for all of them, each weight streamed once per
/// step. Sequences join and leave between steps; a finished or cancelled one's state goes to the <see cref="PrefixCache"/>.
/// Each sequence owns its sampler, and batched logits equal solo ones, so a seed gives the same output whatever else runs.
/// A sequence that fails in a step fails alone; the others go on unchanged.
/// </summary>
public sealed class Scheduler : IDisposable
{
    private sealed class Sequence(SequenceHandle handle)
    {
        public readonly SequenceHandle Handle = handle;
        public DecodeSequence? Decode;
    }

    private readonly Transformer _model;
    private readonly Channel<Sequence> _queue;
    private readonly List<Sequence> _active = [];
    private readonly List<DecodeSequence> _step = [];
    private readonly DecodeStep _decode;
    private readonly Speculation _speculation;
    private readonly Thread _loop;
    private readonly CancellationTokenSource _stop = new();

    public Scheduler(Transformer model, SchedulerOptions? options = null)
    {
        _model = model;
        Options = options ?? new SchedulerOptions();
        if (Options.MaxActive <= 0 || Options.MaxQueue < 0 || Options.PrefillChunk <= 0 || Options.BlockSize <= 0)
            throw new ArgumentException("scheduler limits must be positive", nameof(options));
        var disk = Options.PrefixCacheDirectory is { } dir
            ? new PrefixBlockStore(dir, PrefixBlockLayout.Of(model, Options.BlockSize), Options.PrefixCacheMaxBytes)
            : null;
        PrefixCache = new PrefixCache(Options.PrefixCacheEntries, Options.BlockSize, disk, () => _model.CreateState(ContextSize));
        _speculation = Options.Speculation.Resolve(model);
        _decode = new DecodeStep(model, Options.PrefillChunk);
        _queue = Channel.CreateUnbounded<Sequence>(new UnboundedChannelOptions { SingleReader = true });
        Metrics.CacheBudgetBytes = (long)(Options.MaxActive + Options.PrefixCacheEntries) * ContextSize * 4 * model.CachedValuesPerTokenPerLayer * model.Config.NumHiddenLayers;
        _loop = new Thread(Run) { IsBackground = true, Name = "sharpseek-scheduler" };
        _loop.Start();
    }

    public SchedulerOptions Options { get; }

    /// <summary>The speculation of sequences that do not ask for their own (<see cref="SchedulerOptions.Speculation"/>, resolved for the model).</summary>
    public Speculation Speculation => _speculation;
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
        request.Speculation?.Resolve(_model, "speculate");
        if (Interlocked.Increment(ref Metrics._queued) > Options.MaxQueue)
        {
            Interlocked.Decrement(ref Metrics._queued);
            Interlocked.Increment(ref Metrics._rejected);
            throw new QueueFullException(Options.MaxQueue);
        }
        var handle = new SequenceHandle(request);
        Interlocked.Increment(ref Metrics._requests);
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
        // A sequence leaves the queue's count only after it is counted where it went (running, cancelled, failed), so a
        // reader of the metrics never sees it in neither place.
        while (_active.Count < Options.MaxActive && _queue.Reader.TryRead(out var seq))
        {
            if (seq.Handle.IsCancelled)
            {
                Interlocked.Increment(ref Metrics._cancelled);
                Interlocked.Decrement(ref Metrics._queued);
                seq.Handle.Writer.TryComplete();
                continue;
            }
            var request = seq.Handle.Request;
            var state = PrefixCache.Take(request.Prompt, out int reused) ?? _model.CreateState(ContextSize);
            seq.Handle.CachedTokens = reused;
            var options = new GenerationOptions
            {
                MaxTokens = request.MaxTokens,
                Sampling = request.Sampling,
                StopTokens = [.. request.StopTokens],
                IgnoreEos = true,   // the request's stop set is complete: it holds the model's EOS unless the client asked to ignore it
                Constraint = request.Constraint,
                TopLogprobs = request.TopLogprobs,
                Speculation = request.Speculation?.Resolve(_model, "speculate") ?? _speculation,
            };
            try { seq.Decode = new DecodeSequence(_model, request.Prompt, options, state, reused) { Tag = seq }; }
            catch (Exception e)
            {
                Interlocked.Decrement(ref Metrics._queued);
                seq.Handle.Writer.TryComplete(e);
                continue;
            }
            Interlocked.Add(ref Metrics._promptTokens, request.Prompt.Length);
            Interlocked.Add(ref Metrics._cachedTokens, reused);
            _active.Add(seq);
            Metrics.ActiveSequences = _active.Count;
            Interlocked.Decrement(ref Metrics._queued);
        }
        Metrics.ActiveCacheBytes = _active.Sum(q => q.Decode?.State.CacheBytes ?? 0);
    }

    /// <summary>
    /// One step: cancelled sequences leave, the others advance together in one <see cref="DecodeStep"/>; the ones that ended
    /// leave after it.
    /// </summary>
    private void StepAll()
    {
        var ended = new List<Sequence>();
        _step.Clear();
        foreach (var seq in _active)
        {
            if (seq.Handle.IsCancelled)
            {
                Interlocked.Increment(ref Metrics._cancelled);
                seq.Handle.FinishReason = FinishReason.Stop;
                ended.Add(seq);
            }
            else _step.Add(seq.Decode!);
        }
        long drafted = _decode.Speculation.DraftTokens, accepted = _decode.Speculation.AcceptedTokens;
        _decode.Run(_step, Emit);
        Interlocked.Add(ref Metrics._draftTokens, _decode.Speculation.DraftTokens - drafted);
        Interlocked.Add(ref Metrics._acceptedTokens, _decode.Speculation.AcceptedTokens - accepted);
        foreach (var d in _step)
        {
            if (!d.IsDone) continue;
            var seq = (Sequence)d.Tag!;
            if (d.Finish is { } f)
            {
                Interlocked.Increment(ref Metrics._completed);
                seq.Handle.FinishReason = f;
            }
            ended.Add(seq);
        }
        var errors = ended.Select(seq => seq.Decode?.Error).ToList();
        foreach (var seq in ended)
        {
            Release(seq);
            _active.Remove(seq);
        }
        Metrics.ActiveSequences = _active.Count;
        Metrics.ActiveCacheBytes = _active.Sum(q => q.Decode?.State.CacheBytes ?? 0);
        // Callers see the end only after the sequence has left the batch, its cache is in the prefix cache and the
        // metrics count it out: a caller that awaits its tokens and then looks at either finds them settled.
        for (int i = 0; i < ended.Count; i++) ended[i].Handle.Writer.TryComplete(errors[i]);
    }

    private void Emit(DecodeSequence d, GeneratedToken token)
    {
        ((Sequence)d.Tag!).Handle.Writer.TryWrite(token);
        Interlocked.Increment(ref Metrics._generatedTokens);
    }

    private void Release(Sequence seq)
    {
        // The cache holds exactly the tokens fed so far, so what it computed can serve a later prompt; a failed sequence's
        // cache may be half-written and is never reused.
        if (seq.Decode is { Error: null } d) PrefixCache.Put(d.CachedTokens(), d.State);
        seq.Decode = null;
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
