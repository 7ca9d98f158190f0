using SharpSeek.Models;

namespace SharpSeek.Serving;

/// <summary>
/// DeepSeek-style context caching: states of finished sequences are kept with the tokens they hold, and a new
/// prompt starts from the one sharing its longest prefix, rewound to a whole number of blocks. A state serves one
/// sequence at a time, so a hit copies the shared blocks into a fresh state and the entry stays for the conversation
/// it came from: a new conversation that shares only the system prompt must not take another one's history. Only an
/// entry with no whole block beyond the shared prefix moves out without a copy, since the sequence that takes it will
/// hold all of it and offer it back. Entries whose tokens a newly offered one extends are dropped as redundant; the
/// least recently used entry goes when full.
/// With a <see cref="PrefixBlockStore"/>, every offered state is also saved to disk block by block, and a prompt that
/// finds more blocks on disk than in memory (e.g. after a restart) starts from a state loaded from there.
/// </summary>
public sealed class PrefixCache(int capacity, int blockSize, PrefixBlockStore? disk, Func<InferenceState> createState)
{
    private readonly LinkedList<(int[] Tokens, InferenceState State)> _entries = new();
    private readonly Lock _lock = new();
    private long _copiedTokens;

    public int Count { get { lock (_lock) return _entries.Count; } }

    /// <summary>The blocks on disk, when persistence is on.</summary>
    public PrefixBlockStore? Disk => disk;

    /// <summary>Bytes held by cached states.</summary>
    public long Bytes { get { lock (_lock) return _entries.Sum(e => e.State.CacheBytes); } }

    /// <summary>Tokens' cached rows copied out of entries that stayed in the cache (hits that shared an entry).</summary>
    public long CopiedTokens => Interlocked.Read(ref _copiedTokens);

    /// <summary>
    /// A state holding the longest reusable prefix of <paramref name="prompt"/> found in memory or on disk, or null.
    /// At least one prompt token is always left to run, since the next token needs the last prompt position's logits.
    /// Blocks on disk are read outside the lock, so /metrics and other callers never wait on the disk.
    /// </summary>
    public InferenceState? Take(ReadOnlySpan<int> prompt, out int reused)
    {
        int inMemory;
        lock (_lock) inMemory = Best(prompt, out _);
        if (disk is not null)
        {
            // Disk only when it has more: rows are equal either way, and memory is the cheaper copy.
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
            var (tokens, state) = best.Value;
            _entries.Remove(best);
            if (tokens.Length - reused < blockSize)
            {
                // Nothing of the entry's own is lost: the sequence holds every whole block of it and offers it back.
                state.Truncate(reused);
                return state;
            }
            _entries.AddFirst(best);
            var copy = createState();
            CopyPrefix(state, copy, reused);
            Interlocked.Add(ref _copiedTokens, reused);
            return copy;
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

    /// <summary>Copies the cached rows of the first <paramref name="length"/> positions of <paramref name="from"/> into the empty <paramref name="to"/>.</summary>
    private static void CopyPrefix(InferenceState from, InferenceState to, int length)
    {
        for (int layer = 0; layer < from.Caches.Length; layer++)
        {
            var source = from.Caches[layer].Rows;
            var target = to.Caches[layer].Rows;
            to.Caches[layer].EnsureCapacity(length);
            for (int r = 0; r < source.Count; r++)
                source[r].Data.AsSpan(0, length * source[r].Width).CopyTo(target[r].Data);
        }
        to.Length = length;
    }

    /// <summary>
    /// Offers a state whose cache holds <paramref name="tokens"/>; entries it extends are dropped, and the least recently
    /// used one when full.
    /// </summary>
    public void Put(int[] tokens, InferenceState state)
    {
        if (tokens.Length < blockSize) return;
        disk?.Save(tokens, state);
        if (capacity <= 0) return;
        lock (_lock)
        {
            for (var node = _entries.First; node is not null;)
            {
                var next = node.Next;
                if (node.Value.Tokens.Length <= tokens.Length && tokens.AsSpan().StartsWith(node.Value.Tokens)) _entries.Remove(node);
                node = next;
            }
            _entries.AddFirst((tokens, state));
            while (_entries.Count > capacity) _entries.RemoveLast();
        }
    }

    public void Clear()
    {
        lock (_lock) _entries.Clear();
    }
}
