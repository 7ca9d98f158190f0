using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.LoadBalancing;
using Yarp.ReverseProxy.Model;
using Yarp.ReverseProxy.Transforms;

namespace SharpSeek.Gateway;

/// <summary>
/// <c>sharpseek gateway</c>: YARP in front of several <c>sharpseek serve</c> replicas. One route takes every path to one
/// cluster whose destinations are the backends (resolved by .NET service discovery or DNS); YARP probes each replica's
/// <c>/ready</c>, counts requests in flight per replica and forwards; the <see cref="RetryMiddleware"/> and the load
/// balancing policy (<see cref="GatewayPolicies"/>) are the gateway's own steps in YARP's pipeline. The gateway answers
/// <c>/health</c>, <c>/ready</c> (some replica is available) and <c>/gateway/status</c> itself.
/// </summary>
public sealed class GatewayServer : IAsyncDisposable
{
    public const string ClusterId = "replicas";

    private readonly WebApplication _app;

    private GatewayServer(WebApplication app, GatewayCounters counters)
    {
        _app = app;
        Counters = counters;
    }

    public GatewayCounters Counters { get; }

    /// <summary>The addresses Kestrel listens on (after <see cref="StartAsync"/>).</summary>
    public IReadOnlyList<string> Urls => [.. _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses];

    /// <summary>Cancelled when the host begins to stop (SIGTERM reaches ASP.NET's console lifetime first).</summary>
    public CancellationToken Stopping => _app.Lifetime.ApplicationStopping;

    public static GatewayServer Create(GatewayOptions options)
    {
        if (options.Backends.Count == 0) throw new ArgumentException("at least one --backend is needed");
        string yarpPolicy = GatewayPolicies.YarpName(options.Policy);
        var destinations = new Dictionary<string, DestinationConfig>(StringComparer.Ordinal);
        foreach (string b in options.Backends)
        {
            if (!Uri.TryCreate(b, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https" or "https+http" or "http+https"))
                throw new ArgumentException($"--backend '{b}' is not an http:// or https:// URL");
            destinations[b.TrimEnd('/')] = new DestinationConfig { Address = b, Health = null };
        }
        var cluster = new ClusterConfig
        {
            ClusterId = ClusterId,
            LoadBalancingPolicy = yarpPolicy,
            Destinations = destinations,
            HealthCheck = new HealthCheckConfig
            {
                AvailableDestinationsPolicy = HealthCheckConstants.AvailableDestinations.HealthyAndUnknown,
                Active = new ActiveHealthCheckConfig
                {
                    Enabled = true,
                    Interval = options.HealthInterval,
                    Timeout = TimeSpan.FromSeconds(Math.Max(2, options.HealthInterval.TotalSeconds)),
                    Policy = HealthCheckConstants.ActivePolicy.ConsecutiveFailures,
                    Path = "/ready",
                },
                Passive = new PassiveHealthCheckConfig
                {
                    Enabled = true,
                    Policy = FailFastHealthPolicy.PolicyName,
                    ReactivationPeriod = options.ReactivationPeriod,
                },
            },
            HttpRequest = new ForwarderRequestConfig { ActivityTimeout = options.ActivityTimeout },
        };
        var route = new RouteConfig { RouteId = "all", ClusterId = ClusterId, Match = new RouteMatch { Path = "{**path}" } };

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            if (options.Host is "localhost") k.ListenLocalhost(options.Port);
            else k.Listen(IPAddress.Parse(options.Host), options.Port);
        });
        var counters = new GatewayCounters();
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(counters);
        builder.Services.AddSingleton<ILoadBalancingPolicy, PrefixAffinityPolicy>();
        builder.Services.AddSingleton<IPassiveHealthCheckPolicy, FailFastHealthPolicy>();
        var proxy = builder.Services.AddReverseProxy().LoadFromMemory([route], [cluster]).AddTransforms(t => t.AddResponseTransform(MarkResponse));
        if (options.Discovery == Discovery.Dns) proxy.AddDnsDestinationResolver(o => o.RefreshPeriod = options.HealthInterval);
        else
        {
            builder.Services.AddServiceDiscovery();
            proxy.AddServiceDiscoveryDestinationResolver();
        }

        var app = builder.Build();
        app.MapGet("/health", () => Results.Json(new { status = "ok" }));
        app.MapGet("/ready", (IProxyStateLookup state) => Available(state) > 0
            ? Results.Json(new { status = "ok" })
            : Results.Json(new { status = "no healthy replica" }, statusCode: 503));
        app.MapGet("/gateway/status", (HttpContext ctx, IProxyStateLookup state) => Status(ctx, state, counters, options));
        app.MapReverseProxy(p =>
        {
            p.UseMiddleware<RetryMiddleware>();
            p.UseLoadBalancing();
            p.UsePassiveHealthChecks();
        });
        return new GatewayServer(app, counters);
    }

    /// <summary>Names the replica that answered, and holds back a replica's 503 when another replica may take the request.</summary>
    private static ValueTask MarkResponse(ResponseTransformContext t)
    {
        var http = t.HttpContext;
        if (http.GetReverseProxyFeature().ProxiedDestination is { } d) http.Response.Headers["X-SharpSeek-Backend"] = d.Model.Config.Address;
        if (t.ProxyResponse?.StatusCode == HttpStatusCode.ServiceUnavailable && http.Items[RetryMiddleware.RetryAllowedItem] is true)
        {
            t.SuppressResponseBody = true;
            http.Items[RetryMiddleware.RefusedItem] = true;
        }
        return ValueTask.CompletedTask;
    }

    private static int Available(IProxyStateLookup state) =>
        state.TryGetCluster(ClusterId, out var c) ? c.DestinationsState.AvailableDestinations.Count : 0;

    private static Task Status(HttpContext ctx, IProxyStateLookup state, GatewayCounters counters, GatewayOptions options)
    {
        ctx.Response.ContentType = "application/json";
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("policy", options.Policy);
            w.WriteNumber("requests", counters.RequestCount);
            w.WriteNumber("retried", counters.RetryCount);
            w.WriteNumber("failed", counters.FailedCount);
            w.WriteNumber("broken_streams", counters.BrokenStreamCount);
            w.WriteNumber("no_backend", counters.NoBackendCount);
            w.WriteNumber("affinity_overrides", counters.AffinityOverrideCount);
            w.WriteStartArray("backends");
            if (state.TryGetCluster(ClusterId, out var cluster))
            {
                var available = cluster.DestinationsState.AvailableDestinations;
                foreach (var d in cluster.Destinations.Values.OrderBy(d => d.DestinationId, StringComparer.Ordinal))
                {
                    w.WriteStartObject();
                    w.WriteString("id", d.DestinationId);
                    w.WriteString("address", d.Model.Config.Address);
                    w.WriteBoolean("available", available.Contains(d));
                    w.WriteString("active_health", d.Health.Active.ToString());
                    w.WriteString("passive_health", d.Health.Passive.ToString());
                    w.WriteNumber("in_flight", d.ConcurrentRequestCount);
                    w.WriteNumber("routed", counters.PerBackend.GetValueOrDefault(d.DestinationId));
                    w.WriteEndObject();
                }
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return ctx.Response.Body.WriteAsync(buffer.ToArray()).AsTask();
    }

    public Task StartAsync(CancellationToken ct = default) => _app.StartAsync(ct);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
