namespace SharpSeek.Structured;

/// <summary>
/// Compiled grammars of one vocabulary by key, least recently used first out. Compiling a schema takes milliseconds and
/// its masks are computed as positions are first reached, so a schema used again costs nothing of either.
/// Thread-safe; concurrent first requests for one key compile it once.
/// </summary>
public sealed class GrammarCache(TokenVocabulary vocabulary, int capacity = 64)
{
    private readonly Dictionary<string, LinkedListNode<(string Key, Lazy<TokenGrammar> Grammar)>> _index = new(StringComparer.Ordinal);
    private readonly LinkedList<(string Key, Lazy<TokenGrammar> Grammar)> _order = new();
    private readonly object _lock = new();

    public TokenVocabulary Vocabulary { get; } = vocabulary;

    public int Count { get { lock (_lock) return _index.Count; } }

    /// <summary>The grammar of a completion whose answer is <paramref name="output"/>.</summary>
    /// <exception cref="SchemaException">the schema cannot be compiled.</exception>
    /// <exception cref="GrammarException">the grammar matches nothing or is too large.</exception>
    public TokenGrammar Get(OutputGrammar output, bool startsInReasoning) =>
        Get((startsInReasoning ? "think|" : "|") + output.Key, () => output.Compose(startsInReasoning));

    /// <summary>The grammar under <paramref name="key"/>, built by <paramref name="build"/> when missing.</summary>
    public TokenGrammar Get(string key, Func<Grammar> build)
    {
        Lazy<TokenGrammar> lazy;
        lock (_lock)
        {
            if (_index.TryGetValue(key, out var node))
            {
                _order.Remove(node);
                _order.AddFirst(node);
                lazy = node.Value.Grammar;
            }
            else
            {
                lazy = new Lazy<TokenGrammar>(() => TokenGrammar.Create(build(), Vocabulary), LazyThreadSafetyMode.ExecutionAndPublication);
                _index[key] = _order.AddFirst((key, lazy));
                while (_index.Count > capacity)
                {
                    var last = _order.Last!;
                    _order.RemoveLast();
                    _index.Remove(last.Value.Key);
                }
            }
        }
        try { return lazy.Value; }
        catch
        {
            // A schema that fails fails the same way next time; do not keep it.
            lock (_lock)
                if (_index.TryGetValue(key, out var node) && node.Value.Grammar == lazy) { _order.Remove(node); _index.Remove(key); }
            throw;
        }
    }
}
