using System.Globalization;
using System.Text;

namespace SharpSeek.Tokenization;

/// <summary>
/// A small backtracking regular expression engine over Unicode code points, enough for the
/// pre-tokenizer patterns of Hugging Face and llama.cpp tokenizers (classes with <c>\p{..}</c>,
/// alternation, greedy/lazy quantifiers, <c>(?i:..)</c>, lookahead, anchors), with Perl/Oniguruma
/// leftmost-first semantics.
/// </summary>
/// <remarks>
/// Why our own: .NET <see cref="System.Text.RegularExpressions.Regex"/> matches per UTF-16 unit, so
/// <c>\p{L}</c>/<c>\p{S}</c>/<c>\p{N}</c> miss astral code points (emoji, CJK Ext-B, math letters)
/// and DeepSeek-V3 text is mis-split (see the tokenizer findings in the shared docs).
/// A lone surrogate is treated as one code point of category Cs.
/// </remarks>
public sealed class CodePointRegex
{
    private enum Op : byte { Set, Split, Jmp, Match, Look, Bol, Eol, Eos }

    private readonly record struct Inst(Op Op, int X, int Y, bool Flag);

    private readonly Inst[] _prog;
    private readonly CodePointSet[] _sets;
    private readonly CodePointRegex[] _subs;

    /// <summary>The source pattern.</summary>
    public string Pattern { get; }

    [ThreadStatic] private static int[]? t_stack;

    private CodePointRegex(string pattern, Inst[] prog, CodePointSet[] sets, CodePointRegex[] subs)
    {
        Pattern = pattern;
        _prog = prog;
        _sets = sets;
        _subs = subs;
        _firstSets = FirstSets(prog);
    }

    // The sets one of which must match the first code point of any match, or null when a match can
    // start without consuming (then every position must be tried).
    private readonly int[]? _firstSets;

    private static int[]? FirstSets(Inst[] prog)
    {
        var result = new List<int>();
        var seen = new HashSet<int>();
        var work = new Stack<int>();
        work.Push(0);
        while (work.Count > 0)
        {
            int pc = work.Pop();
            if (!seen.Add(pc)) continue;
            Inst inst = prog[pc];
            switch (inst.Op)
            {
                case Op.Set: result.Add(inst.X); break;
                case Op.Split: work.Push(inst.X); work.Push(inst.Y); break;
                case Op.Jmp: work.Push(inst.X); break;
                default: return null; // Match, Look or an anchor before any consumption
            }
        }
        return result.ToArray();
    }

    private bool CanStartWith(int cp)
    {
        int[] first = _firstSets!;
        for (int i = 0; i < first.Length; i++) if (_sets[first[i]].Contains(cp)) return true;
        return false;
    }

    /// <summary>Parses <paramref name="pattern"/>; throws <see cref="ModelFormatException"/> naming the problem if it is not supported.</summary>
    public static CodePointRegex Compile(string pattern)
    {
        var parser = new Parser(pattern);
        Node node = parser.ParseAll();
        return Build(pattern, node);
    }

    private static CodePointRegex Build(string pattern, Node node)
    {
        var c = new Compiler();
        c.Emit(node);
        c.Add(new Inst(Op.Match, 0, 0, false));
        return new CodePointRegex(pattern, c.Prog.ToArray(), c.Sets.ToArray(), c.Subs.ToArray());
    }

    /// <summary>Finds the leftmost match at or after <paramref name="from"/>, within <paramref name="text"/>.</summary>
    public bool Find(ReadOnlySpan<char> text, int from, out int start, out int end)
    {
        int pos = from;
        while (pos < text.Length)
        {
            if (_firstSets is not null)
            {
                int cp = CodePoint.At(text, pos, out int len);
                if (!CanStartWith(cp)) { pos += len; continue; }
            }
            if (MatchAt(text, pos, out end)) { start = pos; return true; }
            pos += CodePoint.LengthAt(text, pos);
        }
        if (pos == text.Length && MatchAt(text, pos, out end) && end > pos) { start = pos; return true; }
        start = end = -1;
        return false;
    }

    /// <summary>Tries to match starting exactly at <paramref name="pos"/>; <paramref name="end"/> is where the match ends.</summary>
    public bool MatchAt(ReadOnlySpan<char> text, int pos, out int end)
    {
        int[] stack = t_stack ??= new int[256];
        int sp = 0;
        int pc = 0;
        Inst[] prog = _prog;
        while (true)
        {
            Inst inst = prog[pc];
            switch (inst.Op)
            {
                case Op.Set:
                    if (pos < text.Length)
                    {
                        int cp = CodePoint.At(text, pos, out int len);
                        if (_sets[inst.X].Contains(cp)) { pos += len; pc++; continue; }
                    }
                    goto Fail;
                case Op.Split:
                    if (sp + 2 > stack.Length)
                    {
                        Array.Resize(ref stack, stack.Length * 2);
                        t_stack = stack;
                    }
                    stack[sp++] = inst.Y;
                    stack[sp++] = pos;
                    pc = inst.X;
                    continue;
                case Op.Jmp:
                    pc = inst.X;
                    continue;
                case Op.Match:
                    end = pos;
                    return true;
                case Op.Look:
                {
                    // The sub-match uses the same thread-static stack above our frames.
                    bool found = _subs[inst.X].MatchLook(text, pos, sp);
                    stack = t_stack!;
                    if (found != inst.Flag) { pc++; continue; }
                    goto Fail;
                }
                case Op.Bol:
                    if (pos == 0 || text[pos - 1] == '\n') { pc++; continue; }
                    goto Fail;
                case Op.Eol:
                    if (pos == text.Length || text[pos] == '\n') { pc++; continue; }
                    goto Fail;
                case Op.Eos:
                    if (pos == text.Length) { pc++; continue; }
                    goto Fail;
            }
        Fail:
            if (sp == 0) { end = -1; return false; }
            pos = stack[--sp];
            pc = stack[--sp];
        }
    }

    // A lookahead body runs on the shared stack starting at 'baseSp' so it does not clobber the caller's frames.
    private bool MatchLook(ReadOnlySpan<char> text, int pos, int baseSp)
    {
        int[] stack = t_stack!;
        int sp = baseSp;
        int pc = 0;
        while (true)
        {
            Inst inst = _prog[pc];
            switch (inst.Op)
            {
                case Op.Set:
                    if (pos < text.Length)
                    {
                        int cp = CodePoint.At(text, pos, out int len);
                        if (_sets[inst.X].Contains(cp)) { pos += len; pc++; continue; }
                    }
                    goto Fail;
                case Op.Split:
                    if (sp + 2 > stack.Length)
                    {
                        Array.Resize(ref stack, stack.Length * 2);
                        t_stack = stack;
                    }
                    stack[sp++] = inst.Y;
                    stack[sp++] = pos;
                    pc = inst.X;
                    continue;
                case Op.Jmp:
                    pc = inst.X;
                    continue;
                case Op.Match:
                    return true;
                case Op.Look:
                {
                    bool found = _subs[inst.X].MatchLook(text, pos, sp);
                    stack = t_stack!;
                    if (found != inst.Flag) { pc++; continue; }
                    goto Fail;
                }
                case Op.Bol:
                    if (pos == 0 || text[pos - 1] == '\n') { pc++; continue; }
                    goto Fail;
                case Op.Eol:
                    if (pos == text.Length || text[pos] == '\n') { pc++; continue; }
                    goto Fail;
                case Op.Eos:
                    if (pos == text.Length) { pc++; continue; }
                    goto Fail;
            }
        Fail:
            if (sp == baseSp) return false;
            pos = stack[--sp];
            pc = stack[--sp];
        }
    }

    // ---- AST ----

    private abstract class Node;
    private sealed class SetNode(CodePointSet set) : Node { public CodePointSet Set { get; } = set; }
    private sealed class ConcatNode(List<Node> items) : Node { public List<Node> Items { get; } = items; }
    private sealed class AltNode(List<Node> items) : Node { public List<Node> Items { get; } = items; }
    private sealed class RepeatNode(Node body, int min, int max, bool greedy) : Node
    {
        public Node Body { get; } = body;
        public int Min { get; } = min;
        public int Max { get; } = max; // -1: unbounded
        public bool Greedy { get; } = greedy;
    }
    private sealed class LookNode(Node body, bool negate) : Node { public Node Body { get; } = body; public bool Negate { get; } = negate; }
    private sealed class AssertNode(Op op) : Node { public Op Op { get; } = op; }

    private sealed class Compiler
    {
        public List<Inst> Prog { get; } = [];
        public List<CodePointSet> Sets { get; } = [];
        public List<CodePointRegex> Subs { get; } = [];

        public int Add(Inst inst) { Prog.Add(inst); return Prog.Count - 1; }

        private static bool Nullable(Node node) => node switch
        {
            SetNode => false,
            ConcatNode c => c.Items.TrueForAll(Nullable),
            AltNode a => a.Items.Exists(Nullable),
            RepeatNode r => r.Min == 0 || Nullable(r.Body),
            _ => true,
        };

        public void Emit(Node node)
        {
            switch (node)
            {
                case SetNode s:
                    s.Set.Prepare();
                    Sets.Add(s.Set);
                    Add(new Inst(Op.Set, Sets.Count - 1, 0, false));
                    break;
                case ConcatNode c:
                    foreach (Node n in c.Items) Emit(n);
                    break;
                case AltNode a:
                {
                    var jumps = new List<int>();
                    for (int i = 0; i < a.Items.Count; i++)
                    {
                        if (i < a.Items.Count - 1)
                        {
                            int split = Add(default);
                            Emit(a.Items[i]);
                            jumps.Add(Add(default));
                            Prog[split] = new Inst(Op.Split, split + 1, Prog.Count, false);
                        }
                        else Emit(a.Items[i]);
                    }
                    foreach (int j in jumps) Prog[j] = new Inst(Op.Jmp, Prog.Count, 0, false);
                    break;
                }
                case RepeatNode r:
                {
                    // The backtracking loop would spin forever on an unbounded repeat of something that matches empty.
                    if (r.Max < 0 && Nullable(r.Body))
                        throw new ModelFormatException("unsupported pre-tokenizer regex: an unbounded repeat of a sub-pattern that can match the empty string");
                    for (int i = 0; i < r.Min; i++) Emit(r.Body);
                    if (r.Max < 0)
                    {
                        int loop = Add(default);
                        Emit(r.Body);
                        Add(new Inst(Op.Jmp, loop, 0, false));
                        Prog[loop] = r.Greedy ? new Inst(Op.Split, loop + 1, Prog.Count, false) : new Inst(Op.Split, Prog.Count, loop + 1, false);
                    }
                    else
                    {
                        var splits = new List<int>();
                        for (int i = r.Min; i < r.Max; i++)
                        {
                            splits.Add(Add(default));
                            Emit(r.Body);
                        }
                        int end = Prog.Count;
                        foreach (int s in splits) Prog[s] = r.Greedy ? new Inst(Op.Split, s + 1, end, false) : new Inst(Op.Split, end, s + 1, false);
                    }
                    break;
                }
                case LookNode l:
                    Subs.Add(Build("(lookahead)", l.Body));
                    Add(new Inst(Op.Look, Subs.Count - 1, 0, l.Negate));
                    break;
                case AssertNode an:
                    Add(new Inst(an.Op, 0, 0, false));
                    break;
                default:
                    throw new InvalidOperationException("unknown regex node");
            }
        }
    }

    private sealed class Parser(string pattern)
    {
        private int _pos;
        private readonly string _p = pattern;

        public Node ParseAll()
        {
            Node n = ParseAlt(false);
            if (_pos != _p.Length) throw Error("unbalanced ')'");
            return n;
        }

        private ModelFormatException Error(string what) =>
            new($"unsupported or malformed pre-tokenizer regex at offset {_pos}: {what} (pattern: {_p})");

        private Node ParseAlt(bool ci)
        {
            var alts = new List<Node> { ParseSeq(ci) };
            while (_pos < _p.Length && _p[_pos] == '|')
            {
                _pos++;
                alts.Add(ParseSeq(ci));
            }
            return alts.Count == 1 ? alts[0] : new AltNode(alts);
        }

        private Node ParseSeq(bool ci)
        {
            var items = new List<Node>();
            while (_pos < _p.Length && _p[_pos] != '|' && _p[_pos] != ')')
            {
                Node atom = ParseAtom(ci);
                items.Add(ParseQuantifier(atom));
            }
            return items.Count == 1 ? items[0] : new ConcatNode(items);
        }

        private Node ParseQuantifier(Node atom)
        {
            if (_pos >= _p.Length) return atom;
            int min, max;
            char c = _p[_pos];
            if (c == '?') { min = 0; max = 1; _pos++; }
            else if (c == '*') { min = 0; max = -1; _pos++; }
            else if (c == '+') { min = 1; max = -1; _pos++; }
            else if (c == '{' && TryParseBraces(out min, out max)) { }
            else return atom;
            bool greedy = true;
            if (_pos < _p.Length && _p[_pos] == '?') { greedy = false; _pos++; }
            else if (_pos < _p.Length && _p[_pos] == '+') _pos++; // possessive: treated as greedy
            if (atom is LookNode or AssertNode) throw Error("quantified assertion");
            return new RepeatNode(atom, min, max, greedy);
        }

        private bool TryParseBraces(out int min, out int max)
        {
            int save = _pos;
            _pos++;
            min = ReadInt();
            max = min;
            if (min < 0) { _pos = save; return false; }
            if (_pos < _p.Length && _p[_pos] == ',')
            {
                _pos++;
                max = ReadInt();
            }
            if (_pos >= _p.Length || _p[_pos] != '}') { _pos = save; return false; }
            _pos++;
            if (max >= 0 && max < min) throw Error("bad {m,n}");
            return true;
        }

        private int ReadInt()
        {
            int start = _pos, v = 0;
            while (_pos < _p.Length && _p[_pos] is >= '0' and <= '9') { v = v * 10 + (_p[_pos] - '0'); _pos++; }
            return _pos == start ? -1 : v;
        }

        private Node ParseAtom(bool ci)
        {
            char c = _p[_pos];
            switch (c)
            {
                case '(':
                {
                    _pos++;
                    Node inner;
                    if (_p.AsSpan(_pos).StartsWith("?:")) { _pos += 2; inner = ParseAlt(ci); }
                    else if (_p.AsSpan(_pos).StartsWith("?i:")) { _pos += 3; inner = ParseAlt(true); }
                    else if (_p.AsSpan(_pos).StartsWith("?!")) { _pos += 2; inner = new LookNode(ParseAlt(ci), true); }
                    else if (_p.AsSpan(_pos).StartsWith("?=")) { _pos += 2; inner = new LookNode(ParseAlt(ci), false); }
                    else if (_pos < _p.Length && _p[_pos] == '?') throw Error("unsupported group");
                    else inner = ParseAlt(ci);
                    if (_pos >= _p.Length || _p[_pos] != ')') throw Error("missing ')'");
                    _pos++;
                    return inner;
                }
                case '[':
                    return new SetNode(ParseClass(ci));
                case '.':
                    _pos++;
                    return new SetNode(CodePointSet.Single('\n').Negated());
                case '^':
                    _pos++;
                    return new AssertNode(Op.Bol);
                case '$':
                    _pos++;
                    return new AssertNode(Op.Eol);
                case '\\':
                {
                    var set = new CodePointSet();
                    if (ParseEscape(set, out int literal, inClass: false)) return new SetNode(set);
                    return Literal(literal, ci);
                }
                case '*' or '+' or '?':
                    throw Error("nothing to repeat");
                default:
                {
                    int cp = CodePoint.At(_p, _pos, out int len);
                    _pos += len;
                    return Literal(cp, ci);
                }
            }
        }

        private static SetNode Literal(int cp, bool ci)
        {
            var set = new CodePointSet();
            set.AddRange(cp, cp, ci);
            return new SetNode(set);
        }

        // Returns true if a class escape (\p, \s, ...) was added to 'set'; false with 'literal' for a single code point.
        private bool ParseEscape(CodePointSet set, out int literal, bool inClass)
        {
            _pos++; // '\'
            if (_pos >= _p.Length) throw Error("trailing '\\'");
            char e = _p[_pos++];
            literal = -1;
            switch (e)
            {
                case 'p' or 'P':
                {
                    var cat = new CodePointSet();
                    string name;
                    if (_pos < _p.Length && _p[_pos] == '{')
                    {
                        int close = _p.IndexOf('}', _pos);
                        if (close < 0) throw Error("missing '}'");
                        name = _p.Substring(_pos + 1, close - _pos - 1);
                        _pos = close + 1;
                    }
                    else
                    {
                        if (_pos >= _p.Length) throw Error("bad \\p");
                        name = _p[_pos++].ToString();
                    }
                    bool neg = e == 'P';
                    if (name.StartsWith('^')) { neg = !neg; name = name[1..]; }
                    cat.AddCategory(name, this);
                    set.AddSet(neg ? cat.Negated() : cat);
                    return true;
                }
                case 's': set.AddWhiteSpace(false); return true;
                case 'S': set.AddWhiteSpace(true); return true;
                case 'd': set.AddSet(CodePointSet.FromCategories(1u << (int)UnicodeCategory.DecimalDigitNumber)); return true;
                case 'D': set.AddSet(CodePointSet.FromCategories(1u << (int)UnicodeCategory.DecimalDigitNumber).Negated()); return true;
                case 'w': set.AddSet(CodePointSet.Word()); return true;
                case 'W': set.AddSet(CodePointSet.Word().Negated()); return true;
                case 'r': literal = '\r'; return false;
                case 'n': literal = '\n'; return false;
                case 't': literal = '\t'; return false;
                case 'f': literal = '\f'; return false;
                case 'v': literal = '\v'; return false;
                case 'a': literal = '\a'; return false;
                case 'e': literal = 0x1B; return false;
                case '0': literal = 0; return false;
                case 'x':
                {
                    if (_pos < _p.Length && _p[_pos] == '{')
                    {
                        int close = _p.IndexOf('}', _pos);
                        if (close < 0) throw Error("missing '}'");
                        literal = int.Parse(_p.AsSpan(_pos + 1, close - _pos - 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                        _pos = close + 1;
                    }
                    else
                    {
                        if (_pos + 2 > _p.Length) throw Error("bad \\x");
                        literal = int.Parse(_p.AsSpan(_pos, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                        _pos += 2;
                    }
                    return false;
                }
                case 'u':
                    if (_pos + 4 > _p.Length) throw Error("bad \\u");
                    literal = int.Parse(_p.AsSpan(_pos, 4), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                    _pos += 4;
                    return false;
                default:
                    if (char.IsAsciiLetterOrDigit(e) && !inClass) throw Error($"unsupported escape \\{e}");
                    _pos--;
                    literal = CodePoint.At(_p, _pos, out int len);
                    _pos += len;
                    return false;
            }
        }

        private CodePointSet ParseClass(bool ci)
        {
            _pos++; // '['
            bool negate = false;
            if (_pos < _p.Length && _p[_pos] == '^') { negate = true; _pos++; }
            var set = new CodePointSet();
            bool first = true;
            while (true)
            {
                if (_pos >= _p.Length) throw Error("missing ']'");
                char c = _p[_pos];
                if (c == ']' && !first) { _pos++; break; }
                first = false;
                int lo;
                if (c == '[') throw Error("nested classes");
                if (c == '\\')
                {
                    if (ParseEscape(set, out lo, inClass: true)) continue;
                }
                else
                {
                    lo = CodePoint.At(_p, _pos, out int len);
                    _pos += len;
                }
                if (_pos + 1 < _p.Length && _p[_pos] == '-' && _p[_pos + 1] != ']')
                {
                    _pos++;
                    int hi;
                    if (_p[_pos] == '\\')
                    {
                        if (ParseEscape(new CodePointSet(), out hi, inClass: true)) throw Error("class escape as range end");
                    }
                    else
                    {
                        hi = CodePoint.At(_p, _pos, out int len);
                        _pos += len;
                    }
                    if (hi < lo) throw Error("reversed range");
                    set.AddRange(lo, hi, ci);
                }
                else set.AddRange(lo, lo, ci);
            }
            return negate ? set.Negated() : set;
        }

        internal ModelFormatException UnknownCategory(string name) => Error($"unknown Unicode category '{name}'");
    }

    /// <summary>A set of code points: ranges, general categories and White_Space, optionally negated, with an ASCII bitmap.</summary>
    private sealed class CodePointSet
    {
        private readonly List<(int Lo, int Hi)> _ranges = [];
        private readonly List<CodePointSet> _subsets = [];
        private uint _categories;
        private bool _negated;
        private ulong _ascii0, _ascii1;

        public static CodePointSet Single(int cp) { var s = new CodePointSet(); s._ranges.Add((cp, cp)); return s; }

        public static CodePointSet FromCategories(uint mask) => new() { _categories = mask };

        public static CodePointSet Word()
        {
            var s = FromCategories(LetterMask | MarkMask | (1u << (int)UnicodeCategory.DecimalDigitNumber) | (1u << (int)UnicodeCategory.ConnectorPunctuation));
            return s;
        }

        private const uint LetterMask = (1u << (int)UnicodeCategory.UppercaseLetter) | (1u << (int)UnicodeCategory.LowercaseLetter) |
            (1u << (int)UnicodeCategory.TitlecaseLetter) | (1u << (int)UnicodeCategory.ModifierLetter) | (1u << (int)UnicodeCategory.OtherLetter);
        private const uint MarkMask = (1u << (int)UnicodeCategory.NonSpacingMark) | (1u << (int)UnicodeCategory.SpacingCombiningMark) |
            (1u << (int)UnicodeCategory.EnclosingMark);

        public CodePointSet Negated()
        {
            var s = new CodePointSet { _negated = true };
            s._subsets.Add(this);
            return s;
        }

        public void AddSet(CodePointSet other) => _subsets.Add(other);

        public void AddRange(int lo, int hi, bool caseInsensitive)
        {
            _ranges.Add((lo, hi));
            if (!caseInsensitive || hi - lo > 512) return;
            for (int cp = lo; cp <= hi; cp++)
            {
                if (cp > 0xFFFF) break;
                char ch = (char)cp;
                char up = char.ToUpperInvariant(ch), low = char.ToLowerInvariant(ch);
                if (up != ch) _ranges.Add((up, up));
                if (low != ch) _ranges.Add((low, low));
            }
        }

        public void AddWhiteSpace(bool negate)
        {
            var ws = new CodePointSet();
            ws._ranges.AddRange([(0x09, 0x0D), (0x20, 0x20), (0x85, 0x85), (0xA0, 0xA0), (0x1680, 0x1680), (0x2000, 0x200A),
                (0x2028, 0x2029), (0x202F, 0x202F), (0x205F, 0x205F), (0x3000, 0x3000)]);
            _subsets.Add(negate ? ws.Negated() : ws);
        }

        public void AddCategory(string name, Parser parser)
        {
            uint mask = name switch
            {
                "L" or "Letter" => LetterMask,
                "Lu" => 1u << (int)UnicodeCategory.UppercaseLetter,
                "Ll" => 1u << (int)UnicodeCategory.LowercaseLetter,
                "Lt" => 1u << (int)UnicodeCategory.TitlecaseLetter,
                "Lm" => 1u << (int)UnicodeCategory.ModifierLetter,
                "Lo" => 1u << (int)UnicodeCategory.OtherLetter,
                "M" or "Mark" => MarkMask,
                "Mn" => 1u << (int)UnicodeCategory.NonSpacingMark,
                "Mc" => 1u << (int)UnicodeCategory.SpacingCombiningMark,
                "Me" => 1u << (int)UnicodeCategory.EnclosingMark,
                "N" or "Number" => (1u << (int)UnicodeCategory.DecimalDigitNumber) | (1u << (int)UnicodeCategory.LetterNumber) | (1u << (int)UnicodeCategory.OtherNumber),
                "Nd" => 1u << (int)UnicodeCategory.DecimalDigitNumber,
                "Nl" => 1u << (int)UnicodeCategory.LetterNumber,
                "No" => 1u << (int)UnicodeCategory.OtherNumber,
                "P" or "Punctuation" => (1u << (int)UnicodeCategory.ConnectorPunctuation) | (1u << (int)UnicodeCategory.DashPunctuation) |
                    (1u << (int)UnicodeCategory.OpenPunctuation) | (1u << (int)UnicodeCategory.ClosePunctuation) |
                    (1u << (int)UnicodeCategory.InitialQuotePunctuation) | (1u << (int)UnicodeCategory.FinalQuotePunctuation) |
                    (1u << (int)UnicodeCategory.OtherPunctuation),
                "Pc" => 1u << (int)UnicodeCategory.ConnectorPunctuation,
                "Pd" => 1u << (int)UnicodeCategory.DashPunctuation,
                "Ps" => 1u << (int)UnicodeCategory.OpenPunctuation,
                "Pe" => 1u << (int)UnicodeCategory.ClosePunctuation,
                "Pi" => 1u << (int)UnicodeCategory.InitialQuotePunctuation,
                "Pf" => 1u << (int)UnicodeCategory.FinalQuotePunctuation,
                "Po" => 1u << (int)UnicodeCategory.OtherPunctuation,
                "S" or "Symbol" => (1u << (int)UnicodeCategory.MathSymbol) | (1u << (int)UnicodeCategory.CurrencySymbol) |
                    (1u << (int)UnicodeCategory.ModifierSymbol) | (1u << (int)UnicodeCategory.OtherSymbol),
                "Sm" => 1u << (int)UnicodeCategory.MathSymbol,
                "Sc" => 1u << (int)UnicodeCategory.CurrencySymbol,
                "Sk" => 1u << (int)UnicodeCategory.ModifierSymbol,
                "So" => 1u << (int)UnicodeCategory.OtherSymbol,
                "Z" or "Separator" => (1u << (int)UnicodeCategory.SpaceSeparator) | (1u << (int)UnicodeCategory.LineSeparator) | (1u << (int)UnicodeCategory.ParagraphSeparator),
                "Zs" => 1u << (int)UnicodeCategory.SpaceSeparator,
                "Zl" => 1u << (int)UnicodeCategory.LineSeparator,
                "Zp" => 1u << (int)UnicodeCategory.ParagraphSeparator,
                "C" or "Other" => (1u << (int)UnicodeCategory.Control) | (1u << (int)UnicodeCategory.Format) | (1u << (int)UnicodeCategory.Surrogate) |
                    (1u << (int)UnicodeCategory.PrivateUse) | (1u << (int)UnicodeCategory.OtherNotAssigned),
                "Cc" => 1u << (int)UnicodeCategory.Control,
                "Cf" => 1u << (int)UnicodeCategory.Format,
                "Cs" => 1u << (int)UnicodeCategory.Surrogate,
                "Co" => 1u << (int)UnicodeCategory.PrivateUse,
                "Cn" => 1u << (int)UnicodeCategory.OtherNotAssigned,
                _ => throw parser.UnknownCategory(name),
            };
            _categories |= mask;
        }

        public bool Contains(int cp)
        {
            if (cp < 128)
            {
                return cp < 64 ? (_ascii0 >> cp & 1) != 0 : (_ascii1 >> (cp - 64) & 1) != 0;
            }
            return ContainsSlow(cp);
        }

        /// <summary>Builds the ASCII bitmaps (of this set and its subsets) once, before any matching, so matching never writes.</summary>
        public void Prepare()
        {
            foreach (CodePointSet sub in _subsets) sub.Prepare();
            ulong a0 = 0, a1 = 0;
            for (int cp = 0; cp < 128; cp++)
            {
                if (!ContainsSlow(cp)) continue;
                if (cp < 64) a0 |= 1UL << cp; else a1 |= 1UL << (cp - 64);
            }
            _ascii0 = a0;
            _ascii1 = a1;
        }

        private bool ContainsSlow(int cp)
        {
            bool hit = false;
            for (int i = 0; i < _ranges.Count; i++)
            {
                if (cp >= _ranges[i].Lo && cp <= _ranges[i].Hi) { hit = true; break; }
            }
            if (!hit && _categories != 0)
                hit = (_categories >> (int)CodePoint.Category(cp) & 1) != 0;
            if (!hit)
            {
                for (int i = 0; i < _subsets.Count; i++)
                {
                    if (_subsets[i].Contains(cp)) { hit = true; break; }
                }
            }
            return hit != _negated;
        }
    }
}

/// <summary>Code point helpers over UTF-16 that treat a lone surrogate as one code point.</summary>
internal static class CodePoint
{
    public static int At(ReadOnlySpan<char> s, int i, out int length)
    {
        char c = s[i];
        if (char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
        {
            length = 2;
            return char.ConvertToUtf32(c, s[i + 1]);
        }
        length = 1;
        return c;
    }

    public static int LengthAt(ReadOnlySpan<char> s, int i) =>
        char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]) ? 2 : 1;

    public static UnicodeCategory Category(int cp) =>
        cp is >= 0xD800 and <= 0xDFFF ? UnicodeCategory.Surrogate : CharUnicodeInfo.GetUnicodeCategory(cp);

    /// <summary>Appends the UTF-8 bytes of <paramref name="s"/>; lone surrogates become U+FFFD, as Rust's strings would hold them.</summary>
    public static int Utf8(ReadOnlySpan<char> s, Span<byte> dst) => Encoding.UTF8.GetBytes(s, dst);
}
