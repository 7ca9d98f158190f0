namespace SharpSeek.Serving;

/// <summary>Counters a <see cref="Scheduler"/> keeps for <c>/metrics</c>; read without locking (each is one word).</summary>
public sealed class SchedulerMetrics
{
    internal long _requests, _completed, _cancelled, _rejected, _promptTokens, _cachedTokens, _generatedTokens, _steps, _draftTokens, _acceptedTokens;
    internal double _busySeconds;
    internal int _queued;

    public long Requests => Interlocked.Read(ref _requests);
    public long Completed => Interlocked.Read(ref _completed);
    public long Cancelled => Interlocked.Read(ref _cancelled);
    public long Rejected => Interlocked.Read(ref _rejected);
    public long PromptTokens => Interlocked.Read(ref _promptTokens);
    /// <summary>Prompt tokens served from the prefix cache.</summary>
    public long PrefixCacheHitTokens => Interlocked.Read(ref _cachedTokens);
    public long GeneratedTokens => Interlocked.Read(ref _generatedTokens);
    public long Steps => Interlocked.Read(ref _steps);
    /// <summary>Tokens drafted for speculative decoding, and how many of them the model accepted.</summary>
    public long DraftTokens => Interlocked.Read(ref _draftTokens);
    public long AcceptedTokens => Interlocked.Read(ref _acceptedTokens);
    /// <summary>Accepted ÷ drafted (0 before any draft).</summary>
    public double AcceptRate => DraftTokens == 0 ? 0 : (double)AcceptedTokens / DraftTokens;
    /// <summary>Seconds spent in steps (the tokens/s denominator).</summary>
    public double BusySeconds => Volatile.Read(ref _busySeconds);
    /// <summary>Sequences submitted and not yet running (nor cancelled or failed before they ran).</summary>
    public int QueueDepth => Volatile.Read(ref _queued);
    public int ActiveSequences { get; internal set; }

    /// <summary>Cache bytes the running sequences hold (updated every step).</summary>
    public long ActiveCacheBytes { get; internal set; }

    /// <summary>
    /// The most cache the scheduler can hold: every active slot and every prefix-cache entry filled to the context
    /// size. Cache bytes in use over this is the KV-cache utilisation a load balancer scores replicas by.
    /// </summary>
    public long CacheBudgetBytes { get; internal set; }

    /// <summary>Share of prompt tokens served from the prefix cache since start (0 before the first request).</summary>
    public double PrefixCacheHitRatio => PromptTokens is var p and > 0 ? (double)PrefixCacheHitTokens / p : 0;
}
