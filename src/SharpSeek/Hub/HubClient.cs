using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;

namespace SharpSeek.Hub;

/// <summary>Progress of a pull: the file, bytes done and its size (0 when unknown).</summary>
public readonly record struct PullProgress(string File, long Completed, long Total);

/// <summary>
/// Downloads a model repository from a Hugging Face hub (<c>HF_ENDPOINT</c>, token <c>HF_TOKEN</c>) into the standard hub
/// cache: <c>blobs/ETAG</c>, <c>snapshots/COMMIT/FILE</c> linking to the blob, <c>refs/REV</c>. Interrupted downloads
/// resume with a Range request; LFS files are checked against their SHA-256.
/// </summary>
public sealed class HubClient(HttpClient http, string? endpoint = null, string? token = null, string? cacheRoot = null)
{
    public string Endpoint { get; } = (endpoint ?? Environment.GetEnvironmentVariable("HF_ENDPOINT") ?? "https://huggingface.co").TrimEnd('/');
    private readonly string? _token = token ?? Environment.GetEnvironmentVariable("HF_TOKEN");
    private readonly string _root = cacheRoot ?? HubCache.Root;

    private sealed record RepoFile(string Path, long Size, string? Sha256);

    /// <summary>Pulls <c>owner/repo[@rev]</c>; returns the snapshot folder.</summary>
    public async Task<string> PullAsync(string reference, IProgress<PullProgress>? progress = null, CancellationToken ct = default)
    {
        if (HubCache.ParseReference(reference) is not var (repo, rev)) throw new SharpSeekException($"'{reference}' is not of the form owner/repo[@revision]");
        var (commit, files) = await RevisionAsync(repo, rev, ct);
        string folder = HubCache.RepoFolder(repo, _root);
        string blobs = System.IO.Path.Combine(folder, "blobs");
        string snapshot = System.IO.Path.Combine(folder, "snapshots", commit);
        Directory.CreateDirectory(blobs);
        Directory.CreateDirectory(snapshot);
        foreach (var file in files)
        {
            string target = System.IO.Path.GetFullPath(System.IO.Path.Combine(snapshot, file.Path));
            if (!target.StartsWith(System.IO.Path.GetFullPath(snapshot) + System.IO.Path.DirectorySeparatorChar, StringComparison.Ordinal))
                throw new SharpSeekException($"the hub listed a file outside the repository: {file.Path}");
            if (File.Exists(target)) { progress?.Report(new PullProgress(file.Path, file.Size, file.Size)); continue; }
            string blob = await DownloadAsync(repo, commit, file, blobs, progress, ct);
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(target)!);
            Link(target, blob);
        }
        if (rev != commit)
        {
            Directory.CreateDirectory(System.IO.Path.Combine(folder, "refs"));
            await File.WriteAllTextAsync(System.IO.Path.Combine(folder, "refs", rev), commit, ct);
        }
        return snapshot;
    }

    private async Task<(string Commit, List<RepoFile> Files)> RevisionAsync(string repo, string rev, CancellationToken ct)
    {
        using var response = await SendAsync(new HttpRequestMessage(HttpMethod.Get, $"{Endpoint}/api/models/{repo}/revision/{Uri.EscapeDataString(rev)}?blobs=true"), ct);
        if (response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Unauthorized)
            throw new SharpSeekException($"{repo}@{rev}: not found on {Endpoint} (or it needs HF_TOKEN)");
        if (!response.IsSuccessStatusCode) throw new SharpSeekException($"{repo}@{rev}: the hub answered {(int)response.StatusCode} {response.ReasonPhrase}");
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStreamAsync(ct));
        var root = doc.RootElement;
        string commit = root.TryGetProperty("sha", out var sha) && sha.GetString() is { Length: > 0 } s ? s : throw new SharpSeekException($"{repo}@{rev}: the hub gave no commit");
        if (commit.Contains('/') || commit.Contains("..", StringComparison.Ordinal)) throw new SharpSeekException($"{repo}@{rev}: bad commit id '{commit}'");
        var files = new List<RepoFile>();
        if (root.TryGetProperty("siblings", out var siblings))
            foreach (var f in siblings.EnumerateArray())
            {
                string name = f.GetProperty("rfilename").GetString()!;
                long size = f.TryGetProperty("size", out var sz) && sz.ValueKind == JsonValueKind.Number ? sz.GetInt64() : 0;
                string? lfs = f.TryGetProperty("lfs", out var l) && l.ValueKind == JsonValueKind.Object && l.TryGetProperty("sha256", out var h) ? h.GetString() : null;
                if (lfs is not null && l.TryGetProperty("size", out var lsz)) size = lsz.GetInt64();
                files.Add(new RepoFile(name, size, lfs));
            }
        return (commit, files);
    }

    private async Task<string> DownloadAsync(string repo, string commit, RepoFile file, string blobs, IProgress<PullProgress>? progress, CancellationToken ct)
    {
        if (file.Sha256 is { } known && File.Exists(System.IO.Path.Combine(blobs, known))) return System.IO.Path.Combine(blobs, known);
        string partial = System.IO.Path.Combine(blobs, Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(commit + "/" + file.Path))) + ".incomplete");
        long have = File.Exists(partial) ? new FileInfo(partial).Length : 0;
        string url = $"{Endpoint}/{repo}/resolve/{commit}/{string.Join('/', file.Path.Split('/').Select(Uri.EscapeDataString))}";
        var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (have > 0) request.Headers.Range = new RangeHeaderValue(have, null);
        using var response = await SendAsync(request, ct, HttpCompletionOption.ResponseHeadersRead);
        if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable) { File.Delete(partial); return await DownloadAsync(repo, commit, file, blobs, progress, ct); }
        if (!response.IsSuccessStatusCode) throw new SharpSeekException($"{file.Path}: the hub answered {(int)response.StatusCode} {response.ReasonPhrase}");
        bool append = response.StatusCode == HttpStatusCode.PartialContent;
        if (!append) have = 0;
        string etag = (response.Headers.ETag?.Tag ?? "").Trim('"');
        long total = file.Size > 0 ? file.Size : (response.Content.Headers.ContentLength ?? 0) + have;
        await using (var output = new FileStream(partial, append ? FileMode.Append : FileMode.Create, FileAccess.Write))
        await using (var input = await response.Content.ReadAsStreamAsync(ct))
        {
            var buffer = new byte[1 << 16];
            int n;
            long done = have;
            while ((n = await input.ReadAsync(buffer, ct)) > 0)
            {
                await output.WriteAsync(buffer.AsMemory(0, n), ct);
                done += n;
                progress?.Report(new PullProgress(file.Path, done, total));
            }
        }
        if (file.Sha256 is { } expected)
        {
            string actual;
            await using (var check = File.OpenRead(partial)) actual = Convert.ToHexStringLower(await SHA256.HashDataAsync(check, ct));
            if (!string.Equals(actual, expected, StringComparison.OrdinalIgnoreCase))
            {
                File.Delete(partial);
                throw new SharpSeekException($"{file.Path}: SHA-256 mismatch (expected {expected}, got {actual}); the partial download was removed, pull again");
            }
            etag = expected;
        }
        if (etag.Length == 0 || etag.Contains('/') || etag.Contains("..", StringComparison.Ordinal))
            etag = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(partial)));
        string blob = System.IO.Path.Combine(blobs, etag);
        File.Move(partial, blob, overwrite: true);
        return blob;
    }

    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct, HttpCompletionOption completion = HttpCompletionOption.ResponseContentRead)
    {
        if (_token is { Length: > 0 }) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _token);
        try
        {
            return await http.SendAsync(request, completion, ct);
        }
        catch (HttpRequestException e)
        {
            throw new SharpSeekException($"cannot reach the hub at {Endpoint} ({e.Message}); check the network, or set HF_ENDPOINT to a mirror", e);
        }
        finally
        {
            request.Dispose();
        }
    }

    /// <summary>Links a snapshot file to its blob (relative symlink as the hub's own client does; a copy where links fail).</summary>
    private static void Link(string target, string blob)
    {
        try
        {
            File.CreateSymbolicLink(target, System.IO.Path.GetRelativePath(System.IO.Path.GetDirectoryName(target)!, blob));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or PlatformNotSupportedException)
        {
            File.Copy(blob, target, overwrite: true);
        }
    }
}
