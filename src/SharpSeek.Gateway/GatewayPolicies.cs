using Yarp.ReverseProxy.LoadBalancing;

namespace SharpSeek.Gateway;

/// <summary>The <c>--policy</c> names and the YARP load-balancing policy each one runs.</summary>
public static class GatewayPolicies
{
    /// <summary>Prefix affinity with a load bound (<see cref="PrefixAffinityPolicy"/>).</summary>
    public const string Prefix = "prefix";

    /// <summary>The replica with the fewest requests in flight through this gateway (YARP's LeastRequests).</summary>
    public const string LeastLoad = "least-load";

    /// <summary>Each replica in turn (YARP's RoundRobin).</summary>
    public const string RoundRobin = "round-robin";

    public static IReadOnlyList<string> All { get; } = [Prefix, LeastLoad, RoundRobin];

    /// <summary>The policy named <paramref name="name"/>, or an error that lists the policies.</summary>
    public static string Parse(string name) => All.FirstOrDefault(p => string.Equals(p, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"unknown --policy '{name}': the policies are {string.Join(", ", All)}");

    internal static string YarpName(string policy) => Parse(policy) switch
    {
        Prefix => PrefixAffinityPolicy.PolicyName,
        LeastLoad => LoadBalancingPolicies.LeastRequests,
        _ => LoadBalancingPolicies.RoundRobin,
    };
}
