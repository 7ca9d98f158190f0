using SharpSeek.Chat;
using SharpSeek.Serving;

namespace SharpSeek.Server;

/// <summary>How <c>sharpseek serve</c> runs.</summary>
public sealed record ServerOptions
{
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>0 picks a free port (see <see cref="SharpSeekServer.Urls"/>).</summary>
    public int Port { get; init; } = 8080;

    /// <summary>The one model's path (already resolved), when the server serves one model (<c>--model</c>).</summary>
    public string ModelPath { get; init; } = "";

    /// <summary>Folders whose models are served by name, each loaded when first asked for (<c>--models-dir</c>).</summary>
    public IReadOnlyList<string> ModelsDirectories { get; init; } = [];

    /// <summary>Also serve every model pulled into the Hugging Face hub cache (<c>--hub</c>).</summary>
    public bool HubCache { get; init; }

    /// <summary>The hub cache's folder (null: <see cref="SharpSeek.Hub.HubCache.Root"/>).</summary>
    public string? HubRoot { get; init; }

    /// <summary>One model (<see cref="ModelPath"/>) rather than folders of them.</summary>
    public bool IsSingleModel => ModelsDirectories.Count == 0 && !HubCache;

    /// <summary>How many models stay loaded, in how much memory, and for how long after their last request.</summary>
    public ModelPoolOptions Models { get; init; } = new();

    public ChatFormat? ChatFormat { get; init; }

    /// <summary>Chat template variables every request gets (<c>--template-kwargs</c>); a request's <c>chat_template_kwargs</c> override them.</summary>
    public IReadOnlyDictionary<string, System.Text.Json.JsonElement>? TemplateKwargs { get; init; }

    /// <summary>When set, requests must carry <c>Authorization: Bearer KEY</c> (<c>/metrics</c> too, unless <see cref="MetricsPublic"/>).</summary>
    public string? ApiKey { get; init; }

    /// <summary>Serve <c>/metrics</c> without the API key (for a Prometheus scraper that sends none).</summary>
    public bool MetricsPublic { get; init; }

    /// <summary>
    /// Origins whose browser pages may call the API (CORS, e.g. <c>http://localhost:3000</c>; <c>*</c> allows any).
    /// Empty: no CORS headers, so only same-origin pages (the built-in web app) can read the answers.
    /// </summary>
    public IReadOnlyList<string> CorsOrigins { get; init; } = [];

    /// <summary>Adds log providers (the CLI adds a one-line console logger); without it nothing is logged.</summary>
    public Action<Microsoft.Extensions.Logging.ILoggingBuilder>? Logging { get; init; }

    public SchedulerOptions Scheduler { get; init; } = new();

    /// <summary>Extra names clients may use for the one model (its own name is always accepted); not used with several models.</summary>
    public IReadOnlyList<string> Aliases { get; init; } = ["sharpseek", "deepseek-chat", "deepseek-reasoner"];

    /// <summary>Hears the bytes of weights paged in while the one model loads (the CLI draws a progress bar from it).</summary>
    public IProgress<Models.LoadProgress>? LoadProgress { get; init; }

    /// <summary>Largest request body accepted (<c>--max-body-mb</c>, 8 MiB by default); larger ones get 413 before they are read.</summary>
    public long MaxBodyBytes { get; init; } = 8L << 20;

    /// <summary>How long requests running at SIGTERM may go on before they are cancelled (<c>--drain-seconds</c>).</summary>
    public TimeSpan DrainTime { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Where the web app keeps conversations (SQLite); null keeps none.</summary>
    public string? DataDirectory { get; init; }
}
