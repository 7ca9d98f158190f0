using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SharpSeek.Hub;

namespace SharpSeek.Server.Tests;

/// <summary><c>pull</c>/<c>list</c>/<c>rm</c> against a local HTTP server that serves the hub's routes, with ETag and Range.</summary>
public sealed class HubTests : IAsyncLifetime
{
    private const string Commit = "0123456789abcdef0123456789abcdef01234567";
    private readonly byte[] _weights = RandomNumberGenerator.GetBytes(300_000);
    private readonly byte[] _config = Encoding.UTF8.GetBytes("""{"model_type":"tiny"}""");
    private readonly string _cache = Directory.CreateTempSubdirectory("hub-cache-").FullName;
    private WebApplication _hub = null!;
    private Uri _endpoint = null!;
    private int _cutWeightsOnce;      // 1: the next full download of the weights dies half-way
    private bool _corrupt;
    private readonly List<string?> _ranges = [];

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        _hub = builder.Build();
        string sha = Convert.ToHexStringLower(SHA256.HashData(_weights));
        _hub.MapGet("/api/models/{owner}/{name}/revision/{rev}", (string owner, string name, string rev) =>
            owner == "acme" && name == "tiny" && rev is "main" or Commit
                ? Results.Json(new
                {
                    id = "acme/tiny",
                    sha = Commit,
                    siblings = new object[]
                    {
                        new { rfilename = "config.json", size = _config.Length },
                        new { rfilename = "weights/model.safetensors", size = _weights.Length, lfs = new { sha256 = sha, size = _weights.Length } },
                    },
                })
                : Results.NotFound());
        _hub.MapGet("/acme/tiny/resolve/{rev}/{**file}", async (HttpContext ctx, string rev, string file) =>
        {
            byte[] data = file switch { "config.json" => _config, "weights/model.safetensors" => _weights, _ => [] };
            if (data.Length == 0 || rev != Commit) { ctx.Response.StatusCode = 404; return; }
            if (_corrupt && file != "config.json") data = [.. data.Take(data.Length - 1), (byte)(data[^1] ^ 1)];
            ctx.Response.Headers.ETag = "\"" + (file == "config.json" ? "cfgetag" : sha) + "\"";
            ctx.Response.Headers["X-Repo-Commit"] = Commit;
            string? range = ctx.Request.Headers.Range;
            lock (_ranges) _ranges.Add(file == "config.json" ? null : range);
            int start = 0;
            if (range is { } r && r.StartsWith("bytes=", StringComparison.Ordinal))
            {
                start = int.Parse(r["bytes=".Length..].TrimEnd('-'));
                ctx.Response.StatusCode = 206;
                ctx.Response.Headers.ContentRange = $"bytes {start}-{data.Length - 1}/{data.Length}";
            }
            ctx.Response.ContentLength = data.Length - start;
            if (file != "config.json" && start == 0 && Interlocked.Exchange(ref _cutWeightsOnce, 0) == 1)
            {
                await ctx.Response.Body.WriteAsync(data.AsMemory(0, data.Length / 2));
                await ctx.Response.Body.FlushAsync();
                ctx.Abort();
                return;
            }
            await ctx.Response.Body.WriteAsync(data.AsMemory(start));
        });
        await _hub.StartAsync();
        _endpoint = new Uri(_hub.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
    }

    public async Task DisposeAsync()
    {
        await _hub.StopAsync();
        await _hub.DisposeAsync();
        Directory.Delete(_cache, recursive: true);
    }

    private HubClient Client(HttpClient http) => new(http, _endpoint.ToString(), token: "", cacheRoot: _cache);

    [Fact]
    public async Task Pull_resumes_after_a_cut_and_lays_out_the_hub_cache()
    {
        using var http = new HttpClient();
        _cutWeightsOnce = 1;
        await Assert.ThrowsAnyAsync<Exception>(() => Client(http).PullAsync("acme/tiny"));
        var reports = new List<PullProgress>();
        string snapshot = await Client(http).PullAsync("acme/tiny", new SyncProgress(reports));
        Assert.Equal(Path.Combine(_cache, "models--acme--tiny", "snapshots", Commit), snapshot);
        Assert.Equal(_weights, File.ReadAllBytes(Path.Combine(snapshot, "weights", "model.safetensors")));
        Assert.Equal(_config, File.ReadAllBytes(Path.Combine(snapshot, "config.json")));
        Assert.Equal(Commit, File.ReadAllText(Path.Combine(_cache, "models--acme--tiny", "refs", "main")));
        Assert.True(File.Exists(Path.Combine(_cache, "models--acme--tiny", "blobs", Convert.ToHexStringLower(SHA256.HashData(_weights)))));
        Assert.Contains(_ranges, r => r is not null && r.StartsWith("bytes=", StringComparison.Ordinal) && r != "bytes=0-");
        Assert.Contains(reports, p => p.File == "weights/model.safetensors" && p.Completed == _weights.Length && p.Total == _weights.Length);
        Assert.Equal(snapshot, HubCache.FindSnapshot("acme/tiny", _cache));

        var listed = Assert.Single(HubCache.List(_cache));
        Assert.Equal("acme/tiny", listed.Repo);
        Assert.True(listed.Bytes >= _weights.Length);
        Assert.True(HubCache.Remove("acme/tiny", _cache));
        Assert.Empty(HubCache.List(_cache));
        Assert.False(HubCache.Remove("acme/tiny", _cache));
    }

    [Fact]
    public async Task Corrupt_download_fails_the_sha256_check()
    {
        using var http = new HttpClient();
        _corrupt = true;
        var e = await Assert.ThrowsAsync<SharpSeekException>(() => Client(http).PullAsync("acme/tiny"));
        Assert.Contains("SHA-256", e.Message);
        Assert.Null(HubCache.FindSnapshot("acme/tiny@" + Commit, _cache) is { } s && File.Exists(Path.Combine(s, "weights", "model.safetensors")) ? s : null);
    }

    [Fact]
    public async Task Unknown_repo_and_offline_hub_give_clear_messages()
    {
        using var http = new HttpClient();
        var missing = await Assert.ThrowsAsync<SharpSeekException>(() => Client(http).PullAsync("acme/nothing"));
        Assert.Contains("not found", missing.Message);
        var offline = new HubClient(http, "http://127.0.0.1:9", token: "", cacheRoot: _cache);
        var e = await Assert.ThrowsAsync<SharpSeekException>(() => offline.PullAsync("acme/tiny"));
        Assert.Contains("cannot reach the hub", e.Message);
        await Assert.ThrowsAsync<SharpSeekException>(() => Client(http).PullAsync("not-a-repo"));
    }

    private sealed class SyncProgress(List<PullProgress> into) : IProgress<PullProgress>
    {
        public void Report(PullProgress value) { lock (into) into.Add(value); }
    }
}
