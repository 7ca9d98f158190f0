using SharpSeek.Tests.Support;

namespace SharpSeek.Tests.Cli;

/// <summary>
/// Issue 17.1: the Hugging Face cache layout end to end through the real CLI. <c>sharpseek pull</c> from a local hub lays
/// out <c>snapshots/REV/*</c> as symbolic links into <c>blobs/</c>, and <c>sharpseek run --model owner/repo</c> loads
/// through them (the weights used to be sized as the link itself, a few bytes).
/// </summary>
public sealed class HubCacheRunTests : IAsyncLifetime
{
    private const string Commit = "89abcdef0123456789abcdef0123456789abcdef";
    private static readonly string Model = Path.Combine(Fixtures.RepoRoot, "models", "sharpseek-tiny");
    private readonly TempDir _cache = new();
    private FakeHub _hub = null!;
    private string _endpoint = "";

    public async Task InitializeAsync()
    {
        _hub = await FakeHub.StartAsync();
        _hub.Add("acme/tiny", Commit, [.. Directory.GetFiles(Model).Select(f => (Path.GetFileName(f), File.ReadAllBytes(f), true))]);
        _endpoint = _hub.Endpoint;
    }

    public async Task DisposeAsync()
    {
        await _hub.DisposeAsync();
        _cache.Dispose();
    }

    [Fact]
    public async Task Pull_then_run_loads_the_model_through_the_hub_cache_links()
    {
        var env = new Dictionary<string, string> { ["HF_ENDPOINT"] = _endpoint, ["HF_HUB_CACHE"] = _cache.Path, ["HF_TOKEN"] = "" };
        var pull = await SharpSeekProcess.RunAsync(["pull", "acme/tiny"], env);
        Assert.True(pull.Code == 0, pull.Err);
        string snapshot = pull.Out.Trim();
        Assert.Equal(Path.Combine(_cache.Path, "models--acme--tiny", "snapshots", Commit), snapshot);
        string weights = Path.Combine(snapshot, "model.safetensors");
        Assert.NotNull(new FileInfo(weights).LinkTarget);
        Assert.True(new FileInfo(weights).Length < 1000, "the test needs the snapshot's weights to be a link");

        var run = await SharpSeekProcess.RunAsync(["run", "--model", "acme/tiny", "--temperature", "0", "--max-tokens", "40", "What is 2 + 3?"], env);
        Assert.True(run.Code == 0, run.Err);
        Assert.Contains("5", run.Out);
    }
}
