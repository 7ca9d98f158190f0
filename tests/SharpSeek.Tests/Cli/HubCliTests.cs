using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using SharpSeek.Tests.Gguf;
using SharpSeek.Tests.Support;

namespace SharpSeek.Tests.Cli;

/// <summary>
/// <c>pull</c>, <c>list</c> and <c>show</c> as a user runs them: the real <c>sharpseek</c> process against a local hub
/// (<see cref="FakeHub"/>) with its own cache folder, and <c>show</c> of the bundled model in-process; <c>serve --hub</c>
/// serves what <c>pull</c> put in the cache under the names <c>list</c> shows, and wrong model options are refused.
/// </summary>
[Collection("Console")]
public sealed class HubCliTests : IAsyncLifetime
{
    private const string Commit = "fedcba9876543210fedcba9876543210fedcba98";
    private readonly TempDir _cache = new();
    private FakeHub _hub = null!;
    private readonly byte[] _q4 = File.ReadAllBytes(GgufFixtureTests.ModelPath("tiny-qwen2", "q4_0"));
    private readonly byte[] _q8 = File.ReadAllBytes(GgufFixtureTests.ModelPath("tiny-qwen2", "q8_0"));

    public async Task InitializeAsync()
    {
        _hub = await FakeHub.StartAsync();
        // Real GGUF files, named as an uploader would (the Q4_K_M slot holds the Q4_0 fixture; pull goes by name).
        _hub.Add("acme/tiny-GGUF", Commit, ("tiny-Q4_K_M.gguf", _q4, true), ("tiny-Q8_0.gguf", _q8, true), ("README.md", "# tiny"u8.ToArray(), false));
    }

    public async Task DisposeAsync()
    {
        await _hub.DisposeAsync();
        _cache.Dispose();
    }

    private Dictionary<string, string> Env => new() { ["HF_ENDPOINT"] = _hub.Endpoint, ["HF_HUB_CACHE"] = _cache.Path, ["HF_TOKEN"] = "" };

    private Task<(int Code, string Out, string Err)> Sharpseek(params string[] args) => SharpSeekProcess.RunAsync(args, Env);

    [Fact]
    public async Task Pull_says_what_and_how_much_shows_byte_progress_and_list_and_show_find_the_model()
    {
        var empty = await Sharpseek("list");
        Assert.Equal(0, empty.Code);
        Assert.Contains("No models in the hub cache", empty.Out);
        Assert.Contains("sharpseek pull OWNER/REPO[:QUANT]", empty.Out);

        var pull = await Sharpseek("pull", "acme/tiny-GGUF");
        Assert.True(pull.Code == 0, pull.Err);
        string file = Path.Combine(_cache.Path, "models--acme--tiny-GGUF", "snapshots", Commit, "tiny-Q4_K_M.gguf");
        Assert.Equal(file, pull.Out.Trim());
        Assert.Equal(_q4, File.ReadAllBytes(file));
        Assert.Contains("acme/tiny-GGUF at fedcba987654: Q4_K_M, the default (also here: Q8_0 (366.0 kB); pick one with acme/tiny-GGUF:QUANT)", pull.Err);
        Assert.Contains("  tiny-Q4_K_M.gguf  199.3 kB", pull.Err);
        Assert.Contains("199.3 kB to download", pull.Err);
        // Not a terminal: progress comes as lines with bytes, percent and speed.
        Assert.Contains("tiny-Q4_K_M.gguf: 199.3 kB / 199.3 kB (100 %), ", pull.Err);
        Assert.Matches(@"tiny-Q4_K_M\.gguf: [0-9.]+ [kMG]?B / 199\.3 kB \(\d+ %\), [0-9.]+ [kMG]?B/s", pull.Err);
        Assert.Equal(["acme/tiny-GGUF/tiny-Q4_K_M.gguf"], _hub.Downloads.Select(d => d.Path));

        var again = await Sharpseek("pull", "acme/tiny-GGUF");
        Assert.Contains("199.3 kB, already in the cache", again.Err);
        Assert.Single(_hub.Downloads);

        var list = await Sharpseek("list");
        Assert.True(list.Code == 0, list.Err);
        Assert.Matches(@"NAME\s+FORMAT\s+QUANTIZATION\s+SIZE\s+MODIFIED", list.Out);
        Assert.Matches(@"acme/tiny-GGUF\s+gguf\s+Q4_K_M\s+199\.3 kB\s+just now", list.Out);
        var json = await Sharpseek("list", "--json");
        using (var doc = JsonDocument.Parse(json.Out.Trim()))
        {
            Assert.Equal("acme/tiny-GGUF", doc.RootElement.GetProperty("name").GetString());
            Assert.Equal(_q4.Length, doc.RootElement.GetProperty("size").GetInt64());
            Assert.Equal(file, doc.RootElement.GetProperty("path").GetString());
        }

        var show = await Sharpseek("show", "acme/tiny-GGUF");
        Assert.True(show.Code == 0, show.Err);
        Assert.Matches(@"architecture\s+Qwen2ForCausalLM \(qwen2\)", show.Out);
        Assert.Matches(@"context length\s+4096", show.Out);
        Assert.Matches(@"quantization\s+Q4_0", show.Out);
        Assert.Contains("Capabilities", show.Out);

        var missing = await Sharpseek("show", "acme/tiny-GGUF:Q8_0");
        Assert.Equal(1, missing.Code);
        Assert.Contains("no Q8_0 model", missing.Err);
        Assert.Contains("sharpseek pull acme/tiny-GGUF:Q8_0", missing.Err);
    }

    [Fact]
    public async Task An_interrupted_pull_resumes_where_it_stopped()
    {
        _hub.CutOnce("acme/tiny-GGUF", "tiny-Q8_0.gguf");
        var cut = await Sharpseek("pull", "acme/tiny-GGUF:Q8_0");
        Assert.Equal(1, cut.Code);
        Assert.StartsWith("error: ", cut.Err.Split('\n').Last(l => l.Length > 0));
        var resumed = await Sharpseek("pull", "acme/tiny-GGUF:Q8_0");
        Assert.True(resumed.Code == 0, resumed.Err);
        Assert.Matches(@"[0-9.]+ kB to download \(366\.0 kB in all; [0-9.]+ kB already here, resuming\)", resumed.Err);
        Assert.Equal(_q8, File.ReadAllBytes(resumed.Out.Trim()));
        var ranges = _hub.Downloads.Select(d => d.Range).ToList();
        Assert.Equal(2, ranges.Count);
        Assert.Null(ranges[0]);
        Assert.StartsWith("bytes=", ranges[1]);
    }

    [Fact]
    public void Show_describes_the_bundled_model()
    {
        var (code, stdout, err) = CliRunner.Run("show", "--json");
        Assert.True(code == 0, err);
        using var doc = JsonDocument.Parse(stdout);
        var card = doc.RootElement;
        Assert.Equal("DeepseekV3ForCausalLM", card.GetProperty("architecture").GetString());
        Assert.True(card.GetProperty("parameters").GetInt64() > card.GetProperty("active_parameters").GetInt64());
        Assert.Equal("Jinja", card.GetProperty("template").GetProperty("format").GetString());
        Assert.True(card.GetProperty("template").GetProperty("from_model").GetBoolean());
        Assert.Equal(["completion", "chat", "thinking"], card.GetProperty("capabilities").EnumerateArray().Select(c => c.GetString()));
        var text = CliRunner.Run("show", "--template").Out;
        Assert.Matches(@"parameters\s+1\.\dM \(", text);
        Assert.Contains("Chat template", text);
    }

    [Fact]
    public async Task Serve_hub_serves_every_pulled_model_under_its_list_name()
    {
        foreach (string reference in new[] { "acme/tiny-GGUF", "acme/tiny-GGUF:Q8_0" })
        {
            var pull = await Sharpseek("pull", reference);
            Assert.True(pull.Code == 0, pull.Err);
        }
        var list = await Sharpseek("list");
        Assert.Contains("acme/tiny-GGUF:Q4_K_M", list.Out);
        Assert.Contains("acme/tiny-GGUF:Q8_0", list.Out);

        var (server, http) = await SharpSeekProcess.ServeAsync(["--hub", "--ctx", "128", "--data-dir", Path.Combine(_cache.Path, "data")], Env);
        using (server)
        using (http)
        {
            var ids = (await http.GetFromJsonAsync<JsonElement>("v1/models")).GetProperty("data").EnumerateArray().Select(m => m.GetProperty("id").GetString()).Order().ToList();
            Assert.Equal(["acme/tiny-GGUF:Q4_K_M", "acme/tiny-GGUF:Q8_0"], ids);
            using var r = await http.PostAsync("v1/chat/completions", new StringContent(
                """{"model":"acme/tiny-GGUF:Q8_0","messages":[{"role":"user","content":"hi"}],"max_tokens":2}""", Encoding.UTF8, "application/json"));
            Assert.True(r.StatusCode == HttpStatusCode.OK, await r.Content.ReadAsStringAsync());
            var ps = (await http.GetFromJsonAsync<JsonElement>("api/ps")).GetProperty("models").EnumerateArray().Single();
            Assert.Equal("acme/tiny-GGUF:Q8_0:latest", ps.GetProperty("name").GetString());
            // A pull while the server runs is served without a restart.
            _hub.Add("acme/other-GGUF", Commit, ("other-Q8_0.gguf", _q8, true));
            Assert.Equal(0, (await Sharpseek("pull", "acme/other-GGUF")).Code);
            using var other = await http.PostAsync("api/generate", new StringContent("""{"model":"acme/other-GGUF","prompt":"hi","stream":false,"options":{"num_predict":1}}""", Encoding.UTF8, "application/json"));
            Assert.True(other.StatusCode == HttpStatusCode.OK, await other.Content.ReadAsStringAsync());
        }
        // The server's log names each load.
        Assert.Contains("acme/tiny-GGUF:Q8_0: loaded in", server.Err);
    }

    [Theory]
    [InlineData("--models-dir|{dir}|--model|x.gguf", "give one or the other")]
    [InlineData("--models-dir|{dir}|--keep-alive|soon", "--keep-alive 'soon' is not valid")]
    [InlineData("--models-dir|{dir}/missing", "does not exist")]
    [InlineData("--models-dir|{dir}|--max-memory-gb|-1", "--max-memory-gb must be")]
    public async Task Wrong_model_options_are_refused_with_a_message(string args, string message)
    {
        var (code, _, err) = await Sharpseek(["serve", .. args.Replace("{dir}", _cache.Path).Split('|'), "--port", "0"]);
        Assert.NotEqual(0, code);
        Assert.Contains(message, err);
    }
}
