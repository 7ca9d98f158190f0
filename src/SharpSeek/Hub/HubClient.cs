using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;

namespace SharpSeek.Hub;

/// <summary>Progress of a pull: the file, bytes done and its size (0 when unknown).</summary>
public readonly record struct PullProgress(string File, long Completed, long Total);

/// <summary>A repository at one commit, with every file the hub lists for it.</summary>
public sealed record RepoListing(string Repo, string Revision, string Commit, IReadOnlyList<RepoFile> Files);

/// <summary>
/// Downloads models from a Hugging Face hub (<c>HF_ENDPOINT</c>, token <c>HF_TOKEN</c>) into the standard hub cache:
/// <c>blobs/ID</c>, <c>snapshots/COMMIT/FILE</c> linking to the blob, <c>refs/REV</c>. <see cref="ListAsync"/> asks for the
/// repository's files, <see cref="PullPlan.Choose"/> decides which to fetch (one quantization of a GGUF repository), and
/// <see cref="DownloadAsync"/> fetches them: an interrupted file resumes with a Range request, LFS files are checked
/// against their SHA-256 and files kept in git against their git blob id, and a file that fails its check is removed.
/// </summary>
public sealed class HubClient(HttpClient http, string? endpoint = null, string? token = null, string? cacheRoot = null)
{
    public string Endpoint { get; } = (endpoint ?? Environment.GetEnvironmentVariable("HF_ENDPOINT") ?? "https://huggingface.co").TrimEnd('/');
    private readonly string? _token = token ?? Environment.GetEnvironmentVariable("HF_TOKEN");
    private readonly string _root = cacheRoot ?? HubCache.Root;

    /// <summary>Pulls <c>owner/repo[@rev][:QUANT|:FILE]</c> as <see cref="PullPlan.Choose"/> decides; returns the snapshot folder.</summary>
    public async Task<string> PullAsync(string reference, IProgress<PullProgress>? progress = null, CancellationToken ct = default)
    {
        var r = HubReference.Parse(reference);
        var listing = await ListAsync(r.Repo, r.Revision, ct);
        return await DownloadAsync(listing, PullPlan.Choose(r.Repo, listing.Files, r.Selector), progress, ct);
    }

    /// <summary>The files of <paramref name="repo"/> at <paramref name="revision"/>, with sizes and hashes.</summary>
    public async Task<RepoListing> ListAsync(string repo, string revision, CancellationToken ct = default)
    {
        using var response = await SendAsync(new HttpRequestMessage(HttpMethod.Get, $"{Endpoint}/api/models/{repo}/revision/{Uri.EscapeDataString(revision)}?blobs=true"), ct);
        if (response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Unauthorized)
            throw new SharpSeekException($"{repo}@{revision}: not found on {Endpoint} (or it needs HF_TOKEN)");
        if (!response.IsSuccessStatusCode) throw new SharpSeekException($"{repo}@{revision}: the hub answered {(int)response.StatusCode} {response.ReasonPhrase}");
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStreamAsync(ct));
        var root = doc.RootElement;
        string commit = root.TryGetProperty("sha", out var sha) && sha.GetString() is { Length: > 0 } s ? s : throw new SharpSeekException($"{repo}@{revision}: the hub gave no commit");
        if (commit.Contains('/') || commit.Contains("..", StringComparison.Ordinal)) throw new SharpSeekException($"{repo}@{revision}: bad commit id '{commit}'");
        var files = new List<RepoFile>();
        if (root.TryGetProperty("siblings", out var siblings))
            foreach (var f in siblings.EnumerateArray())
            {
                string name = f.GetProperty("rfilename").GetString()!;
                long size = f.TryGetProperty("size", out var sz) && sz.ValueKind == JsonValueKind.Number ? sz.GetInt64() : 0;
                string? lfs = f.TryGetProperty("lfs", out var l) && l.ValueKind == JsonValueKind.Object && l.TryGetProperty("sha256", out var h) ? h.GetString() : null;
                if (lfs is not null && l.TryGetProperty("size", out var lsz)) size = lsz.GetInt64();
                string? oid = lfs is null && f.TryGetProperty("blobId", out var b) && b.GetString() is { Length: 40 } id && IsHex(id) ? id.ToLowerInvariant() : null;
                files.Add(new RepoFile(name, size, lfs?.ToLowerInvariant(), oid));
            }
        return new RepoListing(repo, revision, commit, files);
    }

    /// <summary>The bytes of <paramref name="plan"/> already in the cache (complete blobs and partial downloads).</summary>
    public long CachedBytes(RepoListing listing, PullPlan plan)
    {
        string folder = HubCache.RepoFolder(listing.Repo, _root);
        long have = 0;
        foreach (var f in plan.Files)
        {
            if (File.Exists(System.IO.Path.Combine(folder, "snapshots", listing.Commit, f.Path))) have += f.Size;
            else if (BlobName(f) is { } blob && File.Exists(System.IO.Path.Combine(folder, "blobs", blob))) have += f.Size;
            else if (new FileInfo(PartialPath(System.IO.Path.Combine(folder, "blobs"), listing.Commit, f)) is { Exists: true } partial) have += Math.Min(partial.Length, f.Size);
        }
        return have;
    }

    /// <summary>Downloads the files of <paramref name="plan"/> into the cache; returns the snapshot folder.</summary>
    public async Task<string> DownloadAsync(RepoListing listing, PullPlan plan, IProgress<PullProgress>? progress = null, CancellationToken ct = default)
    {
        string folder = HubCache.RepoFolder(listing.Repo, _root);
        string blobs = System.IO.Path.Combine(folder, "blobs");
        string snapshot = System.IO.Path.Combine(folder, "snapshots", listing.Commit);
        Directory.CreateDirectory(blobs);
        foreach (var file in plan.Files)
        {
            string target = System.IO.Path.GetFullPath(System.IO.Path.Combine(snapshot, file.Path));
            if (!target.StartsWith(System.IO.Path.GetFullPath(snapshot) + System.IO.Path.DirectorySeparatorChar, StringComparison.Ordinal))
                throw new SharpSeekException($"the hub listed a file outside the repository: {file.Path}");
            if (File.Exists(target)) { progress?.Report(new PullProgress(file.Path, file.Size, file.Size)); continue; }
            string blob = await DownloadAsync(listing, file, blobs, progress, ct);
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(target)!);
            Link(target, blob);
        }
        if (listing.Revision != listing.Commit)
        {
            string refFile = System.IO.Path.Combine(folder, "refs", listing.Revision);
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(refFile)!);
            await File.WriteAllTextAsync(refFile, listing.Commit, ct);
        }
        return snapshot;
    }

    /// <summary>The blob's name in <c>blobs/</c>, as the hub's own client names it: the SHA-256 of an LFS file, the git blob id of another.</summary>
    private static string? BlobName(RepoFile f) => f.Sha256 ?? f.GitOid;

    private static string PartialPath(string blobs, string commit, RepoFile file) =>
        System.IO.Path.Combine(blobs, Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(commit + "/" + file.Path))) + ".incomplete");

    private async Task<string> DownloadAsync(RepoListing listing, RepoFile file, string blobs, IProgress<PullProgress>? progress, CancellationToken ct)
    {
        if (BlobName(file) is { } known && File.Exists(System.IO.Path.Combine(blobs, known)))
        {
            progress?.Report(new PullProgress(file.Path, file.Size, file.Size));
            return System.IO.Path.Combine(blobs, known);
        }
        string partial = PartialPath(blobs, listing.Commit, file);
        long have = File.Exists(partial) ? new FileInfo(partial).Length : 0;
        if (file.Size > 0 && have > file.Size) { File.Delete(partial); have = 0; }
        string url = $"{Endpoint}/{listing.Repo}/resolve/{listing.Commit}/{string.Join('/', file.Path.Split('/').Select(Uri.EscapeDataString))}";
        string etag;
        if (file.Size > 0 && have == file.Size) etag = "";   // every byte is here: only the check is left
        else
        {
            var request = new HttpRequestMessage(HttpMethod.Get, url);
            if (have > 0) request.Headers.Range = new RangeHeaderValue(have, null);
            using var response = await SendAsync(request, ct, HttpCompletionOption.ResponseHeadersRead);
            if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable) { File.Delete(partial); return await DownloadAsync(listing, file, blobs, progress, ct); }
            if (!response.IsSuccessStatusCode) throw new SharpSeekException($"{file.Path}: the hub answered {(int)response.StatusCode} {response.ReasonPhrase}");
            bool append = response.StatusCode == HttpStatusCode.PartialContent;
            if (!append) have = 0;
            etag = (response.Headers.ETag?.Tag ?? "").Trim('"');
            long total = file.Size > 0 ? file.Size : (response.Content.Headers.ContentLength ?? 0) + have;
            progress?.Report(new PullProgress(file.Path, have, total));
            await using var output = new FileStream(partial, append ? FileMode.Append : FileMode.Create, FileAccess.Write);
            await using var input = await response.Content.ReadAsStreamAsync(ct);
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
        string name = Verify(partial, file, etag);
        string blob = System.IO.Path.Combine(blobs, name);
        File.Move(partial, blob, overwrite: true);
        return blob;
    }

    /// <summary>
    /// Checks a finished download against what the hub said (size, then the LFS SHA-256 or the git blob id) and returns the
    /// blob name; a file that fails is deleted, so a pull never leaves a corrupt file behind, and the error says so.
    /// </summary>
    private static string Verify(string partial, RepoFile file, string etag)
    {
        long length = new FileInfo(partial).Length;
        string? problem = null, name = null;
        if (file.Size > 0 && length != file.Size) problem = $"{length} bytes, the hub lists {file.Size}";
        else if (file.Sha256 is { } expected)
        {
            string actual;
            using (var check = File.OpenRead(partial)) actual = Convert.ToHexStringLower(SHA256.HashData(check));
            if (actual != expected) problem = $"SHA-256 mismatch (expected {expected}, got {actual})";
            name = expected;
        }
        else if ((file.GitOid ?? (etag.Length == 40 && IsHex(etag) ? etag.ToLowerInvariant() : null)) is { } oid)
        {
            string actual = GitBlobId(partial);
            if (actual != oid) problem = $"git blob id mismatch (expected {oid}, got {actual})";
            name = oid;
        }
        if (problem is not null)
        {
            File.Delete(partial);
            throw new SharpSeekException($"{file.Path}: {problem}; the download was removed, pull again");
        }
        if (name is null)
            using (var s = File.OpenRead(partial)) name = Convert.ToHexStringLower(SHA256.HashData(s));
        return name;
    }

    /// <summary>git's object id of a file: SHA-1 of <c>"blob {length}\0"</c> followed by the content.</summary>
    private static string GitBlobId(string path)
    {
        using var sha1 = IncrementalHash.CreateHash(HashAlgorithmName.SHA1);
        using var s = File.OpenRead(path);
        sha1.AppendData(System.Text.Encoding.ASCII.GetBytes($"blob {s.Length}\0"));
        var buffer = new byte[1 << 16];
        int n;
        while ((n = s.Read(buffer)) > 0) sha1.AppendData(buffer.AsSpan(0, n));
        return Convert.ToHexStringLower(sha1.GetHashAndReset());
    }

    private static bool IsHex(string s) => s.All(char.IsAsciiHexDigit);

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
