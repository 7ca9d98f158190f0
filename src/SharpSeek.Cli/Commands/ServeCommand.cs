using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using SharpSeek.Chat;
using SharpSeek.Server;
using SharpSeek.Serving;

namespace SharpSeek.Cli.Commands;

/// <summary>
/// <c>sharpseek serve [--model … | --models-dir DIR… | --hub] [--host 127.0.0.1] [--port 8080] [--api-key KEY] [--cors-origin ORIGIN]… [--metrics-public] [--drain-seconds 30]</c>:
/// the OpenAI/DeepSeek/Ollama-compatible server. With one model it listens at once and loads the model behind it (503 until
/// ready); with <c>--models-dir</c> or <c>--hub</c> it serves every model there by name, loading each on first use and
/// unloading the least recently used past <c>--max-loaded</c> or <c>--max-memory-gb</c>, or once <c>--keep-alive</c> runs
/// out. SIGTERM or Ctrl+C drains it (new requests 503, running ones get <c>--drain-seconds</c> to finish) and exits 0; a
/// second Ctrl+C cuts the drain short.
/// </summary>
internal static class ServeCommand
{
    public const string Name = "serve";

    public static Command Create()
    {
        var model = new Option<string?>("--model", "-m") { Description = $"Model: a directory, a .gguf file, or a pulled owner/repo (default: the bundled {ModelLocator.DefaultRelativePath})" };
        var host = new Option<string>("--host") { Description = "Address to listen on", DefaultValueFactory = _ => "127.0.0.1" };
        var port = new Option<int>("--port", "-p") { Description = "Port (0 picks a free one)", DefaultValueFactory = _ => 8080 };
        var apiKey = new Option<string?>("--api-key") { Description = "Require Authorization: Bearer KEY (default: SHARPSEEK_API_KEY, else none)" };
        var format = new Option<string?>("--chat-format") { Description = "Override the model's chat template with a built-in format: deepseek-v3, deepseek-r1, chatml" };
        var kwargs = new Option<string?>("--template-kwargs") { Description = "Chat template variables every request gets, as a JSON object (a request's chat_template_kwargs override them)" };
        var ctx = new Option<int>("--ctx") { Description = "Context size per sequence (prompt + answer)", DefaultValueFactory = _ => 4096 };
        var parallel = new Option<int>("--parallel") { Description = "Sequences decoded together", DefaultValueFactory = _ => 8 };
        var queue = new Option<int>("--queue") { Description = "Requests that may wait; more get 429", DefaultValueFactory = _ => 32 };
        var data = new Option<string?>("--data-dir") { Description = "Where the web app keeps conversations (default: the user's local app data, sharpseek/)" };
        var prefixDir = new Option<string?>("--prefix-cache-dir") { Description = "Save prefix-cache blocks here so context caching survives a restart (default: memory only)" };
        var prefixMax = new Option<long>("--prefix-cache-max-mb") { Description = "Disk bound of --prefix-cache-dir in MiB; least recently used blocks go first", DefaultValueFactory = _ => 1024 };
        var speculate = CommonOptions.Speculate();
        var maxBody = new Option<int>("--max-body-mb") { Description = "Largest request body in MiB; larger ones get 413 before they are read", DefaultValueFactory = _ => 8 };
        var cors = new Option<string[]>("--cors-origin") { Description = "Let browser pages from this origin call the API (repeatable; * allows any)", Arity = ArgumentArity.ZeroOrMore };
        var metricsPublic = new Option<bool>("--metrics-public") { Description = "Serve /metrics without the API key" };
        var drain = new Option<double>("--drain-seconds") { Description = "On SIGTERM, how long running requests may finish before they are cancelled", DefaultValueFactory = _ => 30 };
        var modelsDir = new Option<string[]>("--models-dir") { Description = "Serve every model in this folder by name (NAME.gguf, NAME/ with config.json), each loaded when a request first names it (repeatable)", Arity = ArgumentArity.ZeroOrMore };
        var hub = new Option<bool>("--hub") { Description = "Serve every model pulled into the Hugging Face hub cache (HF_HUB_CACHE) by its owner/repo name, each loaded when first used" };
        var maxLoaded = new Option<int>("--max-loaded") { Description = "With several models: how many stay loaded at once; the least recently used idle one is unloaded first (0: no bound)", DefaultValueFactory = _ => 3 };
        var maxMemory = new Option<double>("--max-memory-gb") { Description = "With several models: memory the loaded ones may take together, weights and KV-cache budget (GiB; 0: no bound)" };
        var keepAlive = new Option<string?>("--keep-alive") { Description = "How long a model stays loaded after its last request (5m, 1h, 0, -1 for ever; default 5m with several models, for ever with one); a request's keep_alive overrides it" };
        var cmd = new Command(Name, "Serve models over HTTP (OpenAI, DeepSeek and Ollama APIs)") { model, host, port, apiKey, format, kwargs, ctx, parallel, queue, data, prefixDir, prefixMax, cors, metricsPublic, drain, maxBody, speculate, modelsDir, hub, maxLoaded, maxMemory, keepAlive };
        cmd.SetAction(async (pr, ct) =>
        {
            string[] dirs = pr.GetValue(modelsDir) ?? [];
            bool several = dirs.Length > 0 || pr.GetValue(hub);
            if (several && pr.GetValue(model) is { } m) throw new SharpSeekException($"--model {m} serves one model; --models-dir and --hub serve every model found there by name: give one or the other");
            string path = several ? "" : ModelLocator.Resolve(pr.GetValue(model));
            KeepAlive? keep = null;
            if (pr.GetValue(keepAlive) is { } ka) keep = KeepAlive.TryParse(ka, out string? why) ?? throw new SharpSeekException($"--keep-alive '{ka}' is not valid: {why}");
            double gib = pr.GetValue(maxMemory);
            if (!(gib >= 0 && double.IsFinite(gib))) throw new SharpSeekException("--max-memory-gb must be ≥ 0");
            if (pr.GetValue(maxLoaded) < 0) throw new SharpSeekException("--max-loaded must be ≥ 0");
            var err = several ? null : LoadProgressBar.InteractiveStderr();
            var bar = err is null ? null : new LoadProgressBar();
            var options = new ServerOptions
            {
                ModelPath = path,
                ModelsDirectories = dirs,
                HubCache = pr.GetValue(hub),
                Models = new ModelPoolOptions { MaxLoaded = pr.GetValue(maxLoaded), MaxBytes = (long)(gib * (1L << 30)), KeepAlive = keep },
                Host = pr.GetValue(host)!,
                Port = pr.GetValue(port),
                ApiKey = pr.GetValue(apiKey) ?? Environment.GetEnvironmentVariable("SHARPSEEK_API_KEY"),
                ChatFormat = pr.GetValue(format) is { } f ? ChatTemplate.ParseFormat(f) : null,
                TemplateKwargs = pr.GetValue(kwargs) is { } k ? TemplateKwargs.Parse(k, "--template-kwargs") : null,
                DataDirectory = pr.GetValue(data) ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.Create), "sharpseek"),
                Scheduler = new SchedulerOptions
                {
                    ContextSize = pr.GetValue(ctx), MaxActive = pr.GetValue(parallel), MaxQueue = pr.GetValue(queue),
                    PrefixCacheDirectory = pr.GetValue(prefixDir), PrefixCacheMaxBytes = pr.GetValue(prefixMax) << 20,
                    Speculation = CommonOptions.ParseSpeculation(pr.GetValue(speculate)),
                },
                LoadProgress = bar,
                CorsOrigins = pr.GetValue(cors) ?? [],
                MetricsPublic = pr.GetValue(metricsPublic),
                // One line per request on stderr, beside the server's own messages.
                Logging = l =>
                {
                    l.AddSimpleConsole(c => { c.SingleLine = true; c.TimestampFormat = "yyyy-MM-dd HH:mm:ss "; });
                    l.Services.Configure<ConsoleLoggerOptions>(c => c.LogToStandardErrorThreshold = LogLevel.Trace);
                },
                MaxBodyBytes = (long)pr.GetValue(maxBody) << 20,
                DrainTime = pr.GetValue(drain) is var d && d >= 0 && double.IsFinite(d) ? TimeSpan.FromSeconds(d) : throw new SharpSeekException("--drain-seconds must be ≥ 0"),
            };
            if (pr.GetValue(maxBody) <= 0) throw new SharpSeekException("--max-body-mb must be > 0");
            foreach (string origin in options.CorsOrigins)
                if (origin != "*" && !(Uri.TryCreate(origin, UriKind.Absolute, out var u) && u.Scheme is "http" or "https" && u.AbsolutePath == "/" && !origin.EndsWith('/')))
                    throw new SharpSeekException($"--cors-origin '{origin}' is not an origin: give scheme://host[:port] without a path, e.g. http://localhost:3000, or *");
            if (options.Scheduler.MaxActive <= 0 || options.Scheduler.MaxQueue < 0 || options.Scheduler.ContextSize <= 0)
                throw new SharpSeekException("--parallel and --ctx must be > 0, --queue ≥ 0");
            if (pr.GetValue(prefixMax) <= 0) throw new SharpSeekException("--prefix-cache-max-mb must be > 0");
            await using var server = SharpSeekServer.Create(options);
            await server.StartAsync(ct);
            if (several)
            {
                var models = server.Host.Catalog.Models;
                Console.Error.WriteLine($"sharpseek: serving {models.Count} model(s) from {server.Host.Catalog.Where} on {string.Join(", ", server.Urls)}, each loaded when first used" +
                    (models.Count == 0 ? "" : ": " + string.Join(", ", models.Take(10).Select(x => x.Name)) + (models.Count > 10 ? ", …" : "")));
            }
            else Console.Error.WriteLine($"sharpseek: serving {path} on {string.Join(", ", server.Urls)} (loading…)");
            // SIGTERM or Ctrl+C reaches the server's lifetime, which drains and then stops the host; the wait ends then.
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct, server.Stopping);
            try
            {
                if (bar is not null) await bar.ShowAsync(err!, $"Loading {Path.GetFileName(Path.TrimEndingDirectorySeparator(path))}", server.Host.Loading.WaitAsync(stop.Token));
                await server.Host.Loading.WaitAsync(stop.Token);
                if (!several) Console.Error.WriteLine($"sharpseek: model ready as '{server.Host.Catalog.Models[0].Name}'");
                await Task.Delay(Timeout.Infinite, stop.Token);
            }
            catch (OperationCanceledException) { }
            if (server.Drain.IsDraining)
                Console.Error.WriteLine(server.Drain.Cancelled > 0 ? $"sharpseek: drained ({server.Drain.Cancelled} request(s) cancelled after {server.Drain.Grace.TotalSeconds:0.#} s)" : "sharpseek: drained");
            Console.Error.WriteLine("sharpseek: stopped");
            return 0;
        });
        return cmd;
    }
}
