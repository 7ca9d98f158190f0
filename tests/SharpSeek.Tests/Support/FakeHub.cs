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

namespace SharpSeek.Tests.Support;

/// <summary>
/// A local HTTP server with the Hugging Face hub's routes (<c>/api/models/OWNER/REPO/revision/REV?blobs=true</c> and
/// <c>/OWNER/REPO/resolve/COMMIT/FILE</c>): sizes, LFS SHA-256 and git blob ids in the listing, ETags and Range on
/// downloads; it can cut a transfer half-way and corrupt a file, and it records every download request.
/// </summary>
public sealed class FakeHub : IAsyncDisposable
{
    private sealed record HubFile(byte[] Data, bool Lfs);
    private sealed record Repo(string Commit, Dictionary<string, HubFile> Files);

    private readonly Dictionary<string, Repo> _repos = new(StringComparer.Ordinal);
    private readonly HashSet<string> _cutOnce = new(StringComparer.Ordinal);
    private readonly HashSet<string> _corrupt = new(StringComparer.Ordinal);
    private readonly List<(string Path, string? Range)> _downloads = [];
    private WebApplication _app = null!;

    public string Endpoint { get; private set; } = "";

    /// <summary>Every download as (repo/file, Range header).</summary>
    public IReadOnlyList<(string Path, string? Range)> Downloads { get { lock (_downloads) return [.. _downloads]; } }

    public static async Task<FakeHub> StartAsync()
    {
        var hub = new FakeHub();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        hub._app = builder.Build();
        hub._app.MapGet("/api/models/{owner}/{name}/revision/{rev}", hub.Listing);
        hub._app.MapGet("/{owner}/{name}/resolve/{rev}/{**file}", hub.Resolve);
        await hub._app.StartAsync();
        hub.Endpoint = hub._app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return hub;
    }

    /// <summary>Serves <paramref name="repo"/> at <paramref name="commit"/> with these files (LFS unless said otherwise).</summary>
    public FakeHub Add(string repo, string commit, params (string Path, byte[] Data, bool Lfs)[] files)
    {
        lock (_repos) _repos[repo] = new Repo(commit, files.ToDictionary(f => f.Path, f => new HubFile(f.Data, f.Lfs), StringComparer.Ordinal));
        return this;
    }

    /// <summary>The next full download of <c>repo/file</c> sends half the bytes and drops the connection.</summary>
    public void CutOnce(string repo, string file) { lock (_cutOnce) _cutOnce.Add(repo + "/" + file); }

    /// <summary>Downloads of <c>repo/file</c> have their last byte flipped.</summary>
    public void Corrupt(string repo, string file) { lock (_corrupt) _corrupt.Add(repo + "/" + file); }

    public static string Sha256(byte[] data) => Convert.ToHexStringLower(SHA256.HashData(data));

    public static string GitOid(byte[] data) => Convert.ToHexStringLower(SHA1.HashData([.. Encoding.ASCII.GetBytes($"blob {data.Length}\0"), .. data]));

    private Repo? Find(string owner, string name, string rev)
    {
        lock (_repos) return _repos.TryGetValue(owner + "/" + name, out var r) && (rev == "main" || rev == r.Commit) ? r : null;
    }

    private IResult Listing(string owner, string name, string rev) => Find(owner, name, rev) is not { } repo ? Results.NotFound() : Results.Json(new
    {
        id = owner + "/" + name,
        sha = repo.Commit,
        siblings = repo.Files.Select(f => f.Value.Lfs
            ? (object)new { rfilename = f.Key, size = f.Value.Data.Length, blobId = GitOid(Encoding.ASCII.GetBytes("pointer " + f.Key)), lfs = new { sha256 = Sha256(f.Value.Data), size = f.Value.Data.Length, pointerSize = 134 } }
            : new { rfilename = f.Key, size = f.Value.Data.Length, blobId = GitOid(f.Value.Data) }),
    });

    private async Task Resolve(HttpContext ctx, string owner, string name, string rev, string file)
    {
        if (Find(owner, name, rev) is not { } repo || rev != repo.Commit || !repo.Files.TryGetValue(file, out var f)) { ctx.Response.StatusCode = 404; return; }
        string key = owner + "/" + name + "/" + file;
        byte[] data = f.Data;
        lock (_corrupt) if (_corrupt.Contains(key)) data = [.. data[..^1], (byte)(data[^1] ^ 1)];
        ctx.Response.Headers.ETag = "\"" + (f.Lfs ? Sha256(f.Data) : GitOid(f.Data)) + "\"";
        ctx.Response.Headers["X-Repo-Commit"] = repo.Commit;
        string? range = ctx.Request.Headers.Range;
        lock (_downloads) _downloads.Add((key, range));
        int start = 0;
        if (range is { } r && r.StartsWith("bytes=", StringComparison.Ordinal))
        {
            start = int.Parse(r["bytes=".Length..].TrimEnd('-'), System.Globalization.CultureInfo.InvariantCulture);
            ctx.Response.StatusCode = 206;
            ctx.Response.Headers.ContentRange = $"bytes {start}-{data.Length - 1}/{data.Length}";
        }
        ctx.Response.ContentLength = data.Length - start;
        bool cut;
        lock (_cutOnce) cut = start == 0 && _cutOnce.Remove(key);
        if (cut)
        {
            await ctx.Response.Body.WriteAsync(data.AsMemory(0, data.Length / 2));
            await ctx.Response.Body.FlushAsync();
            ctx.Abort();
            return;
        }
        await ctx.Response.Body.WriteAsync(data.AsMemory(start));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
