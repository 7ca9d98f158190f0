using System.Net;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
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
    private WebApplication _hub = null!;
    private string _endpoint = "";

    public async Task InitializeAsync()
    {
        var files = Directory.GetFiles(Model).Select(Path.GetFileName).ToArray();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        _hub = builder.Build();
        _hub.MapGet("/api/models/acme/tiny/revision/{rev}", (string rev) => Results.Json(new
        {
            sha = Commit,
            siblings = files.Select(f =>
            {
                byte[] data = File.ReadAllBytes(Path.Combine(Model, f!));
                return new { rfilename = f, size = data.Length, lfs = new { sha256 = Convert.ToHexStringLower(SHA256.HashData(data)), size = data.Length } };
            }),
        }));
        _hub.MapGet("/acme/tiny/resolve/{rev}/{file}", (string rev, string file) =>
            rev == Commit && files.Contains(file) ? Results.File(Path.Combine(Model, file), "application/octet-stream") : Results.NotFound());
        await _hub.StartAsync();
        _endpoint = _hub.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
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
