using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using OllamaSharp;
using SharpSeek.Serving;

namespace SharpSeek.Server.Tests;

/// <summary>
/// <c>serve --models-dir</c>: every model in a folder served by name through the OpenAI, Ollama and web-app routes, each
/// loaded on first use, listed as available or loaded, unloaded by <c>--max-loaded</c>, the memory bound and Ollama's
/// <c>keep_alive</c>; unknown names get each API's error shape; metrics stay valid with a label per model.
/// </summary>
public sealed partial class MultiModelServerTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "sharpseek-models-" + Guid.NewGuid().ToString("N"));
    private static readonly string[] Served = ["deepseek", "qwen", "sharpseek-tiny"];

    public MultiModelServerTests()
    {
        Directory.CreateDirectory(_dir);
        File.CreateSymbolicLink(Path.Combine(_dir, "qwen.gguf"), Fixtures.Path("llamacpp", "models", "tiny-qwen2-f32.gguf"));
        File.CreateSymbolicLink(Path.Combine(_dir, "deepseek.gguf"), Fixtures.Path("llamacpp", "models", "tiny-ds2-v3-f32.gguf"));
        Directory.CreateSymbolicLink(Path.Combine(_dir, "sharpseek-tiny"), Path.Combine(Fixtures.RepoRoot, "models", "sharpseek-tiny"));
        File.WriteAllText(Path.Combine(_dir, "notes.txt"), "not a model");
    }

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private Task<LiveServer> Start(ModelPoolOptions? models = null) => LiveServer.StartAsync(configure: o => o with
    {
        ModelPath = "",
        ChatFormat = null,
        ModelsDirectories = [_dir],
        Models = models ?? new ModelPoolOptions(),
        Scheduler = new SchedulerOptions { ContextSize = 256, MaxActive = 4, PrefixCacheEntries = 4 },
    });

    private static async Task<(HttpStatusCode Status, JsonElement Body)> Post(LiveServer server, string path, object body)
    {
        using var r = await server.Http.PostAsync(path, new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json"));
        string text = await r.Content.ReadAsStringAsync();
        return (r.StatusCode, JsonDocument.Parse(text).RootElement.Clone());
    }

    private static object Chat(string? model, object? keepAlive = null) => new { model, messages = new[] { new { role = "user", content = "What is 2 + 3?" } }, max_tokens = 3, keep_alive = keepAlive };

    private static async Task<Dictionary<string, string>> States(LiveServer server) =>
        (await server.Http.GetFromJsonAsync<JsonElement>("v1/models")).GetProperty("data").EnumerateArray()
            .ToDictionary(m => m.GetProperty("id").GetString()!, m => m.GetProperty("state").GetString()!);

    private static async Task<List<JsonElement>> Running(LiveServer server) =>
        [.. (await server.Http.GetFromJsonAsync<JsonElement>("api/ps")).GetProperty("models").EnumerateArray()];

    private static async Task WaitUntil(Func<Task<bool>> condition, string what)
    {
        for (int i = 0; i < 100; i++)
        {
            if (await condition()) return;
            await Task.Delay(50);
        }
        Assert.Fail("timed out waiting until " + what);
    }

    [Fact]
    public async Task Every_model_is_listed_and_loads_when_a_request_first_names_it()
    {
        await using var server = await Start();
        var states = await States(server);
        Assert.Equal(Served, states.Keys.Order());
        Assert.All(states.Values, s => Assert.Equal("not-loaded", s));
        var models = (await server.Http.GetFromJsonAsync<JsonElement>("v1/models")).GetProperty("data").EnumerateArray().ToList();
        Assert.All(models, m => Assert.Equal(m.GetProperty("id").GetString(), m.GetProperty("root").GetString()));
        var tags = (await server.Http.GetFromJsonAsync<JsonElement>("api/tags")).GetProperty("models").EnumerateArray().ToList();
        Assert.Equal(Served.Select(n => n + ":latest"), tags.Select(t => t.GetProperty("name").GetString()).Order());
        Assert.All(tags, t => Assert.True(t.GetProperty("size").GetInt64() > 0));
        Assert.Equal("qwen2", tags.Single(t => t.GetProperty("name").GetString() == "qwen:latest").GetProperty("details").GetProperty("family").GetString());
        Assert.Equal("safetensors", tags.Single(t => t.GetProperty("name").GetString() == "sharpseek-tiny:latest").GetProperty("details").GetProperty("format").GetString());
        Assert.Empty(await Running(server));

        // OpenAI route: the answer names the model asked for.
        var (status, body) = await Post(server, "v1/chat/completions", Chat("qwen"));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("qwen", body.GetProperty("model").GetString());
        Assert.Equal("loaded", (await States(server))["qwen"]);
        var ps = Assert.Single(await Running(server));
        Assert.Equal("qwen:latest", ps.GetProperty("name").GetString());
        Assert.True(ps.GetProperty("size").GetInt64() > new FileInfo(Fixtures.Path("llamacpp", "models", "tiny-qwen2-f32.gguf")).Length / 2);
        var expires = DateTimeOffset.Parse(ps.GetProperty("expires_at").GetString()!, CultureInfo.InvariantCulture);
        Assert.InRange(expires - DateTimeOffset.UtcNow, TimeSpan.FromMinutes(4), TimeSpan.FromMinutes(6));   // Ollama's default keep-alive

        // Ollama route, with Ollama's tag; legacy completions; the web app's picker sends the model too.
        (status, body) = await Post(server, "api/chat", new { model = "DeepSeek:latest", messages = new[] { new { role = "user", content = "hi" } }, stream = false, options = new { num_predict = 2 } });
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("DeepSeek:latest", body.GetProperty("model").GetString());
        (status, _) = await Post(server, "v1/completions", new { model = "sharpseek-tiny", prompt = "1 + 1 =", max_tokens = 2 });
        Assert.Equal(HttpStatusCode.OK, status);
        var conversation = await (await server.Http.PostAsync("app/conversations", new StringContent("{}", Encoding.UTF8, "application/json"))).Content.ReadFromJsonAsync<JsonElement>();
        using (var send = await server.Http.PostAsync($"app/conversations/{conversation.GetProperty("id").GetString()}/messages",
            new StringContent("""{"content":"What is 4 + 4?","model":"sharpseek-tiny","max_tokens":4}""", Encoding.UTF8, "application/json")))
        {
            Assert.Equal(HttpStatusCode.OK, send.StatusCode);
            Assert.Contains("\"done\"", await send.Content.ReadAsStringAsync());
        }
        Assert.All((await States(server)).Values, s => Assert.Equal("loaded", s));

        using var ollama = new OllamaApiClient(server.BaseUri);
        var running = (await ollama.ListRunningModelsAsync()).ToList();
        Assert.Equal(Served.Select(n => n + ":latest"), running.Select(m => m.Name).Order());
        Assert.All(running, m => Assert.True(m.Size > 0));
    }

    [Fact]
    public async Task Show_describes_a_model_without_loading_it()
    {
        await using var server = await Start();
        var (status, body) = await Post(server, "api/show", new { model = "sharpseek-tiny" });
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.False(body.GetProperty("loaded").GetBoolean());
        Assert.True(body.GetProperty("model_info").GetProperty("general.parameter_count").GetInt64() > 1_000_000);
        Assert.Equal("DeepseekV3ForCausalLM", body.GetProperty("model_info").GetProperty("general.architecture").GetString());
        Assert.Equal("not-loaded", (await States(server))["sharpseek-tiny"]);

        await Post(server, "v1/chat/completions", Chat("sharpseek-tiny"));
        (status, body) = await Post(server, "api/show", new { name = "sharpseek-tiny" });
        Assert.True(body.GetProperty("loaded").GetBoolean());
        Assert.Contains("thinking", body.GetProperty("capabilities").EnumerateArray().Select(c => c.GetString()));
    }

    [Fact]
    public async Task An_unknown_model_is_404_in_each_api_naming_the_ones_there_are()
    {
        await using var server = await Start();
        foreach (var (path, request) in new (string, object)[]
        {
            ("v1/chat/completions", Chat("gpt-4o")),
            ("v1/completions", new { model = "gpt-4o", prompt = "hi" }),
        })
        {
            var (status, body) = await Post(server, path, request);
            Assert.Equal(HttpStatusCode.NotFound, status);
            var e = body.GetProperty("error");
            Assert.Equal("model_not_found", e.GetProperty("code").GetString());
            Assert.Equal("model", e.GetProperty("param").GetString());
            Assert.Equal("invalid_request_error", e.GetProperty("type").GetString());
            string message = e.GetProperty("message").GetString()!;
            Assert.Contains("'gpt-4o'", message);
            Assert.All(Served, n => Assert.Contains(n, message));
        }
        foreach (var (path, request) in new (string, object)[]
        {
            ("api/chat", new { model = "llama3:8b", messages = new[] { new { role = "user", content = "hi" } } }),
            ("api/generate", new { model = "llama3:8b", prompt = "hi" }),
            ("api/show", new { model = "llama3:8b" }),
        })
        {
            var (status, body) = await Post(server, path, request);
            Assert.Equal(HttpStatusCode.NotFound, status);
            string message = body.GetProperty("error").GetString()!;   // Ollama's shape: {"error": "..."}
            Assert.Contains("'llama3:8b'", message);
            Assert.All(Served, n => Assert.Contains(n, message));
        }
        // Several models and none named: 400 on the model parameter, listing them.
        var (s400, b400) = await Post(server, "v1/chat/completions", Chat(null));
        Assert.Equal(HttpStatusCode.BadRequest, s400);
        Assert.Equal("model", b400.GetProperty("error").GetProperty("param").GetString());
        Assert.Contains("qwen", b400.GetProperty("error").GetProperty("message").GetString());
        Assert.Empty(await Running(server));
    }

    [Fact]
    public async Task Ollama_keep_alive_loads_keeps_and_unloads()
    {
        await using var server = await Start();
        // A load request: no prompt; keep_alive as a duration string.
        var (status, body) = await Post(server, "api/generate", new { model = "qwen", keep_alive = "10m" });
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("load", body.GetProperty("done_reason").GetString());
        var expires = DateTimeOffset.Parse(Assert.Single(await Running(server)).GetProperty("expires_at").GetString()!, CultureInfo.InvariantCulture);
        Assert.InRange(expires - DateTimeOffset.UtcNow, TimeSpan.FromMinutes(9), TimeSpan.FromMinutes(11));

        // Negative: kept for good (Ollama shows a date centuries ahead).
        using var ollama = new OllamaApiClient(server.BaseUri, "qwen");
        await foreach (var _ in ollama.GenerateAsync(new OllamaSharp.Models.GenerateRequest { Model = "qwen", Prompt = "hi", KeepAlive = "-1", Options = new() { NumPredict = 1 } })) { }
        var forever = (await ollama.ListRunningModelsAsync()).Single();
        Assert.True(forever.ExpiresAt > DateTime.UtcNow.AddYears(100));

        // A number of seconds; then 0 on a chat unloads the model as soon as the answer is done.
        (status, _) = await Post(server, "api/chat", new { model = "deepseek", messages = new[] { new { role = "user", content = "hi" } }, stream = false, options = new { num_predict = 2 }, keep_alive = 90 });
        Assert.Equal(HttpStatusCode.OK, status);
        expires = DateTimeOffset.Parse((await Running(server)).Single(m => m.GetProperty("name").GetString() == "deepseek:latest").GetProperty("expires_at").GetString()!, CultureInfo.InvariantCulture);
        Assert.InRange(expires - DateTimeOffset.UtcNow, TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(95));
        (status, _) = await Post(server, "api/chat", new { model = "deepseek", messages = new[] { new { role = "user", content = "hi" } }, stream = false, options = new { num_predict = 2 }, keep_alive = 0 });
        Assert.Equal(HttpStatusCode.OK, status);
        await WaitUntil(async () => (await Running(server)).All(m => m.GetProperty("name").GetString() != "deepseek:latest"), "deepseek is unloaded");

        // An unload request: keep_alive 0 and no prompt, as `ollama stop` sends it.
        (status, body) = await Post(server, "api/generate", new { model = "qwen", keep_alive = 0 });
        Assert.Equal("unload", body.GetProperty("done_reason").GetString());
        Assert.Empty(await Running(server));
        (status, body) = await Post(server, "api/chat", new { model = "qwen", messages = Array.Empty<object>(), keep_alive = "0s" });
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("unload", body.GetProperty("done_reason").GetString());
        Assert.Empty(await Running(server));

        // Not a duration: 400 naming the field.
        (status, body) = await Post(server, "api/generate", new { model = "qwen", prompt = "hi", keep_alive = "soon" });
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("keep_alive", body.GetProperty("error").GetString());
    }

    [Fact]
    public async Task The_openai_routes_honour_keep_alive_too()
    {
        await using var server = await Start();
        var (status, _) = await Post(server, "v1/chat/completions", Chat("qwen", "10m"));
        Assert.Equal(HttpStatusCode.OK, status);
        var expires = DateTimeOffset.Parse(Assert.Single(await Running(server)).GetProperty("expires_at").GetString()!, CultureInfo.InvariantCulture);
        Assert.InRange(expires - DateTimeOffset.UtcNow, TimeSpan.FromMinutes(9), TimeSpan.FromMinutes(11));

        (status, _) = await Post(server, "v1/completions", new { model = "deepseek", prompt = "1 + 1 =", max_tokens = 2, keep_alive = 0 });
        Assert.Equal(HttpStatusCode.OK, status);
        await WaitUntil(async () => (await Running(server)).All(m => m.GetProperty("name").GetString() != "deepseek:latest"), "deepseek is unloaded");
        Assert.Equal("qwen:latest", Assert.Single(await Running(server)).GetProperty("name").GetString());

        // Not a duration: 400 on the field, before anything loads.
        var (s400, body) = await Post(server, "v1/chat/completions", Chat("sharpseek-tiny", "soon"));
        Assert.Equal(HttpStatusCode.BadRequest, s400);
        Assert.Equal("keep_alive", body.GetProperty("error").GetProperty("param").GetString());
        Assert.Equal("not-loaded", (await States(server))["sharpseek-tiny"]);
    }

    [Fact]
    public async Task Past_max_loaded_the_least_recently_used_model_goes_and_counters_stay()
    {
        await using var server = await Start(new ModelPoolOptions { MaxLoaded = 2 });
        foreach (string model in new[] { "qwen", "deepseek", "qwen", "sharpseek-tiny" })
            Assert.Equal(HttpStatusCode.OK, (await Post(server, "v1/chat/completions", Chat(model))).Status);
        var states = await States(server);
        Assert.Equal("not-loaded", states["deepseek"]);
        Assert.Equal("loaded", states["qwen"]);
        Assert.Equal("loaded", states["sharpseek-tiny"]);
        var metrics = Parse(await server.Http.GetStringAsync("metrics"));
        Assert.Equal(1, metrics["sharpseek_model_unloads_total{model=\"deepseek\"}"]);
        Assert.Equal(0, metrics["sharpseek_model_resident{model=\"deepseek\"}"]);
        Assert.Equal(1, metrics["sharpseek_model_requests_total{model=\"deepseek\"}"]);
        // Counters include the unloaded model's requests: they never go down.
        Assert.Equal(4, metrics["sharpseek_requests_total"]);
        Assert.Equal(2, metrics["sharpseek_model_loaded"]);
    }

    [Fact]
    public async Task The_memory_bound_refuses_a_model_that_cannot_fit_with_507()
    {
        await using var server = await Start(new ModelPoolOptions { MaxBytes = 1 << 20 });
        var (status, body) = await Post(server, "v1/chat/completions", Chat("deepseek"));
        Assert.Equal((HttpStatusCode)507, status);
        Assert.Equal("insufficient_memory", body.GetProperty("error").GetProperty("code").GetString());
        Assert.Contains("--max-memory-gb", body.GetProperty("error").GetProperty("message").GetString());
        (status, body) = await Post(server, "api/chat", new { model = "deepseek", messages = new[] { new { role = "user", content = "hi" } } });
        Assert.Equal((HttpStatusCode)507, status);
        Assert.Contains("deepseek", body.GetProperty("error").GetString());
    }

    [Fact]
    public async Task Concurrent_first_requests_load_once_and_a_failed_load_does_not_stick()
    {
        await using var server = await Start();
        var answers = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => Post(server, "v1/chat/completions", Chat("deepseek"))));
        Assert.All(answers, a => Assert.Equal(HttpStatusCode.OK, a.Status));
        var metrics = Parse(await server.Http.GetStringAsync("metrics"));
        Assert.Equal(1, metrics["sharpseek_model_loads_total{model=\"deepseek\"}"]);

        // A model dropped into the folder while serving is found; a damaged one fails with a clear error, every time it is asked for.
        string broken = Path.Combine(_dir, "broken.gguf");
        File.WriteAllBytes(broken, Encoding.ASCII.GetBytes("GGUF but not really"));
        for (int i = 0; i < 2; i++)
        {
            var (status, body) = await Post(server, "v1/chat/completions", Chat("broken"));
            Assert.Equal(HttpStatusCode.InternalServerError, status);
            Assert.Equal("model_load_failed", body.GetProperty("error").GetProperty("code").GetString());
            Assert.Contains("broken", body.GetProperty("error").GetProperty("message").GetString());
        }
        // Once the file is good, the next request loads it: the failure left nothing behind.
        File.Delete(broken);
        File.Copy(Fixtures.Path("llamacpp", "models", "tiny-qwen2-f32.gguf"), broken);
        Assert.Equal(HttpStatusCode.OK, (await Post(server, "v1/chat/completions", Chat("broken"))).Status);
        Assert.Equal("loaded", (await States(server))["broken"]);
    }

    [Fact]
    public async Task Metrics_stay_valid_prometheus_text_with_a_series_per_model()
    {
        await using var server = await Start();
        string before = await server.Http.GetStringAsync("metrics");
        Validate(before);
        await Post(server, "v1/chat/completions", Chat("qwen"));
        await Post(server, "v1/chat/completions", Chat("deepseek"));
        string text = await server.Http.GetStringAsync("metrics");
        Validate(text);
        var m = Parse(text);
        // The endpoint picker's gauges, unlabelled, over every loaded model.
        foreach (string name in new[] { "sharpseek_num_requests_waiting", "sharpseek_num_requests_running", "sharpseek_kv_cache_usage_perc" })
            Assert.True(m.ContainsKey(name), name);
        Assert.Matches("""sharpseek_cache_config_info\{block_size="16",num_gpu_blocks="\d+"\} 1""", text);
        Assert.Equal(2, m["sharpseek_models_loads_total"]);
        Assert.Equal(3, m["sharpseek_models_available"]);
        foreach (string model in Served)
            Assert.True(m.ContainsKey($"sharpseek_model_resident{{model=\"{model}\"}}"), model);
        Assert.Equal(1, m["sharpseek_model_resident{model=\"qwen\"}"]);
        Assert.Equal(0, m["sharpseek_model_resident{model=\"sharpseek-tiny\"}"]);
        Assert.True(m["sharpseek_model_memory_bytes{model=\"qwen\"}"] > 0);
        Assert.Equal(m["sharpseek_models_bytes"], m["sharpseek_model_memory_bytes{model=\"qwen\"}"] + m["sharpseek_model_memory_bytes{model=\"deepseek\"}"]);
        Assert.Equal(m["sharpseek_prompt_tokens_total"], m["sharpseek_model_prompt_tokens_total{model=\"qwen\"}"] + m["sharpseek_model_prompt_tokens_total{model=\"deepseek\"}"]);
    }

    [Fact]
    public async Task One_model_honours_keep_alive_too_and_loads_again_on_the_next_request()
    {
        await using var server = await LiveServer.StartAsync(modelPath: Fixtures.Path("llamacpp", "models", "tiny-qwen2-f32.gguf"));
        var ps = Assert.Single(await Running(server));
        Assert.True(DateTimeOffset.Parse(ps.GetProperty("expires_at").GetString()!, CultureInfo.InvariantCulture) > DateTimeOffset.UtcNow.AddYears(100));   // kept
        var (status, body) = await Post(server, "api/generate", new { model = "tiny-qwen2-f32", keep_alive = 0 });
        Assert.Equal("unload", body.GetProperty("done_reason").GetString());
        Assert.Empty(await Running(server));
        Assert.Equal(HttpStatusCode.OK, (await server.Http.GetAsync("ready")).StatusCode);   // it can still serve: the next request loads it
        (status, _) = await Post(server, "v1/chat/completions", Chat(null));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Single(await Running(server));
    }

    /// <summary>Checks the Prometheus text format: one HELP and TYPE per family before its samples, samples of a family together, values numbers.</summary>
    private static void Validate(string text)
    {
        var seen = new HashSet<string>();
        string? family = null;
        foreach (string line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var help = HelpLine().Match(line);
            if (help.Success)
            {
                Assert.True(seen.Add(help.Groups[1].Value), $"family {help.Groups[1].Value} described twice");
                family = help.Groups[1].Value;
                continue;
            }
            var type = TypeLine().Match(line);
            if (type.Success)
            {
                Assert.Equal(family, type.Groups[1].Value);
                continue;
            }
            var sample = SampleLine().Match(line);
            Assert.True(sample.Success, $"not a sample line: {line}");
            Assert.Equal(family, sample.Groups[1].Value);
            Assert.True(double.TryParse(sample.Groups[3].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out _), line);
        }
    }

    private static Dictionary<string, double> Parse(string text) =>
        text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.StartsWith('#'))
            .ToDictionary(l => l[..l.LastIndexOf(' ')], l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));

    [GeneratedRegex(@"^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) .+$")]
    private static partial Regex HelpLine();

    [GeneratedRegex(@"^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (gauge|counter)$")]
    private static partial Regex TypeLine();

    [GeneratedRegex("""^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*"(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*")*\})? (\S+)$""")]
    private static partial Regex SampleLine();
}
