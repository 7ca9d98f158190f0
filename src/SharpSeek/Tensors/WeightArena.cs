namespace SharpSeek.Tensors;

/// <summary>
/// Memory for a model's in-memory weight copies (<see cref="Kernels.RowGroups"/>' layout): large <see cref="HugePages"/>
/// blocks handed out back to back, as a decode step streams every weight once. One thread streamed the Q4_K and Q6_K group
/// kernels 15–25 % faster from huge pages (<c>SharpSeek.Bench stream</c>, docs/PERFORMANCE.md).
/// Each block is freed when the last tensor that points into it is collected, as a managed array would be, or at once by
/// <see cref="Dispose"/> when the model is unloaded (a server that swaps models must not wait for a garbage collection to
/// give the memory back).
/// </summary>
public sealed unsafe class WeightArena : IDisposable
{
    /// <summary>Virtual size of a model's blocks; only the pages written become resident (in 2 MiB steps where the kernel gives huge pages).</summary>
    public const long ModelBlockBytes = 64L << 20;

    private readonly long _blockBytes;

    /// <param name="blockBytes">Size of the shared blocks; a request over a quarter of it gets a block of its own (0: every request does).</param>
    public WeightArena(long blockBytes = ModelBlockBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(blockBytes);
        _blockBytes = blockBytes;
    }

    private Block? _current;
    private long _used;
    private readonly List<Block> _blocks = [];

    /// <summary>Bytes of the blocks handed out and not freed.</summary>
    public long Bytes => _blocks.Sum(b => b.IsFreed ? 0 : b.Length);

    /// <summary>
    /// <paramref name="bytes"/> bytes, 64-byte aligned, and the object that keeps them alive (a tensor holds it). Not
    /// thread-safe: a model loads its tensors one at a time.
    /// </summary>
    public byte* Allocate(long bytes, out object owner)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        long size = Math.Max(64, (bytes + 63) & ~63L);
        // A large request gets a block of its own, so the shared block's space stays for the small ones around it.
        if (size > _blockBytes / 4)
        {
            var own = new Block(HugePages.RoundUp(size));
            _blocks.Add(own);
            owner = own;
            return own.Start;
        }
        if (_current is null || _used + size > _current.Length)
        {
            _current = new Block(_blockBytes);
            _blocks.Add(_current);
            _used = 0;
        }
        byte* p = _current.Start + _used;
        _used += size;
        owner = _current;
        return p;
    }

    /// <summary>
    /// Frees every block now. The tensors pointing into them must not be used afterwards: the model that owns the arena
    /// disposes it with its mapped files, whose pointers die the same way.
    /// </summary>
    public void Dispose()
    {
        foreach (var b in _blocks) b.Free();
        _blocks.Clear();
        _current = null;
    }

    /// <summary>One native block; its finalizer frees it once no tensor refers to it, unless the arena freed it first.</summary>
    private sealed class Block
    {
        private nint _live;

        public Block(long length)
        {
            Length = length;
            Start = HugePages.Allocate(length);
            _live = (nint)Start;
            GC.AddMemoryPressure(length);
        }

        public byte* Start { get; }
        public long Length { get; }
        public bool IsFreed => Volatile.Read(ref _live) == 0;

        public void Free()
        {
            nint p = Interlocked.Exchange(ref _live, 0);
            if (p == 0) return;
            HugePages.Free((byte*)p);
            GC.RemoveMemoryPressure(Length);
            GC.SuppressFinalize(this);
        }

        ~Block() => Free();
    }
}
