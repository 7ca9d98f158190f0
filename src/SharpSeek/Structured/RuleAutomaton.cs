using System.Runtime.CompilerServices;
namespace SharpSeek.Structured;

/// <summary>
/// One grammar rule as a minimal deterministic automaton over symbol classes. A state may also have reference edges
/// (enter rule R, come back to state T); those are where the pushdown stack grows. States are numbered from 0 (the start).
/// </summary>
public sealed class RuleDfa
{
    internal RuleDfa(int states, int classes, int[] next, bool[] accepting, (int Rule, int Target)[][] refs)
    {
        States = states;
        Next = next;
        Accepting = accepting;
        Refs = refs;
        HasSymbolEdges = new bool[states];
        for (int s = 0; s < states; s++)
            for (int c = 0; c < classes; c++)
                if (next[s * classes + c] >= 0) { HasSymbolEdges[s] = true; break; }
    }

    public int States { get; }

    /// <summary>[state × classes + class] → next state, or -1.</summary>
    internal int[] Next { get; }

    public bool[] Accepting { get; }

    /// <summary>Per state: the rules it may enter and the state each returns to.</summary>
    public (int Rule, int Target)[][] Refs { get; }

    /// <summary>Whether a state consumes symbols itself (the places the parser can stand between tokens).</summary>
    public bool[] HasSymbolEdges { get; }
}

/// <summary>
/// A <see cref="Grammar"/> compiled for one vocabulary's added tokens: symbols partitioned into classes that every
/// terminal treats alike, and each rule as a trimmed, minimal <see cref="RuleDfa"/> (Thompson construction, subset
/// construction, then Moore's partition refinement).
/// </summary>
public sealed class GrammarAutomaton
{
    /// <summary>The most states all rules together may have; a schema past this is refused rather than allowed to eat memory.</summary>
    public const int MaxStates = 250_000;

    private GrammarAutomaton(int symbolCount, string[] tokenNames, int[] classOf, int classCount, RuleDfa[] rules)
    {
        SymbolCount = symbolCount;
        TokenNames = tokenNames;
        ClassOf = classOf;
        ClassCount = classCount;
        Rules = rules;
    }

    /// <summary>Symbols used: bytes, <see cref="Grammar.OtherTokenSymbol"/> and one per named added token.</summary>
    public int SymbolCount { get; }

    /// <summary>The added tokens the grammar names; token k is symbol <see cref="Grammar.FirstTokenSymbol"/> + k.</summary>
    public string[] TokenNames { get; }

    /// <summary>Symbol → class.</summary>
    public int[] ClassOf { get; }

    public int ClassCount { get; }

    public RuleDfa[] Rules { get; }

    public int TotalStates => Rules.Sum(r => r.States);

    /// <summary>
    /// Compiles <paramref name="grammar"/>; <paramref name="isAddedToken"/> tells which <see cref="GrammarExpr.Token"/> texts
    /// the vocabulary has as single added tokens (the others become their bytes).
    /// </summary>
    /// <exception cref="GrammarException">the grammar matches nothing, or is too large.</exception>
    public static GrammarAutomaton Compile(Grammar grammar, Func<string, bool> isAddedToken)
    {
        // Named tokens: symbols in order of first use.
        var names = new List<string>();
        var symbolOf = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int r = 0; r < grammar.RuleCount; r++) CollectTokens(grammar.Body(r), isAddedToken, names, symbolOf, new HashSet<GrammarExpr>(ReferenceEqualityComparer.Instance));
        int symbolCount = Grammar.FirstTokenSymbol + names.Count;

        var nfas = new Nfa[grammar.RuleCount];
        for (int r = 0; r < grammar.RuleCount; r++)
        {
            var nfa = new Nfa(grammar.RuleCount, symbolOf);
            var (start, end) = nfa.Build(grammar.Body(r));
            nfa.Start = start;
            nfa.Final = end;
            nfas[r] = nfa;
        }

        // Symbol classes: symbols every terminal set treats alike.
        var sets = nfas.SelectMany(n => n.Sets).Distinct().ToList();
        var (classOf, classCount) = Partition(sets, symbolCount);
        var classesOfSet = new Dictionary<SymbolSet, int[]>();
        foreach (var set in sets)
        {
            var cls = new SortedSet<int>();
            foreach (var (lo, hi) in set.Ranges)
                for (int s = lo; s <= Math.Min(hi, symbolCount - 1); s++) cls.Add(classOf[s]);
            classesOfSet[set] = [.. cls];
        }

        var raw = new RawDfa[grammar.RuleCount];
        int total = 0;
        for (int r = 0; r < grammar.RuleCount; r++)
        {
            raw[r] = Determinize(nfas[r], classCount, classesOfSet, grammar.RuleName(r));
            total += raw[r].Accepting.Count;
            if (total > MaxStates) throw new GrammarException($"the grammar needs more than {MaxStates} automaton states (rule '{grammar.RuleName(r)}'); make it smaller (e.g. lower maxLength or maxItems)");
        }

        // Rules that derive no string at all are dropped with every edge into them.
        var productive = new bool[raw.Length];
        for (bool changed = true; changed;)
        {
            changed = false;
            for (int r = 0; r < raw.Length; r++)
                if (!productive[r] && raw[r].CanAccept(productive)) { productive[r] = changed = true; }
        }
        if (!productive[0]) throw new GrammarException("the grammar matches nothing (the schema can never be satisfied)");

        var rules = new RuleDfa[raw.Length];
        for (int r = 0; r < raw.Length; r++)
            rules[r] = productive[r] ? raw[r].Minimize(classCount, productive) : new RuleDfa(1, classCount, Enumerable.Repeat(-1, classCount).ToArray(), [false], [[]]);
        return new GrammarAutomaton(symbolCount, [.. names], classOf, classCount, rules);
    }

    /// <summary>
    /// The same language as <paramref name="expr"/> (bytes only: no rule references or tokens) as a minimal automaton
    /// written back as a <see cref="GrammarExpr.Graph"/>. Used for pieces that are repeated many times, such as "one
    /// character of this set": their Thompson automaton has a state per UTF-8 range sequence, the minimal one a handful.
    /// </summary>
    public static GrammarExpr Minimal(GrammarExpr expr)
    {
        var nfa = new Nfa(0, new Dictionary<string, int>());
        (nfa.Start, nfa.Final) = nfa.Build(expr);
        if (nfa.RefEdges.Any(r => r.Count > 0)) throw new ArgumentException("Minimal takes an expression without rule references", nameof(expr));
        var sets = nfa.Sets.ToList();
        var (classOf, classCount) = Partition(sets, 256);
        var classesOfSet = sets.ToDictionary(set => set, set => set.Ranges.SelectMany(r => Enumerable.Range(r.Lo, Math.Min(r.Hi, 255) - r.Lo + 1)).Select(b => classOf[b]).Distinct().Order().ToArray());
        var dfa = Determinize(nfa, classCount, classesOfSet, "expression");
        if (!dfa.CanAccept([])) return GrammarExpr.Nothing;
        var min = dfa.Minimize(classCount, []);
        var edges = new List<(int, GrammarExpr, int)>();
        for (int st = 0; st < min.States; st++)
        {
            var byTarget = new SortedDictionary<int, List<(int, int)>>();
            for (int b = 0; b < 256; b++)
            {
                int t = min.Next[st * classCount + classOf[b]];
                if (t < 0) continue;
                if (!byTarget.TryGetValue(t, out var list)) byTarget[t] = list = [];
                list.Add((b, b));
            }
            foreach (var (t, ranges) in byTarget) edges.Add((st, GrammarExpr.Symbols(SymbolSet.FromRanges(ranges)), t));
        }
        return GrammarExpr.Graph(min.States, 0, [.. Enumerable.Range(0, min.States).Where(st => min.Accepting[st])], edges);
    }

    private static void CollectTokens(GrammarExpr e, Func<string, bool> isAddedToken, List<string> names, Dictionary<string, int> symbolOf, HashSet<GrammarExpr> seen)
    {
        if (!seen.Add(e)) return;
        switch (e)
        {
            case TokenExpr t when isAddedToken(t.Text) && !symbolOf.ContainsKey(t.Text):
                symbolOf[t.Text] = Grammar.FirstTokenSymbol + names.Count;
                names.Add(t.Text);
                break;
            case SeqExpr s: foreach (var i in s.Items) CollectTokens(i, isAddedToken, names, symbolOf, seen); break;
            case AltExpr a: foreach (var i in a.Items) CollectTokens(i, isAddedToken, names, symbolOf, seen); break;
            case RepeatExpr rp: CollectTokens(rp.Item, isAddedToken, names, symbolOf, seen); break;
            case GraphExpr g: foreach (var edge in g.Edges) CollectTokens(edge.Label, isAddedToken, names, symbolOf, seen); break;
        }
    }

    private static (int[] ClassOf, int Count) Partition(List<SymbolSet> sets, int symbolCount)
    {
        // Elementary intervals between every range boundary, grouped by which sets contain them.
        var bounds = new SortedSet<int> { 0, symbolCount };
        foreach (var set in sets)
            foreach (var (lo, hi) in set.Ranges)
            {
                if (lo < symbolCount) bounds.Add(lo);
                if (hi + 1 < symbolCount) bounds.Add(hi + 1);
            }
        int[] b = [.. bounds];
        var members = new List<int>[b.Length - 1];
        for (int i = 0; i < members.Length; i++) members[i] = [];
        for (int si = 0; si < sets.Count; si++)
            foreach (var (lo, hi) in sets[si].Ranges)
            {
                int k = Array.BinarySearch(b, lo);
                for (; k < members.Length && b[k] <= hi; k++) members[k].Add(si);
            }
        var classBySignature = new Dictionary<string, int>(StringComparer.Ordinal);
        var classOf = new int[symbolCount];
        for (int k = 0; k < members.Length; k++)
        {
            string sig = string.Join(",", members[k]);
            if (!classBySignature.TryGetValue(sig, out int c)) classBySignature[sig] = c = classBySignature.Count;
            for (int s = b[k]; s < b[k + 1]; s++) classOf[s] = c;
        }
        return (classOf, classBySignature.Count);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static RawDfa Determinize(Nfa nfa, int classCount, Dictionary<SymbolSet, int[]> classesOfSet, string ruleName)
    {
        var dfa = new RawDfa(classCount);
        var index = new Dictionary<int[], int>(IntArrayComparer.Instance);
        var queue = new Queue<int[]>();
        int[] Intern(int[] set)
        {
            if (index.ContainsKey(set)) return set;
            index[set] = dfa.AddState(set.Contains(nfa.Final));
            if (dfa.Accepting.Count > MaxStates)
                throw new GrammarException($"the grammar needs more than {MaxStates} automaton states (rule '{ruleName}'); make it smaller (e.g. lower maxLength or maxItems)");
            queue.Enqueue(set);
            return set;
        }
        var buckets = new List<int>[classCount];
        for (int c = 0; c < classCount; c++) buckets[c] = [];
        var refBuckets = new SortedDictionary<int, List<int>>();
        var sameBucket = new Dictionary<int[], int>(IntArrayComparer.Instance);
        Intern(nfa.Closure([nfa.Start]));
        while (queue.Count > 0)
        {
            int[] set = queue.Dequeue();
            int from = index[set];
            foreach (var b in buckets) b.Clear();
            refBuckets.Clear();
            foreach (int s in set)
            {
                foreach (var (symbols, target) in nfa.SymbolEdges[s])
                    foreach (int c in classesOfSet[symbols]) buckets[c].Add(target);
                foreach (var (rule, target) in nfa.RefEdges[s])
                {
                    if (!refBuckets.TryGetValue(rule, out var list)) refBuckets[rule] = list = [];
                    list.Add(target);
                }
            }
            // Many classes lead to the same NFA states (every letter of a string, say): close each distinct bucket once.
            sameBucket.Clear();
            for (int c = 0; c < classCount; c++)
            {
                if (buckets[c].Count == 0) continue;
                int[] key = [.. buckets[c]];
                if (!sameBucket.TryGetValue(key, out int target)) sameBucket[key] = target = index[Intern(nfa.Closure(key))];
                dfa.SetNext(from, c, target);
            }
            foreach (var (rule, targets) in refBuckets)
            {
                int[] to = Intern(nfa.Closure(targets));
                dfa.AddRef(from, rule, index[to]);
            }
        }
        return dfa;
    }

    /// <summary>A Thompson NFA of one rule: ε-edges, symbol-set edges and rule-reference edges.</summary>
    private sealed class Nfa(int ruleCount, Dictionary<string, int> symbolOf)
    {
        public readonly List<List<int>> Eps = [];
        public readonly List<List<(SymbolSet, int)>> SymbolEdges = [];
        public readonly List<List<(int, int)>> RefEdges = [];
        public readonly HashSet<SymbolSet> Sets = [];
        public int Start, Final;
        private int[] _mark = [];
        private int _stamp;

        private int NewState()
        {
            Eps.Add([]);
            SymbolEdges.Add([]);
            RefEdges.Add([]);
            if (Eps.Count > 4 * MaxStates) throw new GrammarException($"the grammar is too large (over {4 * MaxStates} automaton states before minimizing); make it smaller (e.g. lower maxLength or maxItems)");
            return Eps.Count - 1;
        }

        private (int, int) Edge(SymbolSet set)
        {
            int a = NewState(), b = NewState();
            Sets.Add(set);
            SymbolEdges[a].Add((set, b));
            return (a, b);
        }

        public (int Start, int End) Build(GrammarExpr e)
        {
            switch (e)
            {
                case TerminalExpr t:
                    return Edge(t.Set);
                case TokenExpr t:
                    return symbolOf.TryGetValue(t.Text, out int sym) ? Edge(SymbolSet.Of(sym)) : Build(GrammarExpr.Literal(t.Text));
                case OtherTokenExpr o:
                {
                    var set = SymbolSet.Of(Grammar.OtherTokenSymbol);
                    foreach (string name in o.AlsoAllow)
                        if (symbolOf.TryGetValue(name, out int s)) set = set.Union(SymbolSet.Of(s));
                    return Edge(set);
                }
                case RefExpr r:
                {
                    if ((uint)r.Rule >= (uint)ruleCount) throw new GrammarException($"reference to undefined rule #{r.Rule}");
                    int a = NewState(), b = NewState();
                    RefEdges[a].Add((r.Rule, b));
                    return (a, b);
                }
                case SeqExpr s:
                {
                    if (s.Items.Length == 0) { int a = NewState(); return (a, a); }
                    var (start, end) = Build(s.Items[0]);
                    for (int i = 1; i < s.Items.Length; i++)
                    {
                        var (a, b) = Build(s.Items[i]);
                        Eps[end].Add(a);
                        end = b;
                    }
                    return (start, end);
                }
                case AltExpr alt:
                {
                    int a = NewState(), b = NewState();
                    foreach (var item in alt.Items)
                    {
                        var (x, y) = Build(item);
                        Eps[a].Add(x);
                        Eps[y].Add(b);
                    }
                    return (a, b);
                }
                case RepeatExpr rp:
                {
                    int start = NewState(), at = start;
                    for (int i = 0; i < rp.Min; i++)
                    {
                        var (x, y) = Build(rp.Item);
                        Eps[at].Add(x);
                        at = y;
                    }
                    if (rp.Max < 0)
                    {
                        var (x, y) = Build(rp.Item);
                        Eps[at].Add(x);
                        Eps[y].Add(at);
                        return (start, at);
                    }
                    int end = NewState();
                    Eps[at].Add(end);
                    for (int i = rp.Min; i < rp.Max; i++)
                    {
                        var (x, y) = Build(rp.Item);
                        Eps[at].Add(x);
                        Eps[y].Add(end);
                        at = y;
                    }
                    return (start, end);
                }
                case GraphExpr g:
                {
                    int a = NewState(), b = NewState();
                    var node = new int[g.Nodes];
                    for (int i = 0; i < g.Nodes; i++) node[i] = NewState();
                    Eps[a].Add(node[g.Start]);
                    foreach (int f in g.Finals) Eps[node[f]].Add(b);
                    foreach (var (from, label, to) in g.Edges)
                    {
                        var (x, y) = Build(label);
                        Eps[node[from]].Add(x);
                        Eps[y].Add(node[to]);
                    }
                    return (a, b);
                }
                default:
                    throw new ArgumentException("unknown grammar expression " + e.GetType().Name);
            }
        }

        /// <summary>The ε-closure of <paramref name="seeds"/>, sorted.</summary>
        public int[] Closure(IEnumerable<int> seeds)
        {
            if (_mark.Length < Eps.Count) _mark = new int[Eps.Count];
            int stamp = ++_stamp;
            var result = new List<int>();
            var stack = new Stack<int>();
            foreach (int s in seeds)
                if (_mark[s] != stamp) { _mark[s] = stamp; stack.Push(s); }
            while (stack.Count > 0)
            {
                int s = stack.Pop();
                // Pure ε-states are left out of the set: they add no edges of their own, and without them equal sets compare equal.
                if (SymbolEdges[s].Count > 0 || RefEdges[s].Count > 0 || s == Final) result.Add(s);
                foreach (int t in Eps[s])
                    if (_mark[t] != stamp) { _mark[t] = stamp; stack.Push(t); }
            }
            result.Sort();
            return [.. result];
        }
    }

    /// <summary>A DFA under construction (before trimming and minimizing).</summary>
    private sealed class RawDfa(int classCount)
    {
        public readonly List<bool> Accepting = [];
        private readonly List<int> _next = [];
        private readonly List<List<(int Rule, int Target)>> _refs = [];

        public int AddState(bool accepting)
        {
            Accepting.Add(accepting);
            for (int c = 0; c < classCount; c++) _next.Add(-1);
            _refs.Add([]);
            return Accepting.Count - 1;
        }

        public void SetNext(int from, int cls, int to) => _next[from * classCount + cls] = to;

        public void AddRef(int from, int rule, int to) => _refs[from].Add((rule, to));

        /// <summary>Whether some string takes the start state to an accepting one, entering only <paramref name="productive"/> rules.</summary>
        public bool CanAccept(bool[] productive) => Reachable(productive).Any(s => Accepting[s]);

        private List<int> Reachable(bool[] productive)
        {
            var seen = new bool[Accepting.Count];
            var order = new List<int>();
            var stack = new Stack<int>();
            seen[0] = true;
            stack.Push(0);
            while (stack.Count > 0)
            {
                int s = stack.Pop();
                order.Add(s);
                foreach (int t in Successors(s, productive))
                    if (!seen[t]) { seen[t] = true; stack.Push(t); }
            }
            return order;
        }

        private IEnumerable<int> Successors(int s, bool[] productive)
        {
            for (int c = 0; c < classCount; c++)
                if (_next[s * classCount + c] is int t and >= 0) yield return t;
            foreach (var (rule, target) in _refs[s])
                if (productive[rule]) yield return target;
        }

        /// <summary>Drops states that cannot be reached or cannot reach acceptance, then merges equivalent states (Moore).</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public RuleDfa Minimize(int classes, bool[] productive)
        {
            int n = Accepting.Count;
            // Live: reachable from the start and able to reach an accepting state.
            var reach = new bool[n];
            foreach (int s in Reachable(productive)) reach[s] = true;
            var preds = new List<int>[n];
            for (int s = 0; s < n; s++) preds[s] = [];
            for (int s = 0; s < n; s++)
                if (reach[s])
                    foreach (int t in Successors(s, productive)) preds[t].Add(s);
            var live = new bool[n];
            var stack = new Stack<int>();
            for (int s = 0; s < n; s++)
                if (reach[s] && Accepting[s]) { live[s] = true; stack.Push(s); }
            while (stack.Count > 0)
                foreach (int p in preds[stack.Pop()])
                    if (!live[p]) { live[p] = true; stack.Push(p); }

            int Target(int s, int c) => _next[s * classes + c] is int t and >= 0 && live[t] ? t : -1;

            // Moore's refinement: states are equivalent until their acceptance, class targets or reference targets differ.
            // Each round groups states by (block, blocks of their targets), hashed, with collisions compared in full.
            var trans = new int[n * classes];
            for (int s = 0; s < n; s++)
                for (int c = 0; c < classes; c++) trans[s * classes + c] = live[s] ? Target(s, c) : -1;
            var liveRefs = new (int Rule, int Target)[n][];
            for (int s = 0; s < n; s++)
                liveRefs[s] = [.. _refs[s].Where(x => live[s] && productive[x.Rule] && live[x.Target]).OrderBy(x => x.Rule)];
            var block = new int[n];
            for (int s = 0; s < n; s++) block[s] = !live[s] ? -1 : Accepting[s] ? 1 : 0;
            int count = 0;
            var groups = new Dictionary<long, List<int>>();
            var next = new int[n];
            bool Same(int a, int b)
            {
                if (block[a] != block[b] || liveRefs[a].Length != liveRefs[b].Length) return false;
                for (int c = 0; c < classes; c++)
                {
                    int ta = trans[a * classes + c], tb = trans[b * classes + c];
                    if ((ta < 0 ? -1 : block[ta]) != (tb < 0 ? -1 : block[tb])) return false;
                }
                for (int k = 0; k < liveRefs[a].Length; k++)
                    if (liveRefs[a][k].Rule != liveRefs[b][k].Rule || block[liveRefs[a][k].Target] != block[liveRefs[b][k].Target]) return false;
                return true;
            }
            while (true)
            {
                groups.Clear();
                int ids = 0;
                for (int s = 0; s < n; s++)
                {
                    if (!live[s]) { next[s] = -1; continue; }
                    long h = block[s] * 1_000_003L;
                    for (int c = 0; c < classes; c++)
                    {
                        int t = trans[s * classes + c];
                        h = h * 31 + (t < 0 ? -1 : block[t]);
                    }
                    foreach (var (rule, target) in liveRefs[s]) h = (h * 31 + rule) * 31 + block[target];
                    if (!groups.TryGetValue(h, out var members)) groups[h] = members = [];
                    int id = -1;
                    foreach (int m in members)
                        if (Same(m, s)) { id = next[m]; break; }
                    if (id < 0) { id = ids++; members.Add(s); }
                    next[s] = id;
                }
                bool stable = ids == count;
                count = ids;
                (block, next) = (next, block);
                if (stable) break;
            }

            // Number the blocks breadth-first from the start, so state 0 is the start.
            var order = new int[count];
            Array.Fill(order, -1);
            var bfs = new Queue<int>();
            int numbered = 0;
            order[block[0]] = numbered++;
            bfs.Enqueue(0);
            var repOf = new int[count];
            repOf[block[0]] = 0;
            while (bfs.Count > 0)
            {
                int s = bfs.Dequeue();
                for (int c = 0; c < classes; c++)
                    if (Target(s, c) is int t and >= 0 && order[block[t]] < 0) { order[block[t]] = numbered++; repOf[block[t]] = t; bfs.Enqueue(t); }
                foreach (var (rule, target) in _refs[s])
                    if (productive[rule] && live[target] && order[block[target]] < 0) { order[block[target]] = numbered++; repOf[block[target]] = target; bfs.Enqueue(target); }
            }
            var nextTable = new int[numbered * classes];
            var accepting = new bool[numbered];
            var refs = new (int, int)[numbered][];
            for (int b = 0; b < count; b++)
            {
                if (order[b] < 0) continue;
                int s = repOf[b], to = order[b];
                accepting[to] = Accepting[s];
                for (int c = 0; c < classes; c++) nextTable[to * classes + c] = Target(s, c) is int t and >= 0 ? order[block[t]] : -1;
                refs[to] = [.. _refs[s].Where(x => productive[x.Rule] && live[x.Target]).Select(x => (x.Rule, order[block[x.Target]])).OrderBy(x => x.Item1)];
            }
            return new RuleDfa(numbered, classes, nextTable, accepting, refs);
        }
    }
}

/// <summary>A grammar that cannot be built: it matches nothing, is too large, or refers to a rule that does not exist.</summary>
public sealed class GrammarException(string message) : SharpSeekException(message);

internal sealed class IntArrayComparer : IEqualityComparer<int[]>
{
    public static readonly IntArrayComparer Instance = new();
    public bool Equals(int[]? x, int[]? y) => x.AsSpan().SequenceEqual(y);
    public int GetHashCode(int[] a)
    {
        var h = new HashCode();
        h.AddBytes(System.Runtime.InteropServices.MemoryMarshal.AsBytes(a.AsSpan()));
        return h.ToHashCode();
    }
}
