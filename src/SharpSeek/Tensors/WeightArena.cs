namespace SharpSeek.Tensors;

/// <summary>
/// Memory for a model's in-memory weight copies (<see cref="Kernels.RowGroups"/>' layout): large <see cref="HugePages"/>
/// blocks handed out back to back, as a decode step streams every weight once. One thread streamed the Q4_K and Q6_K group
/// kernels 15–25 % faster from huge pages (<c>SharpSeek.Bench stream</c>, docs/PERFORMANCE.md).
/// Each block is freed when the last tensor that points into it is collected, as a managed array would be.
/// </summary>
public sealed unsafe class WeightArena
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
            owner = own;
            return own.Start;
        }
        if (_current is null || _used + size > _current.Length)
        {
            _current = new Block(_blockBytes);
            _used = 0;
        }
        byte* p = _current.Start + _used;
        _used += size;
        owner = _current;
        return p;
    }

    /// <summary>One native block; its finalizer frees it once no tensor refers to it.</summary>
    private sealed class Block
    {
        public Block(long length)
        {
            Length = length;
            Start = HugePages.Allocate(length);
            GC.AddMemoryPressure(length);
        }

        public byte* Start { get; }
        public long Length { get; }

        ~Block()
        {
            HugePages.Free(Start);
            GC.RemoveMemoryPressure(Length);
        }
    }
}
