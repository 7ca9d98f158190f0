using System.Runtime.CompilerServices;
namespace SharpSeek.Structured;

/// <summary>
/// The pushdown parser's stacks, shared and interned: a frame is (rule, state, parent frame), so a stack is its top frame
/// and equal stacks are the same integer. Advancing a stack by a symbol class and closing it under rule entries and
/// returns is memoized per frame, which makes walking thousands of tokens through the same few stacks cheap.
/// <para>
/// A frame whose state consumes symbols is a "top": the places the parser can stand between symbols. The closure of
/// a frame is the set of tops reachable without consuming anything (entering rules; returning from an accepting state
/// to the parent). Returning from the bottom frame either completes the grammar (<see cref="Root"/>) or, when the stacks
/// are built for one rule without knowing what called it (<see cref="Bottom"/>), "escapes": what follows is the caller's business.
/// </para>
/// </summary>
internal sealed class ParseStacks(GrammarAutomaton grammar)
{
    /// <summary>Parent of the start rule's frame: returning from it completes the grammar.</summary>
    public const int Root = -1;

    /// <summary>Parent of a frame whose caller is unknown (the per-position mask precomputation).</summary>
    public const int Bottom = -2;

    public const byte EndFlag = 1, EscapeFlag = 2;

    /// <summary>Result 0: no tops, no flags (the dead result).</summary>
    public const int Dead = 0;

    private readonly RuleDfa[] _rules = grammar.Rules;
    private readonly int _classes = grammar.ClassCount;
    private readonly Dictionary<(int, int, int), int> _index = [];
    private int[] _rule = new int[64], _state = new int[64], _parent = new int[64], _closure = new int[64];
    private int[]?[] _step = new int[64][];
    private readonly List<int[]> _resultTops = [[]];
    private readonly List<byte> _resultFlags = [0];
    private readonly HashSet<int> _visited = [];
    private readonly List<int> _tops = [];

    public int FrameCount { get; private set; }

    public int Rule(int frame) => _rule[frame];

    public int State(int frame) => _state[frame];

    public int[] Tops(int result) => _resultTops[result];

    public byte Flags(int result) => _resultFlags[result];

    /// <summary>The frame (rule, state, parent), created on first use.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int Intern(int rule, int state, int parent)
    {
        if (_index.TryGetValue((rule, state, parent), out int id)) return id;
        id = FrameCount++;
        if (id == _rule.Length)
        {
            int n = id * 2;
            Array.Resize(ref _rule, n);
            Array.Resize(ref _state, n);
            Array.Resize(ref _parent, n);
            Array.Resize(ref _closure, n);
            Array.Resize(ref _step, n);
        }
        _rule[id] = rule;
        _state[id] = state;
        _parent[id] = parent;
        _closure[id] = -1;
        _index[(rule, state, parent)] = id;
        return id;
    }

    /// <summary>The tops at the start of the grammar (and the end flag if it accepts the empty string).</summary>
    public int Start() => Closure(Intern(0, 0, Root));

    /// <summary>The result of consuming one symbol of class <paramref name="cls"/> at top <paramref name="frame"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int Step(int frame, int cls)
    {
        int[] memo = _step[frame] ??= NewStepMemo();
        int r = memo[cls];
        if (r >= 0) return r;
        int t = _rules[_rule[frame]].Next[_state[frame] * _classes + cls];
        r = t < 0 ? Dead : Closure(Intern(_rule[frame], t, _parent[frame]));
        memo[cls] = r;
        return r;
    }

    private int[] NewStepMemo()
    {
        var memo = new int[_classes];
        Array.Fill(memo, -1);
        return memo;
    }

    /// <summary>The tops and flags reachable from <paramref name="frame"/> without consuming a symbol.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int Closure(int frame)
    {
        int c = _closure[frame];
        if (c >= 0) return c;
        _visited.Clear();
        _tops.Clear();
        byte flags = 0;
        Visit(frame, ref flags);
        int id;
        if (_tops.Count == 0 && flags == 0) id = Dead;
        else
        {
            id = _resultTops.Count;
            _resultTops.Add([.. _tops]);
            _resultFlags.Add(flags);
        }
        _closure[frame] = id;
        return id;
    }

    private void Visit(int frame, ref byte flags)
    {
        if (!_visited.Add(frame)) return;
        if (_visited.Count > 100_000) throw new GrammarException("the grammar is left-recursive (a rule can enter itself without consuming anything)");
        int rule = _rule[frame], state = _state[frame], parent = _parent[frame];
        var dfa = _rules[rule];
        if (dfa.HasSymbolEdges[state]) _tops.Add(frame);
        foreach (var (callee, target) in dfa.Refs[state])
        {
            int ret = Intern(rule, target, parent);
            Visit(Intern(callee, 0, ret), ref flags);
        }
        if (dfa.Accepting[state])
        {
            if (parent == Root) flags |= EndFlag;
            else if (parent == Bottom) flags |= EscapeFlag;
            else Visit(parent, ref flags);
        }
    }
}
