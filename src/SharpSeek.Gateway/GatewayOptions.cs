namespace SharpSeek.Gateway;

/// <summary>How <c>sharpseek gateway</c> runs.</summary>
public sealed record GatewayOptions
{
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>0 picks a free port (see <see cref="GatewayServer.Urls"/>).</summary>
    public int Port { get; init; } = 8000;

    /// <summary>
    /// The replicas: <c>http://host:port</c>, or a service name that discovery resolves (<c>http://replica0</c> from
    /// configuration such as Aspire's <c>services__replica0__http__0</c>; with <see cref="Discovery.Dns"/>, every address
    /// of a host name, such as a Kubernetes headless Service).
    /// </summary>
    public required IReadOnlyList<string> Backends { get; init; }

    /// <summary>One of <see cref="GatewayPolicies.All"/>.</summary>
    public string Policy { get; init; } = GatewayPolicies.Prefix;

    public Discovery Discovery { get; init; } = Discovery.Config;

    /// <summary>How often each replica's <c>/ready</c> is probed (and how often DNS is asked again).</summary>
    public TimeSpan HealthInterval { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>A replica whose connection failed stays out of rotation this long, unless an active probe finds it ready first.</summary>
    public TimeSpan ReactivationPeriod { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The prefix policy's load bound: see <see cref="PrefixAffinityPolicy"/>.</summary>
    public LoadBound Bound { get; init; } = LoadBound.Default;

    /// <summary>Longest silence from a replica (before its first byte or between bytes) before the request fails.</summary>
    public TimeSpan ActivityTimeout { get; init; } = TimeSpan.FromMinutes(10);
}

/// <summary>Where backend addresses come from.</summary>
public enum Discovery
{
    /// <summary>.NET service discovery: configuration (Aspire's <c>services__NAME__http__0</c>), else the URL as given.</summary>
    Config,

    /// <summary>YARP's DNS resolver: each address a host name resolves to becomes a backend, refreshed periodically.</summary>
    Dns,
}

/// <summary>
/// When the prefix policy gives up affinity: the preferred replica's load (requests the gateway has in flight there)
/// exceeds the least-loaded one's by more than <see cref="Absolute"/> and by more than <see cref="Relative"/> times.
/// SGLang's cache-aware router uses 64 and 1.5. Here the absolute bound is a replica's batch width (serve's --parallel, 8):
/// up to it the extra requests join the running batch instead of its queue. Measured on the bundled model with 3 replicas
/// (docs/PERFORMANCE.md, "Fleet"): bounds of 1 or 2 overrode a third of the requests and brought the hit ratio down to
/// round-robin's; 4 overrode 2–20 in 100; 8 and 16 kept the affinity with no worse time to first token.
/// </summary>
public readonly record struct LoadBound(int Absolute, double Relative)
{
    public static LoadBound Default => new(8, 1.5);

    public bool Exceeded(int preferred, int least) => preferred - least > Absolute && preferred > Relative * least;
}
