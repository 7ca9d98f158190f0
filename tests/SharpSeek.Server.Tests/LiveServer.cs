using SharpSeek.Chat;
using SharpSeek.Serving;

namespace SharpSeek.Server.Tests;

/// <summary>A real <c>sharpseek serve</c> on 127.0.0.1 and a free port, with the tiny DeepSeek model.</summary>
public sealed class LiveServer : IAsyncDisposable
{
    private readonly SharpSeekServer _server;

    private LiveServer(SharpSeekServer server, Uri baseUri)
    {
        _server = server;
        BaseUri = baseUri;
        // A response disposed before its end closes the connection at once, as a client that hangs up does. By default
        // .NET reads on (up to 1 MB, for 2 s) to keep the connection, so the server saw a stream's client leave only then,
        // or never when the stream ended meanwhile.
        Http = new HttpClient(new SocketsHttpHandler { MaxResponseDrainSize = 0 }) { BaseAddress = baseUri, Timeout = TimeSpan.FromSeconds(60) };
    }

    public Uri BaseUri { get; }
    public HttpClient Http { get; }
    public ChatPipeline Pipeline => _server.Host.Pipeline;
    public Drain Drain => _server.Drain;

    /// <summary>
    /// Starts a server; <paramref name="reasoning"/> uses the R1 template (answers open in a reasoning block), <paramref name="configure"/>
    /// changes any other option, <paramref name="modelPath"/> serves another model (the bundled one, say) with its own template.
    /// </summary>
    public static async Task<LiveServer> StartAsync(bool reasoning = false, string? apiKey = null, SchedulerOptions? scheduler = null, string? dataDirectory = null,
        Func<ServerOptions, ServerOptions>? configure = null, string? modelPath = null, TimeSpan? drainTime = null,
        long maxBodyBytes = 8L << 20)
    {
        var options = new ServerOptions
        {
            ModelPath = modelPath ?? Fixtures.DeepSeekModel,
            Port = 0,
            ApiKey = apiKey,
            ChatFormat = modelPath is not null ? null : reasoning ? ChatFormat.DeepSeekR1 : ChatFormat.DeepSeekV3,
            Scheduler = scheduler ?? new SchedulerOptions { ContextSize = 256 },
            DataDirectory = dataDirectory,
            MaxBodyBytes = maxBodyBytes,
            DrainTime = drainTime ?? TimeSpan.FromSeconds(30),
        };
        var server = SharpSeekServer.Create(configure is null ? options : configure(options));
        await server.StartAsync();
        await server.Host.Loading;
        return new LiveServer(server, new Uri(server.Urls[0].TrimEnd('/') + "/"));
    }

    internal static async Task<(SharpSeekServer Server, Uri Uri)> StartWithLoaderAsync(Func<ChatPipeline> load)
    {
        var options = new ServerOptions { ModelPath = Fixtures.DeepSeekModel, Port = 0 };
        var server = SharpSeekServer.Create(options, new ModelHost(options, load));
        await server.StartAsync();
        return (server, new Uri(server.Urls[0].TrimEnd('/') + "/"));
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _server.DisposeAsync();
    }
}
