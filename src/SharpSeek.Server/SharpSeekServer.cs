using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace SharpSeek.Server;

/// <summary>
/// The HTTP server: OpenAI/DeepSeek routes under <c>/v1</c>, Ollama's under <c>/api</c>, plus <c>/health</c> (live),
/// <c>/ready</c> (loaded and not draining) and <c>/metrics</c>. Kestrel starts at once and the model loads behind it (503
/// until ready); SIGTERM drains (<see cref="SharpSeek.Server.Drain"/>) before the host stops.
/// </summary>
public sealed class SharpSeekServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private SharpSeekServer(WebApplication app, ModelHost host, Drain drain)
    {
        _app = app;
        Host = host;
        Drain = drain;
    }

    public ModelHost Host { get; }

    /// <summary>The graceful drain SIGTERM starts (tests and embedders may start it themselves).</summary>
    public Drain Drain { get; }

    /// <summary>The addresses Kestrel listens on (after <see cref="StartAsync"/>).</summary>
    public IReadOnlyList<string> Urls => [.. _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses];

    public static SharpSeekServer Create(ServerOptions options) => Create(options, null);

    /// <summary>A server of <paramref name="host"/>'s models (null: the models <paramref name="options"/> name, logging through the server's logger).</summary>
    internal static SharpSeekServer Create(ServerOptions options, ModelHost? host)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        // Our request lines at Information; the framework's own chatter only from Warning up.
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Logging.AddFilter("SharpSeek", LogLevel.Information);
        options.Logging?.Invoke(builder.Logging);
        if (options.CorsOrigins.Count > 0)
        {
            builder.Services.AddCors(c => c.AddDefaultPolicy(p =>
            {
                if (options.CorsOrigins.Contains("*")) p.AllowAnyOrigin(); else p.WithOrigins([.. options.CorsOrigins]);
                p.AllowAnyHeader().AllowAnyMethod().WithExposedHeaders("Retry-After");
            }));
        }
        builder.WebHost.ConfigureKestrel(k =>
        {
            if (options.Host is "localhost") k.ListenLocalhost(options.Port);
            else k.Listen(IPAddress.Parse(options.Host), options.Port);
            // Kestrel stops a chunked body at the limit too (BadHttpRequestException, 413).
            k.Limits.MaxRequestBodySize = options.MaxBodyBytes;
        });
        builder.Services.AddSingleton(sp => host ??= new ModelHost(options, sp.GetRequiredService<ILoggerFactory>()));
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton<LargeRequests>();
        var drain = new Drain(options.DrainTime);
        builder.Services.AddSingleton(drain);
        builder.Services.AddSingleton<IHostLifetime, DrainingLifetime>();
        // The drain has already waited for (or cancelled) the requests; Kestrel's own wait only closes connections.
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(5));
        var store = new WebApp.ConversationStore(options.DataDirectory);
        builder.Services.AddSingleton(store);
        var app = builder.Build();
        // Now, not at the first request: a single model starts loading while Kestrel starts.
        host = app.Services.GetRequiredService<ModelHost>();
        var requestLog = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("SharpSeek.Server.Requests");
        app.Use((ctx, next) => RequestLog.Middleware(ctx, next, requestLog));
        // Before the key check: a CORS preflight carries no Authorization header, and a refused call still needs the
        // CORS headers for the page to read the 401.
        if (options.CorsOrigins.Count > 0) app.UseCors();
        app.Use(async (ctx, next) =>
        {
            Drain.Lease? lease = null;
            try
            {
                if (options.ApiKey is { } key && NeedsKey(ctx.Request.Path, options) && ctx.Request.Headers.Authorization.ToString() != "Bearer " + key)
                    throw new ApiException(401, "Incorrect API key provided", "invalid_request_error", code: "invalid_api_key");
                // A declared body over the limit is refused before a byte of it is read.
                if (ctx.Request.ContentLength > options.MaxBodyBytes)
                    throw new ApiException(413, $"the request body is {ctx.Request.ContentLength} bytes; this server accepts at most {options.MaxBodyBytes} bytes (--max-body-mb)", code: "request_too_large");
                if (!IsProbe(ctx.Request.Path) && (lease = drain.Enter(ctx)) is null)
                    throw new ApiException(503, "the server is shutting down; retry on another replica", "server_error", code: "server_draining");
                await next(ctx);
            }
            catch (Exception e) when (!ctx.Response.HasStarted && (e is not OperationCanceledException || lease?.CutOff == true))
            {
                var api = e as ApiException ?? Choices.Map(e) as ApiException
                    ?? (e is BadHttpRequestException bad ? new ApiException(bad.StatusCode, bad.Message, code: bad.StatusCode == 413 ? "request_too_large" : "bad_request") : null)
                    ?? (e is OperationCanceledException ? Drain.CutOffError : new ApiException(500, e.Message, "server_error"));
                // The client may still be sending a body nobody will read: close the connection after the answer.
                if (api.Status == 413) ctx.Response.Headers.Connection = "close";
                if (api.Status is 429 or 503) ctx.Response.Headers.RetryAfter = "1";
                if (ctx.Request.Path.StartsWithSegments("/api"))
                {
                    // Ollama's clients read {"error": "..."}.
                    await SseWriter.JsonAsync(ctx.Response, w => { w.WriteStartObject(); w.WriteString("error", api.Message); w.WriteEndObject(); }, api.Status, CancellationToken.None);
                }
                else await SseWriter.JsonAsync(ctx.Response, w => OpenAiJson.Error(w, api), api.Status, CancellationToken.None);
            }
            catch (OperationCanceledException) when (lease?.CutOff == true)
            {
                // The drain's grace period ran out mid-stream: the stream ends with an error event, not a bare close.
                // A client that stopped reading gets 2 s for it, and then its connection is closed.
                using var stuck = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                using var abort = stuck.Token.Register(ctx.Abort);
                try { await new SseWriter(ctx.Response, ndjson: ctx.Request.Path.StartsWithSegments("/api")).ErrorAsync(Drain.CutOffError, CancellationToken.None); }
                catch (Exception e) when (e is IOException or OperationCanceledException) { }   // the client left meanwhile
            }
            catch (OperationCanceledException) when (ctx.RequestAborted.IsCancellationRequested)
            {
                // The client left; its sequence is already cancelled.
            }
            finally
            {
                lease?.Dispose();
            }
        });

        app.MapPost("/v1/chat/completions", ChatCompletionsEndpoint.Handle);
        app.MapPost("/chat/completions", ChatCompletionsEndpoint.Handle);
        app.MapPost("/v1/completions", CompletionsEndpoint.Handle);
        app.MapPost("/beta/completions", CompletionsEndpoint.Handle);
        app.MapGet("/v1/models", ModelsList);
        app.MapGet("/models", ModelsList);
        app.MapGet("/health", Health);
        app.MapGet("/ready", Ready);
        app.MapGet("/metrics", MetricsEndpoint.Handle);
        OllamaEndpoints.Map(app);
        WebApp.WebAppEndpoints.Map(app, store);
        app.MapFallback((HttpContext ctx) => throw new ApiException(404, $"no route {ctx.Request.Method} {ctx.Request.Path}", code: "not_found"));
        return new SharpSeekServer(app, host, drain);
    }

    // The web app's pages and the probes are public; its API, the model APIs and the metrics (unless --metrics-public) need the key.
    private static bool NeedsKey(PathString path, ServerOptions options) =>
        !(path == "/health" || path == "/ready" || path == "/" || path == "/favicon.ico" || path.StartsWithSegments("/assets") || (path == "/metrics" && options.MetricsPublic));

    // Probes and metrics answer while draining, and a drain does not wait for them.
    private static bool IsProbe(PathString path) => path == "/health" || path == "/ready" || path == "/metrics";

    /// <summary>
    /// <c>/v1/models</c>: every model the server has, loaded or not, with vLLM's <c>root</c> (the model a name stands for, so
    /// the web app's picker tells models from aliases) and LM Studio's <c>state</c> (<c>loaded</c>, <c>loading</c> or
    /// <c>not-loaded</c>).
    /// </summary>
    private static Task ModelsList(HttpContext ctx, ModelHost host)
    {
        var models = host.Catalog.Models;
        var states = host.Pool.Loaded.ToDictionary(m => m.Model.Name, m => m.Ready ? "loaded" : "loading", StringComparer.OrdinalIgnoreCase);
        long created = host.Created.ToUnixTimeSeconds();
        var pipelines = host.Pool.Loaded.Where(m => m.Ready).ToDictionary(m => m.Model.Name, m => m.Pipeline!, StringComparer.OrdinalIgnoreCase);
        return SseWriter.JsonAsync(ctx.Response, w =>
        {
            w.WriteStartObject();
            w.WriteString("object", "list");
            w.WriteStartArray("data");
            foreach (var m in models)
                foreach (string id in host.IsSingle ? host.Names : [m.Name])
                {
                    w.WriteStartObject();
                    w.WriteString("id", id);
                    w.WriteString("object", "model");
                    w.WriteNumber("created", created);
                    w.WriteString("owned_by", "sharpseek");
                    w.WriteString("root", m.Name);
                    w.WriteString("state", states.GetValueOrDefault(m.Name, "not-loaded"));
                    // Not in OpenAI's schema (clients ignore it): what the model can do, in Ollama's words, and how it writes tool calls.
                    Capabilities.Write(w, pipelines.GetValueOrDefault(m.Name));
                    w.WriteEndObject();
                }
            w.WriteEndArray();
            w.WriteEndObject();
        });
    }

    /// <summary>Liveness: 200 while the process serves, loading or draining included; 503 only when the one model failed to load at start.</summary>
    private static Task Health(HttpContext ctx, ModelHost host, Drain drain) =>
        Status(ctx, host, drain, host.Loading.IsFaulted ? 503 : 200);

    /// <summary>Readiness: 200 when the server is not draining and, with one model, that model has loaded (several models load on demand).</summary>
    private static Task Ready(HttpContext ctx, ModelHost host, Drain drain) =>
        Status(ctx, host, drain, host.IsReady && !drain.IsDraining ? 200 : 503);

    private static Task Status(HttpContext ctx, ModelHost host, Drain drain, int code)
    {
        string status = host.Loading.IsFaulted ? "error" : !host.IsReady ? "loading" : drain.IsDraining ? "draining" : "ok";
        if (code == 503) ctx.Response.Headers.RetryAfter = "1";
        return SseWriter.JsonAsync(ctx.Response, w =>
        {
            w.WriteStartObject();
            w.WriteString("status", status);
            if (host.Loading.IsFaulted) w.WriteString("error", host.Loading.Exception!.InnerException!.Message);
            w.WriteEndObject();
        }, code);
    }

    public Task StartAsync(CancellationToken ct = default) => _app.StartAsync(ct);

    /// <summary>
    /// Cancelled when the host begins to stop. ASP.NET's console lifetime takes SIGINT/SIGTERM for itself (it stops the host
    /// and keeps the process alive for a graceful exit), so a caller waiting only on its own token would wait forever.
    /// </summary>
    public CancellationToken Stopping => _app.Lifetime.ApplicationStopping;

    /// <summary>Runs until <paramref name="ct"/> is cancelled (Ctrl+C in the CLI).</summary>
    public async Task RunAsync(CancellationToken ct)
    {
        await _app.StartAsync(ct);
        using var either = CancellationTokenSource.CreateLinkedTokenSource(ct, Stopping);
        try { await Task.Delay(Timeout.Infinite, either.Token); }
        catch (OperationCanceledException) { }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        var store = _app.Services.GetRequiredService<WebApp.ConversationStore>();
        await _app.DisposeAsync();
        store.Dispose();
        Host.Dispose();
    }
}
