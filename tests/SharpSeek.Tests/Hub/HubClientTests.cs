using System.Security.Cryptography;
using System.Text;
using SharpSeek.Hub;
using SharpSeek.Tests.Support;

namespace SharpSeek.Tests.Hub;

/// <summary><see cref="HubClient"/> and <see cref="HubCache"/> against a local hub (<see cref="FakeHub"/>): the cache layout, resume, checksums, which files a pull takes.</summary>
public sealed class HubClientTests : IAsyncLifetime
{
    private const string Commit = "0123456789abcdef0123456789abcdef01234567";
    private readonly byte[] _weights = RandomNumberGenerator.GetBytes(300_000);
    private readonly byte[] _config = Encoding.UTF8.GetBytes("""{"model_type":"tiny"}""");
    private readonly TempDir _cache = new();
    private FakeHub _hub = null!;
    private readonly HttpClient _http = new();

    public async Task InitializeAsync()
    {
        _hub = await FakeHub.StartAsync();
        _hub.Add("acme/tiny", Commit,
            ("config.json", _config, false),
            ("model.safetensors", _weights, true),
            ("README.md", "# tiny"u8.ToArray(), false),
            ("pytorch_model.bin", RandomNumberGenerator.GetBytes(1000), true),
            ("original/consolidated.00.pth", RandomNumberGenerator.GetBytes(1000), true));
        _hub.Add("acme/tiny-GGUF", Commit,
            ("tiny-Q8_0.gguf", RandomNumberGenerator.GetBytes(200_000), true),
            ("tiny-Q4_K_M.gguf", RandomNumberGenerator.GetBytes(120_000), true),
            ("tiny-Q2_K.gguf", RandomNumberGenerator.GetBytes(80_000), true),
            ("mmproj-tiny-F16.gguf", RandomNumberGenerator.GetBytes(10_000), true),
            ("README.md", "# gguf"u8.ToArray(), false));
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _hub.DisposeAsync();
        _cache.Dispose();
    }

    private HubClient Client() => new(_http, _hub.Endpoint, token: "", cacheRoot: _cache.Path);

    private string RepoFolder(string repo) => HubCache.RepoFolder(repo, _cache.Path);

    [Fact]
    public async Task Pull_resumes_after_a_cut_and_lays_out_the_hub_cache()
    {
        _hub.CutOnce("acme/tiny", "model.safetensors");
        await Assert.ThrowsAnyAsync<Exception>(() => Client().PullAsync("acme/tiny"));
        var listing = await Client().ListAsync("acme/tiny", "main");
        var plan = PullPlan.Choose("acme/tiny", listing.Files, null);
        // The config came whole; of the weights, what arrived before the cut (at most half) is kept to resume from.
        Assert.InRange(Client().CachedBytes(listing, plan), _config.Length + 1, _config.Length + _weights.Length / 2);

        var reports = new List<PullProgress>();
        string snapshot = await Client().PullAsync("acme/tiny", new SyncProgress(reports));
        Assert.Equal(Path.Combine(RepoFolder("acme/tiny"), "snapshots", Commit), snapshot);
        Assert.Equal(_weights, File.ReadAllBytes(Path.Combine(snapshot, "model.safetensors")));
        Assert.Equal(_config, File.ReadAllBytes(Path.Combine(snapshot, "config.json")));
        Assert.NotNull(new FileInfo(Path.Combine(snapshot, "model.safetensors")).LinkTarget);
        Assert.Equal(Commit, File.ReadAllText(Path.Combine(RepoFolder("acme/tiny"), "refs", "main")));
        // Blobs are named as the hub's own client names them: LFS by SHA-256, git files by their blob id.
        Assert.True(File.Exists(Path.Combine(RepoFolder("acme/tiny"), "blobs", FakeHub.Sha256(_weights))));
        Assert.True(File.Exists(Path.Combine(RepoFolder("acme/tiny"), "blobs", FakeHub.GitOid(_config))));
        Assert.Contains(_hub.Downloads, d => d.Path == "acme/tiny/model.safetensors" && d.Range is { } r && r.StartsWith("bytes=", StringComparison.Ordinal) && r != "bytes=0-");
        Assert.Contains(reports, p => p.File == "model.safetensors" && p.Completed == _weights.Length && p.Total == _weights.Length);
        Assert.Equal(snapshot, HubCache.FindSnapshot("acme/tiny", _cache.Path));
        Assert.Equal(snapshot, HubCache.FindModel("acme/tiny", _cache.Path));
        // Only what runs: no other formats' weights, nothing from subfolders.
        Assert.Equal(["README.md", "config.json", "model.safetensors"], Directory.GetFiles(snapshot).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.DoesNotContain(_hub.Downloads, d => d.Path.EndsWith(".bin", StringComparison.Ordinal) || d.Path.Contains("original/", StringComparison.Ordinal));

        var listed = Assert.Single(HubCache.List(_cache.Path));
        Assert.Equal(("acme/tiny", RepoFormat.Safetensors, snapshot), (listed.Name, listed.Format, listed.Path));
        Assert.Equal(_weights.Length + _config.Length + "# tiny"u8.Length, listed.Bytes);
        Assert.True(HubCache.Remove("acme/tiny", _cache.Path));
        Assert.Empty(HubCache.List(_cache.Path));
        Assert.False(HubCache.Remove("acme/tiny", _cache.Path));
    }

    [Theory]
    [InlineData("model.safetensors", "SHA-256 mismatch")]
    [InlineData("config.json", "git blob id mismatch")]
    public async Task A_corrupt_download_is_a_clear_error_and_leaves_nothing_corrupt(string file, string message)
    {
        _hub.Corrupt("acme/tiny", file);
        var e = await Assert.ThrowsAsync<SharpSeekException>(() => Client().PullAsync("acme/tiny"));
        Assert.Contains(file, e.Message);
        Assert.Contains(message, e.Message);
        Assert.Contains("removed", e.Message);
        string folder = RepoFolder("acme/tiny");
        Assert.Empty(Directory.GetFiles(Path.Combine(folder, "blobs"), "*.incomplete"));
        string[] blobs = Directory.GetFiles(Path.Combine(folder, "blobs"));
        Assert.All(blobs, b => Assert.Contains(Path.GetFileName(b), new[] { FakeHub.Sha256(_weights), FakeHub.GitOid(_config), FakeHub.GitOid("# tiny"u8.ToArray()) }));
        Assert.False(File.Exists(Path.Combine(folder, "snapshots", Commit, file)));
        Assert.False(File.Exists(Path.Combine(folder, "refs", "main")));
        Assert.Null(HubCache.FindModel("acme/tiny", _cache.Path));
        Assert.Empty(HubCache.List(_cache.Path));
    }

    [Fact]
    public async Task A_gguf_repository_gives_one_quantization_at_a_time()
    {
        string gguf = Path.Combine(RepoFolder("acme/tiny-GGUF"), "snapshots", Commit);
        Assert.Equal(gguf, await Client().PullAsync("acme/tiny-GGUF"));
        Assert.Equal(["tiny-Q4_K_M.gguf"], Directory.GetFiles(gguf).Select(Path.GetFileName));
        Assert.Equal(["acme/tiny-GGUF/tiny-Q4_K_M.gguf"], _hub.Downloads.Select(d => d.Path));
        Assert.Equal(Path.Combine(gguf, "tiny-Q4_K_M.gguf"), HubCache.FindModel("acme/tiny-GGUF", _cache.Path));

        await Client().PullAsync("hf.co/acme/tiny-GGUF:q8_0");
        Assert.Equal(Path.Combine(gguf, "tiny-Q8_0.gguf"), HubCache.FindModel("acme/tiny-GGUF:Q8_0", _cache.Path));
        // With both here, the bare name still means the default.
        Assert.Equal(Path.Combine(gguf, "tiny-Q4_K_M.gguf"), HubCache.FindModel("acme/tiny-GGUF", _cache.Path));
        var e = Assert.Throws<SharpSeekException>(() => HubCache.FindModel("acme/tiny-GGUF:Q2_K", _cache.Path));
        Assert.Contains("no Q2_K", e.Message);
        Assert.Contains("sharpseek pull acme/tiny-GGUF:Q2_K", e.Message);

        var listed = HubCache.List(_cache.Path).OrderBy(m => m.Name, StringComparer.Ordinal).ToList();
        Assert.Equal(["acme/tiny-GGUF:Q4_K_M", "acme/tiny-GGUF:Q8_0"], listed.Select(m => m.Name));
        Assert.All(listed, m => Assert.Equal(RepoFormat.Gguf, m.Format));
        Assert.Equal(["Q4_K_M", "Q8_0"], listed.Select(m => m.Quantization));
        Assert.Equal([120_000L, 200_000L], listed.Select(m => m.Bytes));

        // Pulling again downloads nothing.
        int before = _hub.Downloads.Count;
        await Client().PullAsync("acme/tiny-GGUF:Q8_0");
        Assert.Equal(before, _hub.Downloads.Count);
        Assert.Throws<SharpSeekException>(() => HubCache.Remove("acme/tiny-GGUF:Q8_0", _cache.Path));
    }

    [Fact]
    public async Task Unknown_repo_quant_and_offline_hub_give_clear_messages()
    {
        var missing = await Assert.ThrowsAsync<SharpSeekException>(() => Client().PullAsync("acme/nothing"));
        Assert.Contains("not found", missing.Message);
        var quant = await Assert.ThrowsAsync<SharpSeekException>(() => Client().PullAsync("acme/tiny-GGUF:Q5_K_M"));
        Assert.Equal("acme/tiny-GGUF has no Q5_K_M model; available: Q2_K (80.0 kB), Q4_K_M (120.0 kB), Q8_0 (200.0 kB)", quant.Message);
        var offline = new HubClient(_http, "http://127.0.0.1:9", token: "", cacheRoot: _cache.Path);
        var e = await Assert.ThrowsAsync<SharpSeekException>(() => offline.PullAsync("acme/tiny"));
        Assert.Contains("cannot reach the hub", e.Message);
        await Assert.ThrowsAsync<SharpSeekException>(() => Client().PullAsync("not-a-repo"));
        Assert.Empty(_hub.Downloads);
    }

    private sealed class SyncProgress(List<PullProgress> into) : IProgress<PullProgress>
    {
        public void Report(PullProgress value) { lock (into) into.Add(value); }
    }
}
