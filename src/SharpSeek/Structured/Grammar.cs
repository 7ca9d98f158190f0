using System.Text;

namespace SharpSeek.Structured;

/// <summary>
/// A context-free grammar over bytes (and added tokens): numbered rules, each a regular expression whose terminals are
/// symbol sets and whose non-terminals are references to rules. Rule 0 is the start. Recursion is only needed where a
/// language really nests (a JSON value inside a JSON value, a recursive <c>$ref</c>); everything else is written inline,
/// so most grammars compile to one deterministic automaton (see <see cref="RuleAutomaton"/>).
/// </summary>
public sealed class Grammar
{
    /// <summary>The symbol that stands for any added token the grammar does not name (stop tokens are never symbols).</summary>
    public const int OtherTokenSymbol = 256;

    /// <summary>The first symbol of the added tokens a grammar names (<see cref="GrammarExpr.Token"/>), in order of first use.</summary>
    public const int FirstTokenSymbol = 257;

    private readonly List<string> _names = [];
    private readonly List<GrammarExpr?> _bodies = [];

    /// <summary>A grammar whose start rule (0) is named <paramref name="rootName"/>; set its body with <see cref="Define"/>.</summary>
    public Grammar(string rootName = "root") => AddRule(rootName);

    /// <summary>A grammar of one rule.</summary>
    public static Grammar Of(GrammarExpr root)
    {
        var g = new Grammar();
        g.Define(0, root);
        return g;
    }

    public int RuleCount => _names.Count;

    public string RuleName(int rule) => _names[rule];

    public GrammarExpr Body(int rule) => _bodies[rule] ?? throw new InvalidOperationException($"grammar rule '{_names[rule]}' has no body");

    /// <summary>Declares a rule (its body may come later, so rules can refer to each other).</summary>
    public int AddRule(string name)
    {
        _names.Add(name);
        _bodies.Add(null);
        return _names.Count - 1;
    }

    public void Define(int rule, GrammarExpr body) => _bodies[rule] = body;

    /// <summary>The grammar in a readable EBNF-like form (for errors and tests).</summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        for (int i = 0; i < _names.Count; i++) sb.Append(_names[i]).Append(" ::= ").Append(_bodies[i]?.ToString() ?? "?").Append('\n');
        return sb.ToString();
    }
}

/// <summary>
/// A regular expression over grammar symbols with rule references. Build them with the static helpers
/// (<see cref="Literal(string)"/>, <see cref="Seq"/>, <see cref="Alt"/>, <see cref="Repeat"/>, ...).
/// </summary>
public abstract class GrammarExpr
{
    private int _size = -1;

    /// <summary>About how many automaton states the expression becomes when written inline (decides what gets its own rule).</summary>
    public int Size => _size >= 0 ? _size : _size = (int)Math.Min(int.MaxValue / 4, ComputeSize());

    protected abstract long ComputeSize();

    public static GrammarExpr Empty { get; } = new SeqExpr([]);

    /// <summary>The empty language (no string at all).</summary>
    public static GrammarExpr Nothing { get; } = new AltExpr([]);

    public static GrammarExpr Symbols(SymbolSet set) => set.IsEmpty ? Nothing : new TerminalExpr(set);

    public static GrammarExpr Byte(byte b) => new TerminalExpr(SymbolSet.Of(b));

    public static GrammarExpr ByteRange(int lo, int hi) => Symbols(SymbolSet.Range(lo, hi));

    /// <summary>The UTF-8 bytes of <paramref name="text"/>.</summary>
    public static GrammarExpr Literal(string text) => Literal(Encoding.UTF8.GetBytes(text));

    public static GrammarExpr Literal(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length == 1) return Byte(bytes[0]);
        var items = new GrammarExpr[bytes.Length];
        for (int i = 0; i < bytes.Length; i++) items[i] = Byte(bytes[i]);
        return new SeqExpr(items);
    }

    /// <summary>
    /// <paramref name="text"/> as the model writes it: the added token of that content if the vocabulary has one, else its
    /// UTF-8 bytes (resolved when the grammar is bound to a vocabulary).
    /// </summary>
    public static GrammarExpr Token(string text) => new TokenExpr(text);

    /// <summary>Any one added token of the vocabulary except stop tokens and the ones this grammar names with <see cref="Token"/>, unless listed in <paramref name="alsoAllow"/>.</summary>
    public static GrammarExpr OtherToken(params string[] alsoAllow) => new OtherTokenExpr(alsoAllow);

    public static GrammarExpr Seq(params GrammarExpr[] items)
    {
        var flat = new List<GrammarExpr>(items.Length);
        foreach (var e in items)
        {
            if (ReferenceEquals(e, Nothing)) return Nothing;
            if (e is SeqExpr s) flat.AddRange(s.Items);
            else flat.Add(e);
        }
        return flat.Count == 1 ? flat[0] : new SeqExpr([.. flat]);
    }

    public static GrammarExpr Alt(params GrammarExpr[] items)
    {
        var flat = new List<GrammarExpr>(items.Length);
        foreach (var e in items)
        {
            if (e is AltExpr a) flat.AddRange(a.Items);
            else flat.Add(e);
        }
        return flat.Count == 1 ? flat[0] : new AltExpr([.. flat]);
    }

    /// <summary><paramref name="item"/> at least <paramref name="min"/> and at most <paramref name="max"/> times (-1: no limit).</summary>
    public static GrammarExpr Repeat(GrammarExpr item, int min, int max)
    {
        if (min < 0 || (max >= 0 && max < min)) throw new ArgumentOutOfRangeException(nameof(max), $"bad repeat bounds {{{min},{max}}}");
        if (max == 0) return Empty;
        if (min == 1 && max == 1) return item;
        return new RepeatExpr(item, min, max);
    }

    public static GrammarExpr Optional(GrammarExpr item) => Repeat(item, 0, 1);

    public static GrammarExpr Star(GrammarExpr item) => Repeat(item, 0, -1);

    public static GrammarExpr Ref(int rule) => new RefExpr(rule);

    /// <summary>A hand-made automaton whose edges are labelled with expressions (lets one expression share states, e.g. "has a property been written yet" in an object).</summary>
    public static GrammarExpr Graph(int nodes, int start, IReadOnlyList<int> finals, IReadOnlyList<(int From, GrammarExpr Label, int To)> edges) =>
        new GraphExpr(nodes, start, [.. finals], [.. edges]);
}

internal sealed class TerminalExpr(SymbolSet set) : GrammarExpr
{
    public SymbolSet Set { get; } = set;
    protected override long ComputeSize() => 2;
    public override string ToString() => Set.Ranges.Count == 1 && Set.Ranges[0].Lo == Set.Ranges[0].Hi && Set.Ranges[0].Lo is >= 0x20 and < 0x7F
        ? "'" + (char)Set.Ranges[0].Lo + "'" : Set.ToString();
}

internal sealed class SeqExpr(GrammarExpr[] items) : GrammarExpr
{
    public GrammarExpr[] Items { get; } = items;
    protected override long ComputeSize() => 1 + Items.Sum(i => (long)i.Size);
    public override string ToString() => Items.Length == 0 ? "ε" : "(" + string.Join(" ", Items.Select(i => i.ToString())) + ")";
}

internal sealed class AltExpr(GrammarExpr[] items) : GrammarExpr
{
    public GrammarExpr[] Items { get; } = items;
    protected override long ComputeSize() => 2 + Items.Sum(i => (long)i.Size);
    public override string ToString() => Items.Length == 0 ? "∅" : "(" + string.Join(" | ", Items.Select(i => i.ToString())) + ")";
}

internal sealed class RepeatExpr(GrammarExpr item, int min, int max) : GrammarExpr
{
    public GrammarExpr Item { get; } = item;
    public int Min { get; } = min;
    public int Max { get; } = max;
    protected override long ComputeSize() => 2 + (long)Item.Size * (Max < 0 ? Math.Max(Min, 1) : Max);
    public override string ToString() => Item + (Min, Max) switch { (0, -1) => "*", (1, -1) => "+", (0, 1) => "?", _ => $"{{{Min},{(Max < 0 ? "" : Max)}}}" };
}

internal sealed class RefExpr(int rule) : GrammarExpr
{
    public int Rule { get; } = rule;
    protected override long ComputeSize() => 2;
    public override string ToString() => "#" + Rule;
}

internal sealed class TokenExpr(string text) : GrammarExpr
{
    public string Text { get; } = text;
    protected override long ComputeSize() => 2 + Encoding.UTF8.GetByteCount(Text);
    public override string ToString() => "<" + Text + ">";
}

internal sealed class OtherTokenExpr(string[] alsoAllow) : GrammarExpr
{
    public string[] AlsoAllow { get; } = alsoAllow;
    protected override long ComputeSize() => 2;
    public override string ToString() => "<other>";
}

internal sealed class GraphExpr(int nodes, int start, int[] finals, (int From, GrammarExpr Label, int To)[] edges) : GrammarExpr
{
    public int Nodes { get; } = nodes;
    public int Start { get; } = start;
    public int[] Finals { get; } = finals;
    public (int From, GrammarExpr Label, int To)[] Edges { get; } = edges;
    protected override long ComputeSize() => Nodes + Edges.Sum(e => (long)e.Label.Size);
    public override string ToString() => "graph{" + string.Join("; ", Edges.Select(e => $"{e.From}-{e.Label}->{e.To}")) + $"; final {string.Join(",", Finals)}}}";
}
