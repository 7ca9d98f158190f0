using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using SharpSeek.Serving;

namespace SharpSeek.Server;

/// <summary>
/// The models a server serves, by name (<see cref="ModelCatalog"/>), loaded and unloaded by a <see cref="ModelPool"/>.
/// With one model (<c>serve --model</c>) it loads at start and the server answers 503 until it is ready; it stays loaded
/// unless a request's <c>keep_alive</c> says otherwise. With several (<c>--models-dir</c>, <c>--hub</c>) each loads when a
/// request first names it. A request holds its model through a lease released when the response has ended.
/// </summary>
public sealed class ModelHost : IDisposable
{
    private readonly Task _startup;

    public ModelHost(ServerOptions options, ILoggerFactory? logs = null)
        : this(options, CatalogOf(options), m => Load(options, m), logs?.CreateLogger("SharpSeek.Server.Models"), null)
    {
    }

    /// <summary>One model from a custom loader (tests hold it back to see the 503s).</summary>
    internal ModelHost(ServerOptions options, Func<ChatPipeline> load)
        : this(options, ModelCatalog.Single(options.ModelPath, options.Aliases), _ => load(), null, null)
    {
    }

    internal ModelHost(ServerOptions options, ModelCatalog catalog, Func<CatalogModel, ChatPipeline> load, ILogger? log, TimeProvider? time)
    {
        Catalog = catalog;
        ContextSize = options.Scheduler.ContextSize;
        BlockSize = options.Scheduler.BlockSize;
        // One model stays loaded unless asked otherwise, as `serve --model` always kept it.
        var pool = catalog.IsSingle ? options.Models with { MaxLoaded = 1, KeepAlive = options.Models.KeepAlive ?? KeepAlive.Forever } : options.Models;
        Pool = new ModelPool(pool, load, log, time);
        Created = DateTimeOffset.UtcNow;
        _startup = catalog.IsSingle ? Preload(catalog.Models[0]) : Task.CompletedTask;
    }

    private async Task Preload(CatalogModel model)
    {
        using var lease = await Pool.AcquireAsync(model, null, CancellationToken.None).ConfigureAwait(false);
    }

    private static ModelCatalog CatalogOf(ServerOptions o) =>
        !o.IsSingleModel ? ModelCatalog.Scan(o.ModelsDirectories, o.HubCache, o.HubRoot)
        : o.ModelPath.Length > 0 ? ModelCatalog.Single(o.ModelPath, o.Aliases)
        : throw new ArgumentException("a server needs a model path, models folders or the hub cache", nameof(o));

    private static ChatPipeline Load(ServerOptions o, CatalogModel model)
    {
        var scheduler = o.Scheduler;
        // Each model keeps its prefix blocks in a folder of its own: a store indexes and evicts everything in its folder.
        if (!o.IsSingleModel && scheduler.PrefixCacheDirectory is { } dir)
            scheduler = scheduler with { PrefixCacheDirectory = Path.Combine(dir, string.Join("--", model.Name.Split('/', ':', '\\'))) };
        return new ChatPipeline(ModelBundle.Load(model.Path, o.ChatFormat, o.IsSingleModel ? o.LoadProgress : null), scheduler, ownsBundle: true)
        {
            DefaultTemplateKwargs = o.TemplateKwargs,
        };
    }

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, (DateTime Stamp, ModelSummary? Summary)> _summaries = new(StringComparer.Ordinal);

    /// <summary>What <c>/api/tags</c> and <c>/api/show</c> say about a model without loading it; null when its files cannot be read (loading it says why).</summary>
    public ModelSummary? Summary(CatalogModel model)
    {
        DateTime stamp;
        try { stamp = ModelSummary.WeightFiles(model.Path).Select(f => f.LastWriteTimeUtc).DefaultIfEmpty().Max(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or SharpSeekException) { return null; }
        if (_summaries.TryGetValue(model.Path, out var known) && known.Stamp == stamp) return known.Summary;
        ModelSummary? summary;
        try { summary = ModelSummary.Read(model.Path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or SharpSeekException) { summary = null; }
        _summaries[model.Path] = (stamp, summary);
        return summary;
    }

    /// <summary>The context each sequence may fill, as configured (a model's own may be smaller).</summary>
    public int ContextSize { get; }

    /// <summary>Tokens per prefix-cache block.</summary>
    public int BlockSize { get; }

    public ModelCatalog Catalog { get; }
    public ModelPool Pool { get; }
    public DateTimeOffset Created { get; }

    /// <summary>One model, loaded at start (<c>--model</c>), rather than several loaded on demand.</summary>
    public bool IsSingle => Catalog.IsSingle;

    /// <summary>The start: the one model's first load; complete at once with several models.</summary>
    public Task Loading => _startup;

    /// <summary>Ready to answer: the one model has loaded (several models load on demand, so such a server is ready at once).</summary>
    public bool IsReady => _startup.IsCompletedSuccessfully;

    /// <summary>The one model's pipeline while it is loaded (tests, the CLI's ready line); 503 while loading, 500 if it failed.</summary>
    public ChatPipeline Pipeline
    {
        get
        {
            if (!IsSingle) throw new InvalidOperationException("a server of several models has no single pipeline");
            CheckStartup();
            return Pool.Loaded.FirstOrDefault(m => m.Ready)?.Pipeline
                ?? throw new ApiException(503, "the model is not loaded now (a request loads it again)", "server_error", code: "model_unloaded");
        }
    }

    private void CheckStartup()
    {
        if (_startup.IsCompletedSuccessfully) return;
        if (_startup.IsFaulted) throw new ApiException(500, "the model failed to load: " + _startup.Exception!.InnerException!.Message, "server_error", code: "model_load_failed");
        throw new ApiException(503, "the model is still loading; retry shortly", "server_error", code: "model_loading");
    }

    /// <summary>The names a request may use: every model's, and the single model's aliases.</summary>
    public IEnumerable<string> Names => [.. Catalog.Models.Select(m => m.Name), .. Catalog.Aliases];

    /// <summary>
    /// The model a request names (absent or empty: the only one), or a 404 naming the models there are (400 when the
    /// server has several and the request names none).
    /// </summary>
    public CatalogModel Find(string? model)
    {
        var models = Catalog.Models;
        if (string.IsNullOrEmpty(model))
        {
            if (models.Count == 1) return models[0];
            throw new ApiException(400, models.Count == 0 ? $"'model' is required, and this server has no models yet (it looks in {Catalog.Where})"
                : $"'model' is required: this server has {Available(models)}", "invalid_request_error", "model", "model_required");
        }
        return Catalog.Find(model) ?? throw new ApiException(404,
            models.Count == 0 ? $"The model '{model}' does not exist: this server has no models yet (it looks in {Catalog.Where})"
                : $"The model '{model}' does not exist: this server has {Available(Catalog.Models)}", "invalid_request_error", "model", "model_not_found");
    }

    private string Available(IReadOnlyList<CatalogModel> models) =>
        string.Join(", ", models.Select(m => m.Name).Take(20)) + (models.Count > 20 ? $" and {models.Count - 20} more (GET /v1/models lists them)" : "") +
        (Catalog.Aliases.Count > 0 ? $" (also called {string.Join(", ", Catalog.Aliases)})" : "");

    /// <summary>
    /// Holds the model <paramref name="model"/> names for the rest of this request, loading it first if needed; the
    /// request's <paramref name="keepAlive"/> sets how long it stays loaded afterwards.
    /// </summary>
    public async Task<ModelPool.ModelLease> AcquireAsync(HttpContext ctx, string? model, KeepAlive? keepAlive = null)
    {
        CheckStartup();
        var entry = Find(model);
        RequestLog.Model(ctx, entry.Name);
        ModelPool.ModelLease lease;
        try { lease = await Pool.AcquireAsync(entry, keepAlive, ctx.RequestAborted); }
        catch (ModelTooLargeException e) { throw new ApiException(507, e.Message, "server_error", "model", "insufficient_memory"); }
        catch (Exception e) when (e is not OperationCanceledException and not ApiException and not ObjectDisposedException)
        {
            throw new ApiException(500, $"the model '{entry.Name}' failed to load: {e.Message}", "server_error", "model", "model_load_failed");
        }
        ctx.Response.RegisterForDispose(lease);
        return lease;
    }

    public void Dispose() => Pool.Dispose();
}
