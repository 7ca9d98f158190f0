using System.Collections.Concurrent;

namespace SharpSeek.Gateway;

/// <summary>What the gateway has done since start (served at <c>/gateway/status</c>); fields are updated with Interlocked.</summary>
public sealed class GatewayCounters
{
    internal long Requests, Retried, Failed, BrokenStreams, NoBackend, AffinityOverrides;

    /// <summary>Requests proxied.</summary>
    public long RequestCount => Interlocked.Read(ref Requests);

    /// <summary>Requests that failed on one replica before any byte reached the client and were sent to another.</summary>
    public long RetryCount => Interlocked.Read(ref Retried);

    /// <summary>Requests answered with an error by the gateway itself (502, 503, 504).</summary>
    public long FailedCount => Interlocked.Read(ref Failed);

    /// <summary>Streams whose replica failed after the response began; each ended with an error event.</summary>
    public long BrokenStreamCount => Interlocked.Read(ref BrokenStreams);

    /// <summary>Requests that found no healthy replica (503).</summary>
    public long NoBackendCount => Interlocked.Read(ref NoBackend);

    /// <summary>Requests the prefix policy sent to the least-loaded replica because the preferred one was over the bound.</summary>
    public long AffinityOverrideCount => Interlocked.Read(ref AffinityOverrides);

    /// <summary>Requests sent to each replica (retries included).</summary>
    public ConcurrentDictionary<string, long> PerBackend { get; } = new(StringComparer.Ordinal);
}
