using System.Diagnostics;
using Microsoft.Extensions.Logging;
using SharpSeek.Serving;

namespace SharpSeek.Server;

/// <summary>Bounds of the models a server keeps loaded at once.</summary>
public sealed record ModelPoolOptions
{
    /// <summary>Models loaded at once (0: no bound). Ollama's default on a CPU is 3.</summary>
    public int MaxLoaded { get; init; } = 3;

    /// <summary>
    /// Memory the loaded models may take together (0: no bound): each model's weights and its KV-cache budget (every
    /// parallel slot and prefix-cache entry at the full context, the figure <c>/metrics</c> reports).
    /// </summary>
    public long MaxBytes { get; init; }

    /// <summary>
    /// How long a model stays loaded after its last request when the request does not say (<c>--keep-alive</c>). Null: 5
    /// minutes (Ollama's default) with several models; a server of one model keeps it loaded.
    /// </summary>
    public KeepAlive? KeepAlive { get; init; }

    /// <summary>Ollama's default keep-alive.</summary>
    public static readonly KeepAlive DefaultKeepAlive = Server.KeepAlive.For(TimeSpan.FromMinutes(5));
}

/// <summary>A loaded (or loading) model as <c>/api/ps</c> shows it.</summary>
/// <param name="Bytes">Weights and KV-cache budget once loaded; the weight files' size while loading.</param>
/// <param name="ExpiresAt">When it will be unloaded; null while in use or when it stays.</param>
/// <param name="KeepAlive">How long it stays after its last request.</param>
public sealed record LoadedModel(CatalogModel Model, bool Ready, long Bytes, int InFlight, DateTimeOffset? ExpiresAt, KeepAlive KeepAlive, ChatPipeline? Pipeline, Models.ModelInfo? Info);

/// <summary>Counters of a model's earlier loads, so that <c>/metrics</c> counters never go down when a model is unloaded.</summary>
public sealed record ModelCounters
{
    public long Loads { get; init; }
    public long Unloads { get; init; }
    public long Requests { get; init; }
    public long Completed { get; init; }
    public long Cancelled { get; init; }
    public long Rejected { get; init; }
    public long PromptTokens { get; init; }
    public long CachedTokens { get; init; }
    public long CopiedTokens { get; init; }
    public long GeneratedTokens { get; init; }
    public long DraftTokens { get; init; }
    public long AcceptedTokens { get; init; }
    public long Steps { get; init; }
    public long DiskBlocksWritten { get; init; }
    public long DiskBlocksLoaded { get; init; }
    public long DiskBlocksRejected { get; init; }
    public double BusySeconds { get; init; }
    public double LastLoadSeconds { get; init; }

    /// <summary>These counters plus those of a running pipeline.</summary>
    public ModelCounters With(ChatPipeline? p)
    {
        if (p is null) return this;
        var m = p.Scheduler.Metrics;
        var disk = p.Scheduler.PrefixCache.Disk;
        return this with
        {
            Requests = Requests + m.Requests, Completed = Completed + m.Completed, Cancelled = Cancelled + m.Cancelled, Rejected = Rejected + m.Rejected,
            PromptTokens = PromptTokens + m.PromptTokens, CachedTokens = CachedTokens + m.PrefixCacheHitTokens,
            CopiedTokens = CopiedTokens + p.Scheduler.PrefixCache.CopiedTokens, GeneratedTokens = GeneratedTokens + m.GeneratedTokens,
            DraftTokens = DraftTokens + m.DraftTokens, AcceptedTokens = AcceptedTokens + m.AcceptedTokens,
            Steps = Steps + m.Steps, BusySeconds = BusySeconds + m.BusySeconds,
            DiskBlocksWritten = DiskBlocksWritten + (disk?.BlocksWritten ?? 0), DiskBlocksLoaded = DiskBlocksLoaded + (disk?.BlocksLoaded ?? 0),
            DiskBlocksRejected = DiskBlocksRejected + (disk?.BlocksRejected ?? 0),
        };
    }
}

/// <summary>
/// Loads models when first asked for and unloads them again, as Ollama's scheduler does. Concurrent first requests for a
/// model share one load; a failed load is reported to everyone waiting for it, and the next request tries again. Before a
/// load, the least recently used models that no request holds are unloaded until the new one fits <see cref="ModelPoolOptions.MaxLoaded"/>
/// and <see cref="ModelPoolOptions.MaxBytes"/>; when every loaded model is in use, the load waits for one to be released.
/// A model no request holds is unloaded when its keep-alive runs out (the last request's <c>keep_alive</c>, else the
/// default). Unloading disposes the model at once: its scheduler stops, its files are unmapped and its in-memory weight
/// copies freed, without waiting for a garbage collection.
/// </summary>
public sealed class ModelPool : IDisposable
{
    internal sealed class Slot(CatalogModel model)
    {
        public readonly CatalogModel Model = model;
        public readonly TaskCompletionSource<ChatPipeline> Ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public State State;
        public int InFlight;
        /// <summary>Reserved (the weight files' size) while loading; measured once loaded.</summary>
        public long Bytes;
        public long LastUsed;
        /// <summary>The last request's keep_alive; null: the pool's default.</summary>
        public KeepAlive? KeepAlive;
        public DateTimeOffset? ExpiresAt;
        public ChatPipeline? Pipeline;
        public Models.ModelInfo? Info;
    }

    internal enum State { Waiting, Loading, Loaded }

    private readonly ModelPoolOptions _options;
    private readonly Func<CatalogModel, ChatPipeline> _load;
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    private readonly Dictionary<string, Slot> _slots = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, ModelCounters> _retired = new(StringComparer.OrdinalIgnoreCase);
    private readonly Lock _lock = new();
    private readonly ITimer _timer;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _unloadingBytes;
    private bool _disposed;

    public ModelPool(ModelPoolOptions options, Func<CatalogModel, ChatPipeline> load, ILogger? log = null, TimeProvider? time = null)
    {
        if (options.MaxLoaded < 0 || options.MaxBytes < 0) throw new ArgumentOutOfRangeException(nameof(options), "the model bounds must be ≥ 0");
        _options = options;
        _load = load;
        _time = time ?? TimeProvider.System;
        _log = log ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
        _timer = _time.CreateTimer(_ => Expire(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    public ModelPoolOptions Options => _options;

    /// <summary>
    /// Holds <paramref name="model"/> for one request, loading it first when it is not loaded: it stays loaded until the
    /// lease is disposed. <paramref name="keepAlive"/> (the request's) replaces the model's keep-alive. Throws what the load
    /// threw, <see cref="ModelTooLargeException"/>, or <see cref="OperationCanceledException"/> when <paramref name="ct"/>
    /// fires first (the load goes on for the next request).
    /// </summary>
    public async Task<ModelLease> AcquireAsync(CatalogModel model, KeepAlive? keepAlive, CancellationToken ct)
    {
        Slot slot;
        bool start = false;
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!_slots.TryGetValue(model.Name, out slot!))
            {
                _slots[model.Name] = slot = new Slot(model);
                start = true;
            }
            slot.InFlight++;
            slot.LastUsed = _time.GetTimestamp();
            slot.ExpiresAt = null;
            if (keepAlive is { } k) slot.KeepAlive = k;
        }
        if (start) _ = Task.Run(() => LoadAsync(slot));
        try
        {
            var pipeline = await slot.Ready.Task.WaitAsync(ct).ConfigureAwait(false);
            return new ModelLease(this, slot, pipeline);
        }
        catch
        {
            Release(slot);
            throw;
        }
    }

    /// <summary>The loaded or loading models, most recently used first.</summary>
    public IReadOnlyList<LoadedModel> Loaded
    {
        get
        {
            lock (_lock)
                return [.. _slots.Values.Where(s => s.State != State.Waiting).OrderByDescending(s => s.LastUsed)
                    .Select(s => new LoadedModel(s.Model, s.State == State.Loaded, s.Bytes, s.InFlight, s.ExpiresAt, KeepAliveOf(s), s.Pipeline, s.Info))];
        }
    }

    /// <summary>Counters of <paramref name="name"/> over all its loads so far, the current one included.</summary>
    public ModelCounters Counters(string name)
    {
        lock (_lock)
        {
            var retired = _retired.GetValueOrDefault(name) ?? new ModelCounters();
            return _slots.TryGetValue(name, out var s) && s.Pipeline is { } p ? retired.With(p) : retired;
        }
    }

    /// <summary>Bytes the loaded and loading models take (or have reserved), and those still being freed.</summary>
    public long Bytes { get { lock (_lock) return _slots.Values.Where(s => s.State != State.Waiting).Sum(s => s.Bytes) + _unloadingBytes; } }

    /// <summary>
    /// Unloads <paramref name="name"/> now when no request holds it; otherwise once the last one ends (Ollama's
    /// <c>keep_alive: 0</c>). False when it was not loaded.
    /// </summary>
    public bool Unload(string name)
    {
        Slot? victim = null;
        lock (_lock)
        {
            if (!_slots.TryGetValue(name, out var slot) || slot.State == State.Waiting) return false;
            slot.KeepAlive = KeepAlive.For(TimeSpan.Zero);
            if (slot.State == State.Loaded && slot.InFlight == 0) victim = Remove(slot);
        }
        if (victim is not null) Dispose(victim, "asked to");
        return true;
    }

    private async Task LoadAsync(Slot slot)
    {
        string name = slot.Model.Name;
        try
        {
            long estimate = ModelSummary.WeightBytes(slot.Model.Path);
            if (_options.MaxBytes > 0 && estimate > _options.MaxBytes) throw new ModelTooLargeException(name, estimate, _options.MaxBytes);
            List<Slot> victims;
            bool told = false;
            while (true)
            {
                Task changed;
                lock (_lock)
                {
                    ObjectDisposedException.ThrowIf(_disposed, this);
                    if (slot.InFlight == 0)
                    {
                        // Everyone who asked has gone: nothing is loaded, and the next request starts afresh.
                        _slots.Remove(name);
                        slot.Ready.SetCanceled();
                        return;
                    }
                    if (TryReserve(slot, estimate, out victims)) break;
                    changed = _changed.Task;
                }
                if (!told) _log.LogInformation("{Model}: waiting until a loaded model is released (bounds: {MaxLoaded} models, {MaxGiB:0.##} GiB)", name, _options.MaxLoaded, _options.MaxBytes / (double)(1L << 30));
                told = true;
                await changed.ConfigureAwait(false);
            }
            foreach (var v in victims) Dispose(v, $"to make room for {name}");

            _log.LogInformation("{Model}: loading {Path}", name, slot.Model.Path);
            var clock = Stopwatch.StartNew();
            var pipeline = _load(slot.Model);
            Models.ModelInfo info;
            long bytes;
            try
            {
                info = Models.ModelInfo.Of(pipeline.Bundle.Model);
                bytes = pipeline.Bundle.Model.WeightBytes + pipeline.Scheduler.Metrics.CacheBudgetBytes;
                if (_options.MaxBytes > 0 && bytes > _options.MaxBytes) throw new ModelTooLargeException(name, bytes, _options.MaxBytes);
            }
            catch
            {
                pipeline.Dispose();
                throw;
            }
            double seconds = clock.Elapsed.TotalSeconds;
            List<Slot> over;
            lock (_lock)
            {
                slot.Pipeline = pipeline;
                slot.Info = info;
                slot.Bytes = bytes;
                slot.State = State.Loaded;
                var c = _retired.GetValueOrDefault(name) ?? new ModelCounters();
                _retired[name] = c with { Loads = c.Loads + 1, LastLoadSeconds = seconds };
                // The measured size can exceed the reservation (the KV-cache budget): idle models make room for it.
                over = Evict();
                Pulse();
            }
            foreach (var v in over) Dispose(v, $"to make room for {name}");
            _log.LogInformation("{Model}: loaded in {Seconds:0.0} s ({MiB:0} MiB with its KV-cache budget)", name, seconds, bytes / (double)(1 << 20));
            slot.Ready.SetResult(pipeline);
        }
        catch (Exception e)
        {
            lock (_lock)
            {
                if (_slots.TryGetValue(name, out var s) && s == slot) _slots.Remove(name);
                Pulse();
            }
            if (e is not OperationCanceledException and not ObjectDisposedException) _log.LogWarning("{Model}: failed to load: {Error}", name, e.Message);
            slot.Ready.SetException(e);
        }
    }

    /// <summary>
    /// Reserves room for <paramref name="slot"/> if it fits once idle models are unloaded (which are then taken out and
    /// returned); else reserves nothing, so a waiting load never holds room another could use.
    /// </summary>
    private bool TryReserve(Slot slot, long estimate, out List<Slot> victims)
    {
        victims = Evictable(1, estimate);
        if (!Fits(victims, 1, estimate)) { victims = []; return false; }
        foreach (var v in victims) Remove(v);
        slot.State = State.Loading;
        slot.Bytes = estimate;
        return true;
    }

    /// <summary>Takes out the idle models, least recently used first, that the loaded ones must lose to be within the bounds again (under the lock).</summary>
    private List<Slot> Evict()
    {
        if (Fits([], 0, 0)) return [];
        var victims = Evictable(0, 0);
        foreach (var v in victims) Remove(v);
        return victims;
    }

    /// <summary>
    /// The idle models to unload, least recently used first, so that <paramref name="more"/> models of
    /// <paramref name="bytes"/> more fit; as many as there are when they are not enough.
    /// </summary>
    private List<Slot> Evictable(int more, long bytes)
    {
        var victims = new List<Slot>();
        foreach (var s in _slots.Values.Where(s => s.State == State.Loaded && s.InFlight == 0).OrderBy(s => s.LastUsed))
        {
            if (Fits(victims, more, bytes)) break;
            victims.Add(s);
        }
        return victims;
    }

    private bool Fits(List<Slot> without, int more, long bytes)
    {
        var held = _slots.Values.Where(s => s.State != State.Waiting && !without.Contains(s)).ToList();
        bool count = _options.MaxLoaded == 0 || held.Count + more <= _options.MaxLoaded;
        bool memory = _options.MaxBytes == 0 || held.Sum(s => s.Bytes) + _unloadingBytes + bytes <= _options.MaxBytes;
        return count && memory;
    }

    /// <summary>Takes a loaded model out of the pool (under the lock); <see cref="Dispose(Slot, string)"/> then frees it.</summary>
    private Slot Remove(Slot slot)
    {
        _slots.Remove(slot.Model.Name);
        _unloadingBytes += slot.Bytes;
        var c = _retired.GetValueOrDefault(slot.Model.Name) ?? new ModelCounters();
        _retired[slot.Model.Name] = c.With(slot.Pipeline) with { Unloads = c.Unloads + 1 };
        return slot;
    }

    private void Dispose(Slot slot, string why)
    {
        try { slot.Pipeline?.Dispose(); }
        catch (Exception e) { _log.LogWarning("{Model}: unloading failed: {Error}", slot.Model.Name, e.Message); }
        lock (_lock)
        {
            _unloadingBytes -= slot.Bytes;
            Pulse();
        }
        _log.LogInformation("{Model}: unloaded ({Why})", slot.Model.Name, why);
    }

    private void Release(Slot slot)
    {
        var victims = new List<(Slot, string)>();
        lock (_lock)
        {
            slot.InFlight--;
            slot.LastUsed = _time.GetTimestamp();
            if (slot.InFlight == 0 && slot.State == State.Loaded && _slots.GetValueOrDefault(slot.Model.Name) == slot)
            {
                var keep = KeepAliveOf(slot);
                if (keep.UnloadsAtOnce) victims.Add((Remove(slot), "keep_alive 0"));
                else if (keep.Duration is { } d)
                {
                    slot.ExpiresAt = _time.GetUtcNow() + d;
                    Schedule();
                }
                // A model measured larger than reserved may have left the pool over its bounds while the others were busy.
                victims.AddRange(Evict().Select(v => (v, "over the bounds")));
            }
            Pulse();
        }
        foreach (var (v, why) in victims) Dispose(v, why);
    }

    private KeepAlive KeepAliveOf(Slot slot) => slot.KeepAlive ?? _options.KeepAlive ?? ModelPoolOptions.DefaultKeepAlive;

    /// <summary>Sets the timer for the next keep-alive to run out (under the lock).</summary>
    private void Schedule()
    {
        var next = _slots.Values.Where(s => s.ExpiresAt is not null && s.InFlight == 0).Select(s => s.ExpiresAt!.Value).DefaultIfEmpty(DateTimeOffset.MaxValue).Min();
        if (next == DateTimeOffset.MaxValue) _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        else _timer.Change(TimeSpan.FromTicks(Math.Max(0, (next - _time.GetUtcNow()).Ticks)), Timeout.InfiniteTimeSpan);
    }

    private void Expire()
    {
        List<Slot> victims;
        lock (_lock)
        {
            if (_disposed) return;
            var now = _time.GetUtcNow();
            victims = [.. _slots.Values.Where(s => s.State == State.Loaded && s.InFlight == 0 && s.ExpiresAt <= now)];
            foreach (var v in victims) Remove(v);
            Schedule();
        }
        foreach (var v in victims) Dispose(v, "keep_alive ran out");
    }

    /// <summary>Wakes the loads waiting for room (under the lock).</summary>
    private void Pulse()
    {
        _changed.TrySetResult();
        _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>Waits for loads under way to end, then unloads every model (the server has stopped taking requests).</summary>
    public void Dispose()
    {
        List<Slot> slots;
        lock (_lock)
        {
            if (_disposed) return;
            _disposed = true;
            slots = [.. _slots.Values];
            Pulse();
        }
        _timer.Dispose();
        foreach (var s in slots)
        {
            try { s.Ready.Task.Wait(); }
            catch (AggregateException) { continue; }
            lock (_lock) Remove(s);
            Dispose(s, "the server stopped");
        }
    }

    /// <summary>One request's hold on a loaded model; disposing it lets the model be unloaded again.</summary>
    public sealed class ModelLease : IDisposable
    {
        private readonly ModelPool _pool;
        private readonly Slot _slot;
        private int _released;

        internal ModelLease(ModelPool pool, Slot slot, ChatPipeline pipeline)
        {
            _pool = pool;
            _slot = slot;
            Pipeline = pipeline;
        }

        public ChatPipeline Pipeline { get; }

        /// <summary>The name the model is served under.</summary>
        public string Name => _slot.Model.Name;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0) _pool.Release(_slot);
        }
    }
}

/// <summary>A model that cannot be loaded within the server's memory bound (<c>--max-memory-gb</c>).</summary>
public sealed class ModelTooLargeException(string model, long bytes, long budget)
    : SharpSeekException($"the model '{model}' needs {bytes / (double)(1L << 30):0.00} GiB (weights and KV-cache budget), more than the server's memory bound of {budget / (double)(1L << 30):0.00} GiB (--max-memory-gb); lower --ctx or --parallel, or raise the bound");
