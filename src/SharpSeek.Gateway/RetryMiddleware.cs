using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace SharpSeek.Gateway;

/// <summary>
/// The gateway's step in YARP's proxy pipeline, before load balancing: it keys the request (<see cref="PrefixKey"/>),
/// sends a request that failed before any byte reached the client once more to another replica, ends a stream whose
/// replica failed mid-way with an error event (YARP would reset the connection), and answers the gateway's own errors
/// (no healthy replica, a replica that cannot be reached) in OpenAI's error shape, or Ollama's under <c>/api</c>.
/// </summary>
internal sealed class RetryMiddleware(RequestDelegate next, GatewayCounters counters)
{
    /// <summary>Set by the gateway for the response transform: a 503 from the replica may be retried elsewhere.</summary>
    internal const string RetryAllowedItem = "sharpseek.retry-allowed";

    /// <summary>Set by the response transform when it held back a replica's 503 so the request can go elsewhere.</summary>
    internal const string RefusedItem = "sharpseek.refused";

    public async Task InvokeAsync(HttpContext ctx)
    {
        Interlocked.Increment(ref counters.Requests);
        var proxy = ctx.GetReverseProxyFeature();
        if (HttpMethods.IsPost(ctx.Request.Method)) await KeyAsync(ctx);
        var candidates = proxy.AvailableDestinations;

        // YARP aborts the client's connection when a replica fails mid-response; hold that back to end a stream cleanly.
        var lifetime = ctx.Features.Get<IHttpRequestLifetimeFeature>()!;
        var reset = ctx.Features.Get<IHttpResetFeature>();
        var deferred = new DeferredAbort(lifetime);
        ctx.Features.Set<IHttpRequestLifetimeFeature>(deferred);
        ctx.Features.Set<IHttpResetFeature>(null);
        try
        {
            for (int attempt = 0; ; attempt++)
            {
                ctx.Items[RetryAllowedItem] = attempt == 0 && candidates.Count > 1;
                await next(ctx);
                var chosen = proxy.ProxiedDestination;
                if (chosen is not null) counters.PerBackend.AddOrUpdate(chosen.DestinationId, 1, (_, n) => n + 1);
                if (attempt > 0 || ctx.Response.HasStarted || deferred.Requested || !FailedBeforeResponse(ctx)) break;
                var rest = candidates.Where(d => d != chosen).ToList();
                if (rest.Count == 0) break;
                Interlocked.Increment(ref counters.Retried);
                ctx.Features.Set<IForwarderErrorFeature>(null);
                ctx.Items.Remove(RefusedItem);
                ctx.Response.Clear();
                if (ctx.Request.Body.CanSeek) ctx.Request.Body.Position = 0;
                proxy.AvailableDestinations = rest;
            }
            await FinishAsync(ctx, deferred);
        }
        finally
        {
            ctx.Features.Set(lifetime);
            ctx.Features.Set(reset);
        }
    }

    /// <summary>Buffers the body (a retry sends it again) and reads its prefix key.</summary>
    private static async Task KeyAsync(HttpContext ctx)
    {
        ctx.Request.EnableBuffering();
        if (ctx.Request.ContentType?.Contains("json", StringComparison.OrdinalIgnoreCase) == true)
        {
            try
            {
                using var doc = await JsonDocument.ParseAsync(ctx.Request.Body, default, ctx.RequestAborted);
                if (PrefixKey.Of(doc.RootElement) is { } key) ctx.Items[PrefixAffinityPolicy.KeyItem] = key;
            }
            catch (JsonException) { }   // the replica answers bad JSON with its own 400
        }
        else await ctx.Request.Body.CopyToAsync(Stream.Null, ctx.RequestAborted);
        ctx.Request.Body.Position = 0;
    }

    /// <summary>True when the replica failed, or refused with 503, before the response began.</summary>
    private static bool FailedBeforeResponse(HttpContext ctx) =>
        ctx.Items.ContainsKey(RefusedItem) || ctx.Features.Get<IForwarderErrorFeature>()?.Error is
            ForwarderError.Request or ForwarderError.RequestCreation or ForwarderError.RequestBodyDestination
            or ForwarderError.ResponseHeaders or ForwarderError.ResponseBodyDestination;

    private async Task FinishAsync(HttpContext ctx, DeferredAbort deferred)
    {
        var error = ctx.Features.Get<IForwarderErrorFeature>()?.Error ?? ForwarderError.None;
        if (deferred.Requested)
        {
            if (error is ForwarderError.ResponseBodyDestination or ForwarderError.ResponseBodyCanceled && IsStream(ctx.Response))
            {
                Interlocked.Increment(ref counters.BrokenStreams);
                await WriteStreamErrorAsync(ctx, "the replica serving this stream failed before it was complete; the answer is cut off");
            }
            else deferred.Inner.Abort();
            return;
        }
        if (error == ForwarderError.None || ctx.Response.HasStarted) return;
        if (error is ForwarderError.RequestCanceled or ForwarderError.RequestBodyCanceled or ForwarderError.RequestBodyClient) return;   // the client left
        Interlocked.Increment(ref counters.Failed);
        var (status, message, code) = error switch
        {
            ForwarderError.NoAvailableDestinations => (503, "no healthy replica is available; retry shortly", "no_healthy_backend"),
            ForwarderError.RequestTimedOut => (504, "the replica did not answer in time", "backend_timeout"),
            _ => (502, $"the replica could not be reached or failed before answering ({error})", "backend_failed"),
        };
        if (error == ForwarderError.NoAvailableDestinations) Interlocked.Increment(ref counters.NoBackend);
        ctx.Response.Clear();
        ctx.Response.StatusCode = status;
        if (status == 503) ctx.Response.Headers.RetryAfter = "1";
        ctx.Response.ContentType = "application/json";
        await ctx.Response.WriteAsync(ErrorJson(ctx, message, code), ctx.RequestAborted);
    }

    private static bool IsStream(HttpResponse response) =>
        response.ContentType is { } t && (t.StartsWith("text/event-stream", StringComparison.OrdinalIgnoreCase) || t.StartsWith("application/x-ndjson", StringComparison.OrdinalIgnoreCase));

    private static async Task WriteStreamErrorAsync(HttpContext ctx, string message)
    {
        bool sse = ctx.Response.ContentType!.StartsWith("text/event-stream", StringComparison.OrdinalIgnoreCase);
        string json = ErrorJson(ctx, message, "backend_failed");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            // A stream cut inside an event is first closed with a blank line, so the error is an event of its own.
            await ctx.Response.WriteAsync(sse ? $"\n\ndata: {json}\n\n" : $"\n{json}\n", timeout.Token);
            await ctx.Response.Body.FlushAsync(timeout.Token);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException) { }
    }

    /// <summary>OpenAI's <c>{"error":{message,type,param,code}}</c>, or Ollama's <c>{"error":"…"}</c> under <c>/api</c>.</summary>
    private static string ErrorJson(HttpContext ctx, string message, string code)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            if (ctx.Request.Path.StartsWithSegments("/api")) w.WriteString("error", message);
            else
            {
                w.WriteStartObject("error");
                w.WriteString("message", message);
                w.WriteString("type", "server_error");
                w.WriteNull("param");
                w.WriteString("code", code);
                w.WriteEndObject();
            }
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>Records YARP's abort instead of doing it, so the stream can be ended with an error event first.</summary>
    private sealed class DeferredAbort(IHttpRequestLifetimeFeature inner) : IHttpRequestLifetimeFeature
    {
        public IHttpRequestLifetimeFeature Inner { get; } = inner;
        public bool Requested { get; private set; }

        public CancellationToken RequestAborted
        {
            get => Inner.RequestAborted;
            set => Inner.RequestAborted = value;
        }

        public void Abort() => Requested = true;
    }
}

/// <summary>
/// Passive health: a replica that refused the connection, or answered 503 (draining or still loading), leaves rotation
/// at once for <see cref="GatewayOptions.ReactivationPeriod"/>; the active <c>/ready</c> probes bring it back.
/// </summary>
internal sealed class FailFastHealthPolicy(Yarp.ReverseProxy.Health.IDestinationHealthUpdater updater, GatewayOptions options) : Yarp.ReverseProxy.Health.IPassiveHealthCheckPolicy
{
    public const string PolicyName = "SharpSeekFailFast";

    public string Name => PolicyName;

    public void RequestProxied(HttpContext context, ClusterState cluster, DestinationState destination)
    {
        var error = context.Features.Get<IForwarderErrorFeature>()?.Error;
        bool down = error is ForwarderError.Request or ForwarderError.ResponseHeaders or ForwarderError.ResponseBodyDestination
            || context.Items.ContainsKey(RetryMiddleware.RefusedItem) || (error is null && context.Response.StatusCode == 503);
        if (down) updater.SetPassive(cluster, destination, DestinationHealth.Unhealthy, options.ReactivationPeriod);
    }
}
