using System.Text;
using System.Text.Json;
using SharpSeek.Serving;

namespace SharpSeek.Server.Tests;

/// <summary><c>--prefix-cache-dir</c>: a prompt's cached prefix outlives the server process.</summary>
public sealed class PrefixCacheRestartTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "sharpseek-prefix-" + Guid.NewGuid().ToString("N"));

    private SchedulerOptions Options => new() { ContextSize = 512, PrefixCacheDirectory = _dir };

    private static async Task<JsonElement> Ask(LiveServer server, string system)
    {
        string body = JsonSerializer.Serialize(new
        {
            messages = new object[] { new { role = "system", content = system }, new { role = "user", content = "Summarise that in one line." } },
            max_tokens = 4,
            temperature = 0,
        });
        using var r = await server.Http.PostAsync("v1/chat/completions", new StringContent(body, Encoding.UTF8, "application/json"));
        string text = await r.Content.ReadAsStringAsync();
        Assert.True(r.IsSuccessStatusCode, text);
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    [Fact]
    public async Task A_restarted_server_reports_the_saved_prefix_as_cached_tokens()
    {
        string system = string.Concat(Enumerable.Repeat("SharpSeek keeps the context of long prompts on disk, so a restart does not lose it. ", 2));
        JsonElement first, second;
        await using (var server = await LiveServer.StartAsync(scheduler: Options)) first = await Ask(server, system);
        Assert.Equal(0, first.GetProperty("usage").GetProperty("prompt_cache_hit_tokens").GetInt32());
        Assert.NotEmpty(Directory.GetFiles(_dir, "*.kvblock"));

        await using (var server = await LiveServer.StartAsync(scheduler: Options))
        {
            second = await Ask(server, system);
            var metrics = await server.Http.GetStringAsync("metrics");
            Assert.Contains("sharpseek_prefix_cache_disk_blocks_loaded_total", metrics);
        }
        var usage = second.GetProperty("usage");
        int hit = usage.GetProperty("prompt_cache_hit_tokens").GetInt32();
        int prompt = usage.GetProperty("prompt_tokens").GetInt32();
        Assert.True(hit > 0, $"no cached tokens after the restart: {usage}");
        Assert.Equal((prompt - 1) / 16 * 16, hit);
        Assert.Equal(hit, usage.GetProperty("prompt_tokens_details").GetProperty("cached_tokens").GetInt32());
        Assert.Equal(first.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString(),
            second.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
    }

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
