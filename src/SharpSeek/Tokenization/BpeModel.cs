using System.Collections.Concurrent;
using System.Text;

namespace SharpSeek.Tokenization;

/// <summary>
/// Byte-level BPE: a piece's UTF-8 bytes start as one symbol each (GPT-2 byte characters) and the
/// adjacent pair with the lowest merge rank is merged, leftmost first, until no pair has a rank.
/// Results are cached per piece.
/// </summary>
public sealed class BpeModel
{
    private const int CacheCapacity = 200_000;
    private const int NaiveMergeLimit = 48;

    private readonly Dictionary<string, int> _vocab;
    private readonly string[] _idToToken;
    private readonly Dictionary<long, (int Rank, int Id)> _merges;
    private readonly int[] _byteIds = new int[256];
    private readonly ConcurrentDictionary<string, int[]> _cache = new();
    private int _cacheCount;
    private readonly ConcurrentDictionary<string, int[]>.AlternateLookup<ReadOnlySpan<char>> _cacheLookup;

    /// <summary>Whether a piece that is itself a vocabulary token skips merging (Hugging Face <c>ignore_merges</c>).</summary>
    public bool IgnoreMerges { get; }

    /// <summary>The number of merges.</summary>
    public int MergeCount => _merges.Count;

    /// <summary>Token strings by id (null where an id is unused by the model's vocabulary).</summary>
    public IReadOnlyList<string> IdToToken => _idToToken;

    /// <summary>Token ids by string.</summary>
    public IReadOnlyDictionary<string, int> Vocab => _vocab;

    /// <summary>The merges as token-string pairs in rank order (to write the vocabulary in another format, e.g. GGUF).</summary>
    public List<(string Left, string Right)> MergesByRank()
    {
        var ranked = new List<(int Rank, string Left, string Right)>(_merges.Count);
        foreach (var (key, (rank, _)) in _merges) ranked.Add((rank, _idToToken[(int)(key >> 32)], _idToToken[(int)(uint)key]));
        ranked.Sort((a, b) => a.Rank.CompareTo(b.Rank));
        return ranked.ConvertAll(m => (m.Left, m.Right));
    }

    /// <summary>Builds the model from a vocabulary and merges (each merge a pair of token strings, rank = position).</summary>
    /// <exception cref="ModelFormatException">a merge names a token that is not in the vocabulary.</exception>
    public BpeModel(IReadOnlyDictionary<string, int> vocab, IReadOnlyList<(string Left, string Right)> merges, bool ignoreMerges = false)
    {
        _vocab = new Dictionary<string, int>(vocab.Count);
        int maxId = -1;
        foreach (var kv in vocab)
        {
            if (kv.Value < 0) throw new ModelFormatException($"tokenizer vocabulary: token '{kv.Key}' has a negative id {kv.Value}");
            _vocab[kv.Key] = kv.Value;
            if (kv.Value > maxId) maxId = kv.Value;
        }
        _idToToken = new string[maxId + 1];
        foreach (var kv in _vocab) _idToToken[kv.Value] = kv.Key;

        _merges = new Dictionary<long, (int, int)>(merges.Count, PairKeyComparer.Instance);
        for (int rank = 0; rank < merges.Count; rank++)
        {
            var (left, right) = merges[rank];
            if (!_vocab.TryGetValue(left, out int a) || !_vocab.TryGetValue(right, out int b))
                throw new ModelFormatException($"tokenizer merge #{rank} '{left} {right}' names a token that is not in the vocabulary");
            if (!_vocab.TryGetValue(left + right, out int merged))
                throw new ModelFormatException($"tokenizer merge #{rank} '{left} {right}': the merged token is not in the vocabulary");
            _merges.TryAdd(Key(a, b), (rank, merged));
        }

        for (int b = 0; b < 256; b++)
            _byteIds[b] = _vocab.TryGetValue(ByteLevel.ByteToChar((byte)b).ToString(), out int id) ? id : -1;
        IgnoreMerges = ignoreMerges;
        _monotonic = IsMonotonic();
        _cacheLookup = _cache.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    // True when every merge ranks after all merges that produce its two parts, so merging in global rank
    // order never creates a pair of a rank already passed (true of trained vocabularies: DeepSeek, Qwen).
    private readonly bool _monotonic;

    private bool IsMonotonic()
    {
        var lastProducer = new Dictionary<int, int>();
        foreach (var (_, (rank, id)) in _merges) lastProducer[id] = Math.Max(lastProducer.GetValueOrDefault(id, -1), rank);
        foreach (var (key, (rank, _)) in _merges)
        {
            int a = (int)(key >> 32), b = (int)(key & 0xFFFFFFFF);
            if (lastProducer.GetValueOrDefault(a, -1) >= rank || lastProducer.GetValueOrDefault(b, -1) >= rank) return false;
        }
        return true;
    }

    private static long Key(int a, int b) => (long)a << 32 | (uint)b;

    /// <summary>Encodes one pre-tokenized piece (text, optionally with a leading space) and appends its ids.</summary>
    public void EncodePiece(ReadOnlySpan<char> piece, bool prefixSpace, List<int> output)
    {
        if (!prefixSpace && _cacheLookup.TryGetValue(piece, out int[]? cached))
        {
            output.AddRange(cached);
            return;
        }
        int maxBytes = Encoding.UTF8.GetMaxByteCount(piece.Length) + 1;
        byte[]? rented = null;
        Span<byte> bytes = maxBytes <= 512 ? stackalloc byte[maxBytes] : (rented = System.Buffers.ArrayPool<byte>.Shared.Rent(maxBytes));
        try
        {
            int n = 0;
            if (prefixSpace) bytes[n++] = (byte)' ';
            n += Encoding.UTF8.GetBytes(piece, bytes[n..]);
            int[] ids = EncodeBytes(bytes[..n]);
            output.AddRange(ids);
            if (!prefixSpace && piece.Length <= 256)
            {
                // ConcurrentDictionary.Count takes every lock, so keep our own (approximate) count.
                if (Interlocked.Increment(ref _cacheCount) > CacheCapacity)
                {
                    _cache.Clear();
                    Interlocked.Exchange(ref _cacheCount, 0);
                }
                _cacheLookup.TryAdd(piece, ids);
            }
        }
        finally
        {
            if (rented is not null) System.Buffers.ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>Runs BPE over raw bytes (no cache).</summary>
    public int[] EncodeBytes(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length == 0) return [];
        if (IgnoreMerges)
        {
            string whole = string.Create(bytes.Length, bytes.ToArray(), static (dst, src) =>
            {
                for (int i = 0; i < src.Length; i++) dst[i] = ByteLevel.ByteToChar(src[i]);
            });
            if (_vocab.TryGetValue(whole, out int id)) return [id];
        }
        var symbols = new int[bytes.Length];
        int count = 0;
        for (int i = 0; i < bytes.Length; i++)
        {
            int id = _byteIds[bytes[i]];
            if (id >= 0) symbols[count++] = id; // no byte token and no unk: the byte is dropped, as in Hugging Face
        }
        if (count <= NaiveMergeLimit) count = MergeNaive(symbols, count);
        else if (_monotonic) count = MergeByRank(symbols, count);
        else count = MergeWithQueue(symbols, count);
        return count == symbols.Length ? symbols : symbols.AsSpan(0, count).ToArray();
    }

    // Quadratic but allocation-free; fastest for ordinary words.
    private int MergeNaive(int[] s, int count)
    {
        while (count > 1)
        {
            int bestRank = int.MaxValue, bestPos = -1, bestId = 0;
            for (int i = 0; i < count - 1; i++)
            {
                if (_merges.TryGetValue(Key(s[i], s[i + 1]), out var m) && m.Rank < bestRank)
                {
                    bestRank = m.Rank;
                    bestPos = i;
                    bestId = m.Id;
                }
            }
            if (bestPos < 0) break;
            s[bestPos] = bestId;
            Array.Copy(s, bestPos + 2, s, bestPos + 1, count - bestPos - 2);
            count--;
        }
        return count;
    }

    /// <summary>Whether long pieces use the rank-bucket merge (see <see cref="IsMonotonic"/>).</summary>
    internal bool Monotonic => _monotonic;

    /// <summary>Runs one of the merge strategies (tests compare them): 0 naive, 1 queue, 2 rank buckets.</summary>
    internal int[] EncodeBytesWith(ReadOnlySpan<byte> bytes, int strategy)
    {
        var s = new int[bytes.Length];
        int count = 0;
        for (int i = 0; i < bytes.Length; i++) if (_byteIds[bytes[i]] >= 0) s[count++] = _byteIds[bytes[i]];
        count = strategy switch { 0 => MergeNaive(s, count), 1 => MergeWithQueue(s, count), _ => MergeByRank(s, count) };
        return s.AsSpan(0, count).ToArray();
    }

    // For long pieces of a monotonic vocabulary: the candidate pairs are bucketed by rank and each bucket is
    // processed in position order once all lower ranks are done. That is the heap's (rank, position) order
    // without the heap: new pairs always land in later buckets.
    private int MergeByRank(int[] s, int count)
    {
        var next = new int[count];
        var prev = new int[count];
        for (int i = 0; i < count; i++) { next[i] = i + 1 < count ? i + 1 : -1; prev[i] = i - 1; }
        var buckets = new Dictionary<int, List<int>>();
        var ranks = new PriorityQueue<int, int>();
        for (int i = 0; i + 1 < count; i++) AddCandidate(s, i, i + 1, buckets, ranks);
        while (ranks.TryDequeue(out int rank, out _))
        {
            List<int> lefts = buckets[rank];
            buckets.Remove(rank);
            System.Runtime.InteropServices.CollectionsMarshal.AsSpan(lefts).Sort();
            foreach (int left in lefts)
            {
                if (s[left] < 0) continue;
                int right = next[left];
                if (right < 0 || !_merges.TryGetValue(Key(s[left], s[right]), out var m) || m.Rank != rank) continue;
                s[left] = m.Id;
                s[right] = -1;
                int after = next[right];
                next[left] = after;
                if (after >= 0) prev[after] = left;
                if (prev[left] >= 0) AddCandidate(s, prev[left], left, buckets, ranks);
                if (after >= 0) AddCandidate(s, left, after, buckets, ranks);
            }
        }
        int w = 0;
        for (int i = 0; i >= 0 && i < count; i = next[i]) s[w++] = s[i];
        return w;
    }

    private void AddCandidate(int[] s, int left, int right, Dictionary<int, List<int>> buckets, PriorityQueue<int, int> ranks)
    {
        if (!_merges.TryGetValue(Key(s[left], s[right]), out var m)) return;
        if (!buckets.TryGetValue(m.Rank, out List<int>? list))
        {
            buckets[m.Rank] = list = [];
            ranks.Enqueue(m.Rank, m.Rank);
        }
        list.Add(left);
    }

    // O(n log n) for long pieces (a 10 MB run of letters is one piece): a linked list of symbols and a
    // queue of candidate pairs keyed by (rank, position of the left symbol), so ties go leftmost. An entry
    // is stale when its left symbol died or its pair now has another rank (ranks are unique per pair).
    private int MergeWithQueue(int[] s, int count)
    {
        var next = new int[count];
        var prev = new int[count];
        for (int i = 0; i < count; i++) { next[i] = i + 1 < count ? i + 1 : -1; prev[i] = i - 1; }
        var queue = new PriorityQueue<int, long>(count);
        for (int i = 0; i + 1 < count; i++) Push(queue, s, i, i + 1);
        while (queue.TryDequeue(out int left, out long key))
        {
            if (s[left] < 0) continue;
            int right = next[left];
            if (right < 0 || !_merges.TryGetValue(Key(s[left], s[right]), out var m) || m.Rank != (int)(key >> 32)) continue;
            s[left] = m.Id;
            s[right] = -1;
            int after = next[right];
            next[left] = after;
            if (after >= 0) prev[after] = left;
            if (prev[left] >= 0) Push(queue, s, prev[left], left);
            if (after >= 0) Push(queue, s, left, after);
        }
        int w = 0;
        for (int i = 0; i >= 0 && i < count; i = next[i]) s[w++] = s[i];
        return w;
    }

    private void Push(PriorityQueue<int, long> queue, int[] s, int left, int right)
    {
        if (_merges.TryGetValue(Key(s[left], s[right]), out var m))
            queue.Enqueue(left, (long)m.Rank << 32 | (uint)left);
    }
}
