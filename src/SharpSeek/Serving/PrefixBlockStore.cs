using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Threading.Channels;
using SharpSeek.Models;

namespace SharpSeek.Serving;

/// <summary>
/// Prefix blocks on disk, so context caching survives a restart (practical with MLA, whose cache is a few KB per token).
/// Block i of a token sequence is keyed by hash(key of block i−1, its tokens), the chain starting from the model id, so
/// prompts sharing a prefix share files and another model never finds them. Blocks are snapshotted on the caller's
/// thread and written by a background writer (temp file + rename, so a crash never leaves a half block under a real
/// name). Use is bounded by <c>maxBytes</c>: the least recently used blocks go first, deeper ones before shallower on a
/// tie, so chains shrink from the end. A file that fails validation is deleted with a warning and never trusted.
/// Only regular files are read (a FIFO or device under a block's name is ignored, never opened for a blocking read),
/// reads run off the caller's thread and under no lock, and reads that take longer than <see cref="IoTimeout"/> count
/// as missing blocks: a hung disk slows one request by that much, not the server for good.
/// </summary>
public sealed class PrefixBlockStore : IDisposable
{
    private const string Extension = ".kvblock";
    private const string TempExtension = ".tmp";
    private const long BacklogBytes = 256L << 20;

    private sealed class Entry(long bytes, int index, long stamp)
    {
        public long Bytes = bytes;
        public int Index = index;
        public long Stamp = stamp;
    }

    private sealed record Pending(string Name, int Index, byte[] Data, long Stamp);

    private readonly PrefixBlockLayout _layout;
    private readonly long _maxBytes;
    private readonly Action<string> _warn;
    private readonly Dictionary<string, Entry> _files = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Pending> _pending = new(StringComparer.Ordinal);
    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _writer;
    private readonly ManualResetEventSlim _idle = new(true);
    private readonly Lock _lock = new();
    private readonly byte[] _root;
    private long _bytes, _pendingBytes, _lastStamp, _written, _loaded, _rejected;
    private bool _warnedTooBig, _warnedBacklog;

    private readonly TimeSpan _ioTimeout;
    private Task? _stuckRead;
    private bool _warnedStuck;

    public PrefixBlockStore(string directory, PrefixBlockLayout layout, long maxBytes, Action<string>? warn = null, TimeSpan? ioTimeout = null)
    {
        _ioTimeout = ioTimeout ?? TimeSpan.FromSeconds(2);
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("prefix blocks on disk are little-endian");
        if (maxBytes <= 0) throw new ArgumentOutOfRangeException(nameof(maxBytes), "the prefix cache size bound must be positive");
        Directory = Path.GetFullPath(directory);
        _layout = layout;
        _maxBytes = maxBytes;
        _warn = warn ?? (m => Console.Error.WriteLine("sharpseek: warning: " + m));
        try { System.IO.Directory.CreateDirectory(Directory); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SharpSeekException($"cannot create the prefix cache directory {Directory}: {e.Message}");
        }
        Span<byte> seed = stackalloc byte[32 + PrefixBlockLayout.ModelIdBytes];
        "sharpseek prefix block chain v1"u8.CopyTo(seed);
        layout.ModelId.CopyTo(seed[32..]);
        _root = SHA256.HashData(seed);
        Scan();
        _writer = Task.Run(WriteLoop);
    }

    public string Directory { get; }

    /// <summary>How long the file reads of one <see cref="Load"/> may take; blocks not read by then are treated as missing.</summary>
    public TimeSpan IoTimeout => _ioTimeout;

    /// <summary>Bytes of block files on disk (written ones; queued ones not yet).</summary>
    public long Bytes { get { lock (_lock) return _bytes; } }

    public int Files { get { lock (_lock) return _files.Count; } }

    public long BlocksWritten => Interlocked.Read(ref _written);
    public long BlocksLoaded => Interlocked.Read(ref _loaded);

    /// <summary>Files found invalid (corrupt, truncated, of another model) and dropped.</summary>
    public long BlocksRejected => Interlocked.Read(ref _rejected);

    /// <summary>Bytes one block takes on disk.</summary>
    public long BlockFileBytes => PrefixBlockFile.FileBytes(_layout);

    /// <summary>The file name of block <paramref name="index"/> with key <paramref name="key"/> (tests damage them).</summary>
    public string FileName(int index, ReadOnlySpan<byte> key) =>
        index.ToString("D5", CultureInfo.InvariantCulture) + "-" + Convert.ToHexStringLower(key[..16]) + Extension;

    /// <summary>Keys of the first <paramref name="blocks"/> whole blocks of <paramref name="tokens"/>.</summary>
    public byte[][] Keys(ReadOnlySpan<int> tokens, int blocks)
    {
        int b = _layout.BlockSize;
        var keys = new byte[blocks][];
        var buffer = new byte[PrefixBlockFile.KeyBytes + 4 * b];
        ReadOnlySpan<byte> parent = _root;
        for (int i = 0; i < blocks; i++)
        {
            parent.CopyTo(buffer);
            for (int t = 0; t < b; t++) BinaryPrimitives.WriteInt32LittleEndian(buffer.AsSpan(PrefixBlockFile.KeyBytes + 4 * t), tokens[i * b + t]);
            keys[i] = SHA256.HashData(buffer);
            parent = keys[i];
        }
        return keys;
    }

    /// <summary>
    /// Queues the whole blocks of <paramref name="tokens"/> held by <paramref name="state"/> that are not on disk yet, and
    /// marks the others used. The rows are copied now, so the state may be reused at once.
    /// </summary>
    public void Save(ReadOnlySpan<int> tokens, InferenceState state)
    {
        int b = _layout.BlockSize;
        int blocks = Math.Min(tokens.Length, state.Length) / b;
        if (blocks == 0) return;
        long size = BlockFileBytes;
        if (size > _maxBytes)
        {
            if (!_warnedTooBig) _warn($"a prefix block of this model takes {size} bytes, more than the prefix cache bound ({_maxBytes} bytes); nothing is saved to {Directory}");
            _warnedTooBig = true;
            return;
        }
        // Blocks beyond the bound would be evicted at once (deepest go first), so they are not written at all.
        blocks = (int)Math.Min(blocks, _maxBytes / size);
        var keys = Keys(tokens, blocks);
        lock (_lock)
        {
            long stamp = NextStamp();
            for (int i = 0; i < blocks; i++)
            {
                string name = FileName(i, keys[i]);
                if (_files.TryGetValue(name, out var entry)) { Touch(name, entry, stamp); continue; }
                if (_pending.ContainsKey(name)) continue;
                // A slow disk must not make snapshots pile up in memory: beyond the bound, later blocks are skipped.
                if (_pendingBytes + size > BacklogBytes)
                {
                    if (!_warnedBacklog) _warn($"the prefix cache writer is behind; some blocks are not saved to {Directory}");
                    _warnedBacklog = true;
                    break;
                }
                var p = new Pending(name, i, PrefixBlockFile.Encode(_layout, keys[i], i, tokens.Slice(i * b, b), state), stamp);
                _pending[name] = p;
                _pendingBytes += size;
                _idle.Reset();
                _queue.Writer.TryWrite(p);
            }
        }
    }

    /// <summary>
    /// Loads the longest run of consecutive blocks of <paramref name="prompt"/> (at most <paramref name="maxBlocks"/>)
    /// into a state from <paramref name="create"/>, when it is longer than <paramref name="minBlocks"/>; else null.
    /// </summary>
    public InferenceState? Load(ReadOnlySpan<int> prompt, int maxBlocks, int minBlocks, Func<InferenceState> create, out int blocks)
    {
        blocks = 0;
        int b = _layout.BlockSize;
        maxBlocks = Math.Min(maxBlocks, prompt.Length / b);
        if (maxBlocks <= minBlocks) return null;
        var keys = Keys(prompt, maxBlocks);
        int available = 0;
        lock (_lock)
            while (available < maxBlocks && (_files.ContainsKey(FileName(available, keys[available])) || _pending.ContainsKey(FileName(available, keys[available]))))
                available++;
        if (available <= minBlocks) return null;

        var state = create();
        if (state.Caches.Length != _layout.Layers) throw new SharpSeekException($"the prefix cache in {Directory} was opened for {_layout.Layers} layers, the model has {state.Caches.Length}");
        foreach (var cache in state.Caches) cache.EnsureCapacity(available * b);
        long stamp;
        var names = new string[available];
        var snapshots = new byte[]?[available];
        lock (_lock)
        {
            stamp = NextStamp();
            for (int i = 0; i < available; i++)
            {
                names[i] = FileName(i, keys[i]);
                snapshots[i] = _pending.TryGetValue(names[i], out var p) ? p.Data : null;
            }
        }
        var files = new byte[]?[available];
        var whys = new string?[available];
        int read = ReadFiles(names, snapshots, files, whys);
        for (; blocks < read; blocks++)
        {
            string name = names[blocks];
            var tokens = prompt.Slice(blocks * b, b);
            bool fromFile = snapshots[blocks] is null;
            byte[]? data = fromFile ? files[blocks] : snapshots[blocks];
            string? why = whys[blocks];
            // A queued snapshot's hash may not be written yet; it never left memory, so only files are hashed.
            if (why is null && data is not null) why = PrefixBlockFile.Validate(data, _layout, keys[blocks], blocks, tokens, checkHash: fromFile);
            if (why is not null || data is null)
            {
                Reject(name, why ?? "it cannot be read");
                break;
            }
            PrefixBlockFile.CopyRows(data, _layout, blocks, state);
            if (fromFile) lock (_lock) if (_files.TryGetValue(name, out var entry)) Touch(name, entry, stamp);
        }
        if (blocks <= minBlocks) { blocks = 0; return null; }
        Interlocked.Add(ref _loaded, blocks);
        state.Length = blocks * b;
        return state;
    }

    /// <summary>
    /// Reads the files of the blocks that are not queued snapshots, in order, on a pool thread, and waits at most
    /// <see cref="IoTimeout"/>: returns how many leading blocks are ready. A read that overruns is left to finish on its
    /// own, and until it does no other read is started (the disk is not answering), so blocks count as missing.
    /// </summary>
    private int ReadFiles(string[] names, byte[]?[] snapshots, byte[]?[] files, string?[] whys)
    {
        int firstFile = Array.IndexOf(snapshots, null);
        if (firstFile < 0) return names.Length;
        if (_stuckRead is { IsCompleted: false })
        {
            if (!_warnedStuck) _warn($"a read in the prefix cache {Directory} has not returned for more than {_ioTimeout.TotalSeconds:0.#} s; blocks on disk are treated as missing until it does");
            _warnedStuck = true;
            return firstFile;
        }
        _warnedStuck = false;
        var done = new int[1];
        var task = Task.Run(() =>
        {
            for (int i = 0; i < names.Length; i++)
            {
                if (snapshots[i] is null)
                {
                    files[i] = ReadFile(names[i], out string? why);
                    whys[i] = why;
                    if (files[i] is null) { Volatile.Write(ref done[0], i + 1); return; }
                }
                Volatile.Write(ref done[0], i + 1);
            }
        });
        if (!task.Wait(_ioTimeout))
        {
            _stuckRead = task;
            _warn($"reading prefix blocks from {Directory} took more than {_ioTimeout.TotalSeconds:0.#} s; the rest count as missing");
        }
        return Volatile.Read(ref done[0]);
    }

    /// <summary>Waits until every queued block is on disk.</summary>
    public void Flush() => _idle.Wait();

    /// <summary>
    /// The file's bytes, or null and why not. Only a regular file is opened, without blocking (a FIFO would otherwise
    /// wait for a writer for ever); the layout fixes the length, so nothing larger than one block is ever allocated.
    /// </summary>
    private byte[]? ReadFile(string name, out string? why)
    {
        string path = Path.Combine(Directory, name);
        using var handle = Formats.RegularFile.TryOpenRead(path, out long length, out why);
        if (handle is null) return null;
        long expected = BlockFileBytes;
        if (length != expected)
        {
            why = $"it has {length} bytes, a block of this model has {expected} (truncated or of another layout)";
            return null;
        }
        try
        {
            var data = new byte[expected];
            int done = 0;
            while (done < data.Length)
            {
                int n = RandomAccess.Read(handle, data.AsSpan(done), done);
                if (n == 0) { why = "it shrank while it was read"; return null; }
                done += n;
            }
            return data;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            why = "it cannot be read: " + e.Message;
            return null;
        }
    }

    private void Reject(string name, string why)
    {
        Interlocked.Increment(ref _rejected);
        string path = Path.Combine(Directory, name);
        _warn($"ignoring prefix block {path}: {why}; deleting it");
        lock (_lock)
        {
            if (_files.Remove(name, out var entry)) _bytes -= entry.Bytes;
        }
        TryDelete(path);
    }

    private async Task WriteLoop()
    {
        await foreach (var p in _queue.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            Write(p);
            lock (_lock)
            {
                _pending.Remove(p.Name);
                _pendingBytes -= p.Data.Length;
                if (_pending.Count == 0) _idle.Set();
            }
        }
    }

    private void Write(Pending p)
    {
        string path = Path.Combine(Directory, p.Name);
        string temp = path + "." + Guid.NewGuid().ToString("N")[..8] + TempExtension;
        try
        {
            PrefixBlockFile.Seal(p.Data);
            using (var f = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1))
            {
                f.Write(p.Data);
                f.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
            lock (_lock)
            {
                if (_files.Remove(p.Name, out var old)) _bytes -= old.Bytes;
                _files[p.Name] = new Entry(p.Data.Length, p.Index, p.Stamp);
                _bytes += p.Data.Length;
                Interlocked.Increment(ref _written);
                if (_bytes > _maxBytes) Evict();
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _warn($"cannot write prefix block {path}: {e.Message}");
            TryDelete(temp);
        }
    }

    /// <summary>Deletes least recently used blocks (deeper first on a tie) down to 90% of the bound, so eviction is not run per write.</summary>
    private void Evict()
    {
        long target = _maxBytes / 10 * 9;
        foreach (var (name, entry) in _files.OrderBy(kv => kv.Value.Stamp).ThenByDescending(kv => kv.Value.Index).ToList())
        {
            if (_bytes <= target) break;
            _files.Remove(name);
            _bytes -= entry.Bytes;
            TryDelete(Path.Combine(Directory, name));
        }
    }

    /// <summary>Indexes the blocks already on disk (their modification time is their last use) and removes temp files a crash left.</summary>
    private void Scan()
    {
        foreach (var file in new DirectoryInfo(Directory).EnumerateFiles("*" + Extension + "*"))
        {
            if (file.Name.EndsWith(TempExtension, StringComparison.Ordinal)) { TryDelete(file.FullName); continue; }
            if (!file.Name.EndsWith(Extension, StringComparison.Ordinal)) continue;
            int dash = file.Name.IndexOf('-');
            if (dash <= 0 || !int.TryParse(file.Name.AsSpan(0, dash), NumberStyles.None, CultureInfo.InvariantCulture, out int index)) continue;
            if (!Formats.RegularFile.IsRegularNoFollow(file.FullName, out string? why))
            {
                _warn($"ignoring {file.FullName}: {why}");
                continue;
            }
            long stamp = file.LastWriteTimeUtc.Ticks;
            _files[file.Name] = new Entry(file.Length, index, stamp);
            _bytes += file.Length;
            _lastStamp = Math.Max(_lastStamp, stamp);
        }
        if (_bytes > _maxBytes) Evict();
    }

    /// <summary>A use time; a whole chain shares one, and it never goes backwards (clock steps, restarts).</summary>
    private long NextStamp() => _lastStamp = Math.Max(DateTime.UtcNow.Ticks, _lastStamp + 1);

    /// <summary>Marks a block used; the file's modification time carries the order over a restart.</summary>
    private void Touch(string name, Entry entry, long stamp)
    {
        if (entry.Stamp >= stamp) return;
        entry.Stamp = stamp;
        try { File.SetLastWriteTimeUtc(Path.Combine(Directory, name), new DateTime(stamp, DateTimeKind.Utc)); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException) { }
    }

    private void TryDelete(string path)
    {
        try { File.Delete(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _warn($"cannot delete {path}: {e.Message}");
        }
    }

    /// <summary>Writes what is queued, then stops the writer.</summary>
    public void Dispose()
    {
        _queue.Writer.TryComplete();
        _writer.Wait();
        _idle.Dispose();
    }
}
