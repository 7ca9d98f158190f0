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
        });
        builder.Services.AddSingleton(host);
        var store = new WebApp.ConversationStore(options.DataDirectory);
        builder.Services.AddSingleton(store);
        var app = builder.Build();
        app.Use(async (ctx, next) =>
        {
            try
            {
                if (options.ApiKey is { } key && NeedsKey(ctx.Request.Path) && ctx.Request.Headers.Authorization.ToString() != "Bearer " + key)
                    throw new ApiException(401, "Incorrect API key provided", "invalid_request_error", code: "invalid_api_key");
                await next(ctx);
            }
            catch (Exception e) when (!ctx.Response.HasStarted && e is not OperationCanceledException)
            {
                var api = e as ApiException ?? Choices.Map(e) as ApiException ?? new ApiException(500, e.Message, "server_error");
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
        var pipeline = host.Pipeline;
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
                // Not in OpenAI's schema (clients ignore it): what the model can do, in Ollama's words, and how it writes tool calls.
                Capabilities.Write(w, pipeline);
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
