using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.LoadBalancing;
using Yarp.ReverseProxy.Model;

namespace SharpSeek.Gateway;

/// <summary>
/// The <c>prefix</c> policy: the request's <see cref="PrefixKey"/> picks a replica by consistent hashing over the
/// available (healthy) ones, so every turn of a conversation lands where its prefix is cached; when that replica's load
/// exceeds the least-loaded one's by the <see cref="LoadBound"/>, the least-loaded one takes the request instead
/// (SGLang's cache-aware routing makes the same trade). Load is the number of requests this gateway has in flight to a
/// replica (YARP counts them per destination). Requests without a key go to the least-loaded replica.
/// </summary>
public sealed class PrefixAffinityPolicy(GatewayOptions options, GatewayCounters counters) : ILoadBalancingPolicy
{
    public const string PolicyName = "SharpSeekPrefixAffinity";

    /// <summary>Where the gateway's pipeline leaves the request's key (a boxed <see cref="ulong"/>).</summary>
    internal const string KeyItem = "sharpseek.prefix-key";

    private sealed record Cached(string Signature, ConsistentHashRing Ring);

    private volatile Cached? _cached;

    public string Name => PolicyName;

    public DestinationState? PickDestination(HttpContext context, ClusterState cluster, IReadOnlyList<DestinationState> availableDestinations)
    {
        if (availableDestinations.Count == 0) return null;
        var least = availableDestinations[0];
        foreach (var d in availableDestinations)
            if (d.ConcurrentRequestCount < least.ConcurrentRequestCount) least = d;
        if (context.Items[KeyItem] is not ulong key) return least;

        var ring = RingFor(availableDestinations);
        string owner = ring.Members[ring.Owner(key)];
        var preferred = availableDestinations.First(d => d.DestinationId == owner);
        if (preferred != least && options.Bound.Exceeded(preferred.ConcurrentRequestCount, least.ConcurrentRequestCount))
        {
            Interlocked.Increment(ref counters.AffinityOverrides);
            return least;
        }
        return preferred;
    }

    private ConsistentHashRing RingFor(IReadOnlyList<DestinationState> destinations)
    {
        var ids = destinations.Select(d => d.DestinationId).Order(StringComparer.Ordinal).ToArray();
        string signature = string.Join('\n', ids);
        var cached = _cached;
        if (cached is null || cached.Signature != signature) _cached = cached = new Cached(signature, new ConsistentHashRing(ids));
        return cached.Ring;
    }
}
