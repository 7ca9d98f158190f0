using SharpSeek.Models;

namespace SharpSeek.Serving;

/// <summary>
/// DeepSeek-style context caching: states of finished sequences are kept with the tokens they hold, and a new
/// prompt takes the one sharing its longest prefix, rewound to a whole number of blocks. A state serves one
/// sequence at a time, so a hit moves it out of the cache; the least recently used entry is dropped when full.
/// With a <see cref="PrefixBlockStore"/>, every offered state is also saved to disk block by block, and a prompt that
/// finds more blocks on disk than in memory (e.g. after a restart) starts from a state loaded from there.
/// </summary>
public sealed class PrefixCache(int capacity, int blockSize, PrefixBlockStore? disk = null, Func<InferenceState>? createState = null)
{
    private readonly LinkedList<(int[] Tokens, InferenceState State)> _entries = new();
    private readonly Lock _lock = new();

    public int Count { get { lock (_lock) return _entries.Count; } }

    /// <summary>The blocks on disk, when persistence is on.</summary>
    public PrefixBlockStore? Disk => disk;

    /// <summary>Bytes held by cached states.</summary>
    public long Bytes { get { lock (_lock) return _entries.Sum(e => e.State.CacheBytes); } }

    /// <summary>
    /// Takes the cached state with the longest reusable prefix of <paramref name="prompt"/>, rewound to it, or null.
    /// At least one prompt token is always left to run, since the next token needs the last prompt position's logits.
    /// Blocks on disk are read outside the lock, so /metrics and other callers never wait on the disk.
    /// </summary>
    public InferenceState? Take(ReadOnlySpan<int> prompt, out int reused)
    {
        int inMemory;
        lock (_lock) inMemory = Best(prompt, out _);
        if (disk is not null && createState is not null)
        {
            // Disk only when it has more: memory needs no copy, and rows are equal either way.
            int limit = (prompt.Length - 1) / blockSize;
            var loaded = disk.Load(prompt, limit, inMemory / blockSize, createState, out int blocks);
            if (loaded is not null)
            {
                reused = blocks * blockSize;
                return loaded;
            }
        }
        lock (_lock)
        {
            // Looked up again: the entry found before may have been dropped while the disk was read.
            reused = Best(prompt, out var best);
            if (best is null) return null;
            _entries.Remove(best);
            best.Value.State.Truncate(reused);
            return best.Value.State;
        }
    }

    private int Best(ReadOnlySpan<int> prompt, out LinkedListNode<(int[] Tokens, InferenceState State)>? best)
    {
        int reused = 0;
        best = null;
        for (var node = _entries.First; node is not null; node = node.Next)
        {
            int common = prompt[..Math.Min(prompt.Length - 1, node.Value.Tokens.Length)].CommonPrefixLength(node.Value.Tokens);
            int usable = common / blockSize * blockSize;
            if (usable > reused) { reused = usable; best = node; }
        }
        return reused;
    }

    /// <summary>Offers a state whose cache holds <paramref name="tokens"/>; drops the oldest entry when full.</summary>
    public void Put(int[] tokens, InferenceState state)
    {
        if (tokens.Length < blockSize) return;
        disk?.Save(tokens, state);
        if (capacity <= 0) return;
        lock (_lock)
        {
            _entries.AddFirst((tokens, state));
            while (_entries.Count > capacity) _entries.RemoveLast();
        }
    }

    public void Clear()
    {
        lock (_lock) _entries.Clear();
    }
}
