using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace SharpSeek.Server;

/// <summary>
/// The HTTP server: OpenAI/DeepSeek routes under <c>/v1</c>, Ollama's under <c>/api</c>, plus <c>/health</c> and
/// <c>/metrics</c>. Kestrel starts at once and the model loads behind it (503 until ready).
/// </summary>
public sealed class SharpSeekServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private SharpSeekServer(WebApplication app, ModelHost host)
    {
        _app = app;
        Host = host;
    }

    public ModelHost Host { get; }

    /// <summary>The addresses Kestrel listens on (after <see cref="StartAsync"/>).</summary>
    public IReadOnlyList<string> Urls => [.. _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses];

    public static SharpSeekServer Create(ServerOptions options) => Create(options, new ModelHost(options));

    internal static SharpSeekServer Create(ServerOptions options, ModelHost host)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            if (options.Host is "localhost") k.ListenLocalhost(options.Port);
            else k.Listen(IPAddress.Parse(options.Host), options.Port);
            // Kestrel stops a chunked body at the limit too (BadHttpRequestException, 413).
            k.Limits.MaxRequestBodySize = options.MaxBodyBytes;
        });
        builder.Services.AddSingleton(host);
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton<LargeRequests>();
        var store = new WebApp.ConversationStore(options.DataDirectory);
        builder.Services.AddSingleton(store);
        var app = builder.Build();
        app.Use(async (ctx, next) =>
        {
            try
            {
                if (options.ApiKey is { } key && NeedsKey(ctx.Request.Path) && ctx.Request.Headers.Authorization.ToString() != "Bearer " + key)
                    throw new ApiException(401, "Incorrect API key provided", "invalid_request_error", code: "invalid_api_key");
                // A declared body over the limit is refused before a byte of it is read.
                if (ctx.Request.ContentLength > options.MaxBodyBytes)
                    throw new ApiException(413, $"the request body is {ctx.Request.ContentLength} bytes; this server accepts at most {options.MaxBodyBytes} bytes (--max-body-mb)", code: "request_too_large");
                await next(ctx);
            }
            catch (Exception e) when (!ctx.Response.HasStarted && e is not OperationCanceledException)
            {
                var api = e as ApiException ?? Choices.Map(e) as ApiException
                    ?? (e is BadHttpRequestException bad ? new ApiException(bad.StatusCode, bad.Message, code: bad.StatusCode == 413 ? "request_too_large" : "bad_request") : null)
                    ?? new ApiException(500, e.Message, "server_error");
                // The client may still be sending a body nobody will read: close the connection after the answer.
                if (api.Status == 413) ctx.Response.Headers.Connection = "close";
                if (api.Status == 429) ctx.Response.Headers.RetryAfter = "1";
                if (ctx.Request.Path.StartsWithSegments("/api"))
                {
                    // Ollama's clients read {"error": "..."}.
                    await SseWriter.JsonAsync(ctx.Response, w => { w.WriteStartObject(); w.WriteString("error", api.Message); w.WriteEndObject(); }, api.Status);
                }
                else await SseWriter.JsonAsync(ctx.Response, w => OpenAiJson.Error(w, api), api.Status);
            }
            catch (OperationCanceledException) when (ctx.RequestAborted.IsCancellationRequested)
            {
                // The client left; its sequence is already cancelled.
            }
        });

        app.MapPost("/v1/chat/completions", ChatCompletionsEndpoint.Handle);
        app.MapPost("/chat/completions", ChatCompletionsEndpoint.Handle);
        app.MapPost("/v1/completions", CompletionsEndpoint.Handle);
        app.MapPost("/beta/completions", CompletionsEndpoint.Handle);
        app.MapGet("/v1/models", ModelsList);
        app.MapGet("/models", ModelsList);
        app.MapGet("/health", Health);
        app.MapGet("/metrics", MetricsEndpoint.Handle);
        OllamaEndpoints.Map(app);
        WebApp.WebAppEndpoints.Map(app, store);
        app.MapFallback((HttpContext ctx) => throw new ApiException(404, $"no route {ctx.Request.Method} {ctx.Request.Path}", code: "not_found"));
        return new SharpSeekServer(app, host);
    }

    // The web app's pages are public; its API and the model APIs need the key.
    private static bool NeedsKey(PathString path) => !(path == "/health" || path == "/" || path == "/metrics" || path.StartsWithSegments("/assets"));

    private static Task ModelsList(HttpContext ctx, ModelHost host)
    {
        var names = host.Names.ToList();
        long created = host.Created.ToUnixTimeSeconds();
        return SseWriter.JsonAsync(ctx.Response, w =>
        {
            w.WriteStartObject();
            w.WriteString("object", "list");
            w.WriteStartArray("data");
            foreach (string n in names)
            {
                w.WriteStartObject();
                w.WriteString("id", n);
                w.WriteString("object", "model");
                w.WriteNumber("created", created);
                w.WriteString("owned_by", "sharpseek");
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        });
    }

    private static Task Health(HttpContext ctx, ModelHost host)
    {
        string status = host.IsReady ? "ok" : host.Loading.IsFaulted ? "error" : "loading";
        return SseWriter.JsonAsync(ctx.Response, w =>
        {
            w.WriteStartObject();
            w.WriteString("status", status);
            if (host.Loading.IsFaulted) w.WriteString("error", host.Loading.Exception!.InnerException!.Message);
            w.WriteEndObject();
        }, host.IsReady ? 200 : 503);
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
