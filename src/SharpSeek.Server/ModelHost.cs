using SharpSeek.Serving;

namespace SharpSeek.Server;

/// <summary>
/// Owns the model: loads it in the background (the server answers 503 meanwhile), then serves the pipeline.
/// </summary>
public sealed class ModelHost : IDisposable
{
    private readonly Task<ChatPipeline> _loading;
    private readonly IReadOnlyList<string> _aliases;

    public ModelHost(ServerOptions options)
        : this(options, () => new ChatPipeline(ModelBundle.Load(options.ModelPath, options.ChatFormat, options.LoadProgress), options.Scheduler, ownsBundle: true) { DefaultTemplateKwargs = options.TemplateKwargs })
    {
    }

    /// <summary>With a custom loader (tests hold it back to see the 503s).</summary>
    internal ModelHost(ServerOptions options, Func<ChatPipeline> load)
    {
        _aliases = options.Aliases;
        _loading = Task.Run(load);
        Created = DateTimeOffset.UtcNow;
    }

    public DateTimeOffset Created { get; }

    public Task Loading => _loading;

    public bool IsReady => _loading.IsCompletedSuccessfully;

    /// <summary>The pipeline; 503 while loading, 500 if loading failed.</summary>
    public ChatPipeline Pipeline
    {
        get
        {
            if (_loading.IsCompletedSuccessfully) return _loading.Result;
            if (_loading.IsFaulted) throw new ApiException(500, "the model failed to load: " + _loading.Exception!.InnerException!.Message, "server_error", code: "model_load_failed");
            throw new ApiException(503, "the model is still loading; retry shortly", "server_error", code: "model_loading");
        }
    }

    /// <summary>The names a request may use for the model.</summary>
    public IEnumerable<string> Names => [Pipeline.Bundle.Name, .. _aliases];

    /// <summary>Checks the requested model name (absent or empty means the loaded one); 404 if it is another.</summary>
    public ChatPipeline For(string? model)
    {
        var p = Pipeline;
        if (string.IsNullOrEmpty(model)) return p;
        string name = model.EndsWith(":latest", StringComparison.Ordinal) ? model[..^":latest".Length] : model;
        if (Names.Any(n => string.Equals(n, name, StringComparison.OrdinalIgnoreCase))) return p;
        throw new ApiException(404, $"The model '{model}' does not exist (this server has {p.Bundle.Name})", "invalid_request_error", "model", "model_not_found");
    }

    public void Dispose()
    {
        try { _loading.Wait(); } catch (AggregateException) { return; }
        _loading.Result.Dispose();
    }
}
