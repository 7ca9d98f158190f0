using System.Runtime.CompilerServices;
using System.Numerics;

namespace SharpSeek.Structured;

/// <summary>
/// What one parser position allows, whatever the stack below it holds (XGrammar's "adaptive token mask"): the tokens
/// every stack accepts, and the few "uncertain" ones that finish the position's rule part-way through and so depend on
/// what the caller expects next. Stored as a bit set or a list of ids, whichever is smaller.
/// </summary>
internal sealed class MaskEntry(ulong[]? bits, int[]? list, int[] uncertain, int acceptedCount)
{
    public ulong[]? Bits { get; } = bits;
    public int[]? List { get; } = list;

    /// <summary>Tokens to check against the real stack, in trie (byte) order so neighbours share prefixes.</summary>
    public int[] Uncertain { get; } = uncertain;

    public int AcceptedCount { get; } = acceptedCount;
}

/// <summary>
/// A grammar bound to a vocabulary: its automaton, the symbol class of each added token, and the per-position token
/// masks, computed the first time a position is reached and kept (thread-safe). One per schema and model; share it
/// between requests (<see cref="GrammarCache"/>), and give each sequence its own <see cref="GrammarConstraint"/>.
/// </summary>
public sealed class TokenGrammar
{
    private readonly MaskEntry?[][] _entries;
    private readonly object _lock = new();
    private readonly ParseStacks _contextFree;
    private int _computed;
    private long _computeTicks;

    private TokenGrammar(GrammarAutomaton automaton, TokenVocabulary vocabulary)
    {
        Automaton = automaton;
        Vocabulary = vocabulary;
        AddedClass = new int[vocabulary.AddedIds.Length];
        for (int i = 0; i < AddedClass.Length; i++)
        {
            int k = Array.IndexOf(automaton.TokenNames, vocabulary.AddedTexts[i]);
            AddedClass[i] = automaton.ClassOf[k >= 0 ? Grammar.FirstTokenSymbol + k : Grammar.OtherTokenSymbol];
        }
        _entries = [.. automaton.Rules.Select(r => new MaskEntry?[r.States])];
        _contextFree = new ParseStacks(automaton);
    }

    public GrammarAutomaton Automaton { get; }

    public TokenVocabulary Vocabulary { get; }

    /// <summary>The symbol class of each added token (index as in <see cref="TokenVocabulary.AddedIds"/>).</summary>
    internal int[] AddedClass { get; }

    /// <summary>Positions whose masks have been computed so far, and the time spent on them.</summary>
    public (int Positions, TimeSpan Time) MaskStatistics => (Volatile.Read(ref _computed), TimeSpan.FromTicks(Interlocked.Read(ref _computeTicks)));

    /// <summary>Compiles <paramref name="grammar"/> for <paramref name="vocabulary"/>.</summary>
    /// <exception cref="GrammarException">the grammar matches nothing or is too large.</exception>
    public static TokenGrammar Create(Grammar grammar, TokenVocabulary vocabulary) =>
        new(GrammarAutomaton.Compile(grammar, vocabulary.HasAddedToken), vocabulary);

    /// <summary>The mask of position (<paramref name="rule"/>, <paramref name="state"/>), computing it on first use.</summary>
    internal MaskEntry Entry(int rule, int state)
    {
        var e = Volatile.Read(ref _entries[rule][state]);
        if (e is not null) return e;
        lock (_lock)
        {
            e = _entries[rule][state];
            if (e is not null) return e;
            long t0 = System.Diagnostics.Stopwatch.GetTimestamp();
            e = Compute(rule, state);
            Volatile.Write(ref _entries[rule][state], e);
            _computed++;
            Interlocked.Add(ref _computeTicks, System.Diagnostics.Stopwatch.GetElapsedTime(t0).Ticks);
            return e;
        }
    }

    /// <summary>Computes every position's mask now (for benchmarks and for grammars that will be used many times).</summary>
    public void Precompute()
    {
        for (int r = 0; r < Automaton.Rules.Length; r++)
            for (int s = 0; s < Automaton.Rules[r].States; s++)
                if (Automaton.Rules[r].HasSymbolEdges[s]) Entry(r, s);
    }

    /// <summary>
    /// Walks the token trie from a stack holding only this position (caller unknown). A token is accepted when some path
    /// consumes all of its bytes (returning from the rule exactly at its end counts: every caller accepts that); it is
    /// uncertain when no path does but one returned from the rule with bytes left, which the caller would have to take;
    /// otherwise it is rejected, whatever the stack. Subtrees are skipped as soon as every path is dead.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private MaskEntry Compute(int rule, int state)
    {
        var v = Vocabulary;
        var stacks = _contextFree;
        int[] classOf = Automaton.ClassOf;
        int words = (v.Size + 63) >> 6;
        var bits = new ulong[words];
        int accepted = 0;
        var uncertain = new List<int>();
        int f0 = stacks.Intern(rule, state, ParseStacks.Bottom);

        int maxDepth = v.MaxTokenBytes + 1;
        var set = new int[maxDepth][];
        var setLen = new int[maxDepth];
        var buffers = new int[maxDepth][];
        var escapedAt = new bool[maxDepth];
        var escapedBefore = new bool[maxDepth];
        set[0] = [f0];
        setLen[0] = 1;

        byte[] nodeByte = v.NodeByte;
        ushort[] depth = v.NodeDepth;
        int[] end = v.SubtreeEnd, tokStart = v.NodeTokenStart, tokens = v.NodeTokens;
        int n = v.NodeCount;

        for (int i = 0; i < n;)
        {
            int d = depth[i];
            int cls = classOf[nodeByte[i]];
            int[] parent = set[d - 1];
            int parentLen = setLen[d - 1];
            bool escaped = false;
            int len;
            if (parentLen == 1)
            {
                int r = stacks.Step(parent[0], cls);
                set[d] = stacks.Tops(r);
                len = set[d].Length;
                escaped = (stacks.Flags(r) & ParseStacks.EscapeFlag) != 0;
            }
            else
            {
                int[] buf = buffers[d] ??= new int[8];
                len = 0;
                for (int k = 0; k < parentLen; k++)
                {
                    int r = stacks.Step(parent[k], cls);
                    escaped |= (stacks.Flags(r) & ParseStacks.EscapeFlag) != 0;
                    foreach (int top in stacks.Tops(r))
                    {
                        if (Array.IndexOf(buf, top, 0, len) >= 0) continue;
                        if (len == buf.Length) Array.Resize(ref buffers[d], len * 2);
                        buf = buffers[d]!;
                        buf[len++] = top;
                    }
                }
                set[d] = buf;
            }
            setLen[d] = len;
            bool before = escapedBefore[d - 1] || escapedAt[d - 1];
            escapedBefore[d] = before;
            escapedAt[d] = escaped;
            if (len == 0)
            {
                // Every path is dead or has left the rule: the subtree is decided here.
                int from = i;
                if (escaped)
                {
                    for (int k = tokStart[i]; k < tokStart[i + 1]; k++) { bits[tokens[k] >> 6] |= 1UL << tokens[k]; accepted++; }
                    from = i + 1;
                }
                if (escaped || before)
                    for (int k = tokStart[from]; k < tokStart[end[i]]; k++) uncertain.Add(tokens[k]);
                i = end[i];
                continue;
            }
            for (int k = tokStart[i]; k < tokStart[i + 1]; k++) { bits[tokens[k] >> 6] |= 1UL << tokens[k]; accepted++; }
            i++;
        }

        // Added tokens: one symbol each.
        var byClass = new Dictionary<int, bool>();
        for (int k = 0; k < v.AddedIds.Length; k++)
        {
            int cls = AddedClass[k];
            if (!byClass.TryGetValue(cls, out bool ok))
            {
                int r = stacks.Step(f0, cls);
                byClass[cls] = ok = stacks.Tops(r).Length > 0 || stacks.Flags(r) != 0;
            }
            if (ok) { int id = v.AddedIds[k]; bits[id >> 6] |= 1UL << id; accepted++; }
        }

        int[] uncertainIds = [.. uncertain];
        if (accepted * 32L < v.Size)
        {
            var list = new int[accepted];
            int at = 0;
            for (int w = 0; w < words; w++)
                for (ulong b = bits[w]; b != 0; b &= b - 1) list[at++] = (w << 6) + BitOperations.TrailingZeroCount(b);
            return new MaskEntry(null, list, uncertainIds, accepted);
        }
        return new MaskEntry(bits, null, uncertainIds, accepted);
    }
}
