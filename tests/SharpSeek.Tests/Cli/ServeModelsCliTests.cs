using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using SharpSeek.Tests.Gguf;
using SharpSeek.Tests.Support;

namespace SharpSeek.Tests.Cli;

/// <summary>
/// <c>sharpseek serve --hub</c> and <c>--models-dir</c> as a user runs them: what <c>pull</c> put in the hub cache is served
/// under the names <c>list</c> shows, and wrong combinations of options are refused with a message.
/// </summary>
[Collection("Console")]
public sealed class ServeModelsCliTests : IAsyncLifetime
{
    private const string Commit = "0123456789abcdef0123456789abcdef01234567";
    private readonly TempDir _cache = new();
    private FakeHub _hub = null!;

    public async Task InitializeAsync()
    {
        _hub = await FakeHub.StartAsync();
        _hub.Add("acme/tiny-GGUF", Commit,
            ("tiny-Q4_K_M.gguf", File.ReadAllBytes(GgufFixtureTests.ModelPath("tiny-qwen2", "q4_0")), true),
            ("tiny-Q8_0.gguf", File.ReadAllBytes(GgufFixtureTests.ModelPath("tiny-qwen2", "q8_0")), true));
    }

    public async Task DisposeAsync()
    {
        await _hub.DisposeAsync();
        _cache.Dispose();
    }

    private Dictionary<string, string> Env => new() { ["HF_ENDPOINT"] = _hub.Endpoint, ["HF_HUB_CACHE"] = _cache.Path, ["HF_TOKEN"] = "" };

    [Fact]
    public async Task Serve_hub_serves_every_pulled_model_under_its_list_name()
    {
        foreach (string reference in new[] { "acme/tiny-GGUF", "acme/tiny-GGUF:Q8_0" })
        {
            var pull = await SharpSeekProcess.RunAsync(["pull", reference], Env);
            Assert.True(pull.Code == 0, pull.Err);
        }
        var list = await SharpSeekProcess.RunAsync(["list"], Env);
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
            _hub.Add("acme/other-GGUF", Commit, ("other-Q8_0.gguf", File.ReadAllBytes(GgufFixtureTests.ModelPath("tiny-qwen2", "q8_0")), true));
            Assert.Equal(0, (await SharpSeekProcess.RunAsync(["pull", "acme/other-GGUF"], Env)).Code);
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
        var (code, _, err) = await SharpSeekProcess.RunAsync(["serve", .. args.Replace("{dir}", _cache.Path).Split('|'), "--port", "0"], Env);
        Assert.NotEqual(0, code);
        Assert.Contains(message, err);
    }
}
