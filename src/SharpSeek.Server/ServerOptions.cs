using SharpSeek.Chat;
using SharpSeek.Serving;

namespace SharpSeek.Server;

/// <summary>How <c>sharpseek serve</c> runs.</summary>
public sealed record ServerOptions
{
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>0 picks a free port (see <see cref="SharpSeekServer.Urls"/>).</summary>
    public int Port { get; init; } = 8080;

    /// <summary>The model path (already resolved).</summary>
    public required string ModelPath { get; init; }

    public ChatFormat? ChatFormat { get; init; }

    /// <summary>When set, requests must carry <c>Authorization: Bearer KEY</c>.</summary>
    public string? ApiKey { get; init; }

    public SchedulerOptions Scheduler { get; init; } = new();

    /// <summary>Extra model names clients may ask for (the model's own name and DeepSeek's are always accepted).</summary>
    public IReadOnlyList<string> Aliases { get; init; } = ["sharpseek", "deepseek-chat", "deepseek-reasoner"];

    /// <summary>Hears the bytes of weights paged in while the model loads (the CLI draws a progress bar from it).</summary>
    public IProgress<Models.LoadProgress>? LoadProgress { get; init; }

    /// <summary>Offer tools to models without a tool-call format by describing them in the system prompt (<c>--tool-fallback</c>).</summary>
    public bool ToolFallback { get; init; }

    /// <summary>Where the web app keeps conversations (SQLite); null keeps none.</summary>
    public string? DataDirectory { get; init; }
}
