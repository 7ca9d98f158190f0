using System.Runtime.CompilerServices;
using SharpSeek.Tokenization;

namespace SharpSeek.Structured;

/// <summary>
/// A vocabulary as constrained decoding sees it: the bytes of every ordinary token in a trie (stored in preorder, which
/// is byte order), the added tokens (each one grammar symbol, never bytes: a special token can never appear inside JSON
/// text), and the stop tokens (allowed only once the grammar is complete). Built once per model.
/// </summary>
public sealed class TokenVocabulary
{
    private readonly byte[][] _bytes;

    private TokenVocabulary(int size, byte[][] bytes, int[] addedIds, string[] addedTexts, int[] stopIds)
    {
        Size = size;
        _bytes = bytes;
        AddedIds = addedIds;
        AddedTexts = addedTexts;
        StopIds = stopIds;
        BuildTrie();
    }

    /// <summary>Logits per step (the model's vocabulary, which may exceed the tokenizer's).</summary>
    public int Size { get; }

    /// <summary>Added tokens that are not stop tokens, with their text.</summary>
    public int[] AddedIds { get; }

    public string[] AddedTexts { get; }

    public int[] StopIds { get; }

    /// <summary>Trie nodes in preorder: the byte on the edge into each node, its depth (1 = a child of the root), and the end of its subtree.</summary>
    internal byte[] NodeByte { get; private set; } = [];

    internal ushort[] NodeDepth { get; private set; } = [];

    internal int[] SubtreeEnd { get; private set; } = [];

    /// <summary>Tokens ending at node i are <see cref="NodeTokens"/>[<see cref="NodeTokenStart"/>[i] .. [i + 1]).</summary>
    internal int[] NodeTokenStart { get; private set; } = [];

    internal int[] NodeTokens { get; private set; } = [];

    public int NodeCount => NodeByte.Length;

    public int MaxTokenBytes { get; private set; }

    /// <summary>The bytes of an ordinary token (empty for added, stop and unused ids).</summary>
    public ReadOnlySpan<byte> Bytes(int token) => (uint)token < (uint)_bytes.Length ? _bytes[token] : [];

    private readonly Dictionary<int, int> _addedIndex = [];

    /// <summary>The index of <paramref name="token"/> in <see cref="AddedIds"/>, or -1.</summary>
    public int AddedIndex(int token) => _addedIndex.TryGetValue(token, out int i) ? i : -1;

    /// <summary>Whether <paramref name="text"/> is an added token (so a grammar can ask for it as one symbol).</summary>
    public bool HasAddedToken(string text) => Array.IndexOf(AddedTexts, text) >= 0;

    /// <summary>The vocabulary of <paramref name="tokenizer"/> for a model with <paramref name="modelVocabSize"/> logits.</summary>
    public static TokenVocabulary From(Tokenizer tokenizer, int modelVocabSize, IEnumerable<int> stopIds)
    {
        var stops = new HashSet<int>(stopIds);
        var added = new Dictionary<int, string>();
        foreach (var t in tokenizer.AddedTokens) added[t.Id] = t.Content;
        int n = Math.Min(modelVocabSize, tokenizer.VocabSize);
        var bytes = new byte[n][];
        var addedIds = new List<int>();
        var addedTexts = new List<string>();
        for (int id = 0; id < n; id++)
        {
            bytes[id] = [];
            if (stops.Contains(id)) continue;
            if (added.TryGetValue(id, out string? text)) { addedIds.Add(id); addedTexts.Add(text); continue; }
            bytes[id] = tokenizer.GetTokenBytes(id).ToArray();
        }
        return new TokenVocabulary(modelVocabSize, bytes, [.. addedIds], [.. addedTexts], [.. stops.Where(s => (uint)s < (uint)modelVocabSize).Order()]);
    }

    /// <summary>A vocabulary from plain data (tests): ordinary tokens' bytes, added tokens' texts by id, stop ids.</summary>
    public static TokenVocabulary FromBytes(IReadOnlyList<byte[]> tokens, IReadOnlyDictionary<int, string> added, IEnumerable<int> stopIds)
    {
        var stops = new HashSet<int>(stopIds);
        var bytes = new byte[tokens.Count][];
        for (int id = 0; id < tokens.Count; id++) bytes[id] = stops.Contains(id) || added.ContainsKey(id) ? [] : tokens[id];
        var addedIds = added.Keys.Where(id => !stops.Contains(id)).Order().ToArray();
        return new TokenVocabulary(tokens.Count, bytes, addedIds, [.. addedIds.Select(id => added[id])], [.. stops.Order()]);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void BuildTrie()
    {
        for (int i = 0; i < AddedIds.Length; i++) _addedIndex[AddedIds[i]] = i;
        var ids = new List<int>();
        for (int id = 0; id < _bytes.Length; id++)
            if (_bytes[id].Length > 0) ids.Add(id);
        var sorted = ids.ToArray();
        Array.Sort(sorted, (a, b) =>
        {
            int c = _bytes[a].AsSpan().SequenceCompareTo(_bytes[b]);
            return c != 0 ? c : a.CompareTo(b);
        });

        var nodeByte = new List<byte>();
        var nodeDepth = new List<ushort>();
        var subtreeEnd = new List<int>();
        var tokenStart = new List<int>();
        var tokens = new List<int>(sorted.Length);
        var path = new Stack<int>();
        byte[] prev = [];
        foreach (int id in sorted)
        {
            byte[] b = _bytes[id];
            if (b.Length > ushort.MaxValue) throw new SharpSeekException($"token {id} is {b.Length} bytes long");
            MaxTokenBytes = Math.Max(MaxTokenBytes, b.Length);
            int l = prev.AsSpan().CommonPrefixLength(b);
            while (path.Count > l) subtreeEnd[path.Pop()] = nodeByte.Count;
            for (int d = l; d < b.Length; d++)
            {
                path.Push(nodeByte.Count);
                nodeByte.Add(b[d]);
                nodeDepth.Add((ushort)(d + 1));
                subtreeEnd.Add(-1);
                tokenStart.Add(tokens.Count);
            }
            tokens.Add(id);
            prev = b;
        }
        while (path.Count > 0) subtreeEnd[path.Pop()] = nodeByte.Count;
        tokenStart.Add(tokens.Count);
        NodeByte = [.. nodeByte];
        NodeDepth = [.. nodeDepth];
        SubtreeEnd = [.. subtreeEnd];
        NodeTokenStart = [.. tokenStart];
        NodeTokens = [.. tokens];
    }
}
