using System.Globalization;
using System.Text;
using static SharpSeek.Structured.GrammarExpr;

namespace SharpSeek.Structured;

/// <summary>
/// Compiles a JSON Schema <c>pattern</c> (an ECMA-262 regular expression, matched anywhere in the string unless anchored)
/// into the JSON string content it allows. Supported: literals, escapes, <c>.</c>, classes, <c>\d \w \s</c> and their
/// negations, groups, alternation, greedy and lazy quantifiers, and <c>^</c>/<c>$</c> at the ends of top-level alternatives.
/// Lookarounds, backreferences, word boundaries and flags-dependent syntax are refused.
/// <para>
/// Validators disagree on details (UTF-16 code units or code points; ASCII or Unicode <c>\d \w \s</c>), so wherever
/// they could differ the generated strings stay inside what all of them accept: <c>.</c> and negated sets produce only
/// Basic Multilingual Plane characters, positive escapes their ASCII members, and negated escapes exclude every
/// character any of them counts as a digit, word or space character.
/// </para>
/// </summary>
public static class PatternGrammar
{
    private const int MaxRepeat = 1000;

    /// <summary>Characters of the Basic Multilingual Plane (no surrogates): one UTF-16 code unit each.</summary>
    private static readonly SymbolSet Bmp = SymbolSet.FromRanges([(0, 0xD7FF), (0xE000, 0xFFFF)]);

    private static readonly SymbolSet LineTerminators = SymbolSet.FromRanges([('\n', '\n'), ('\r', '\r'), (0x2028, 0x2029)]);
    private static readonly SymbolSet AsciiDigits = SymbolSet.Range('0', '9');
    private static readonly SymbolSet AsciiWord = SymbolSet.FromRanges([('0', '9'), ('A', 'Z'), ('_', '_'), ('a', 'z')]);
    private static readonly SymbolSet AsciiSpace = SymbolSet.FromRanges([('\t', '\r'), (' ', ' ')]);

    // What any dialect may count as a digit, word or space character (Unicode categories as .NET's default mode reads them).
    private static readonly Lazy<SymbolSet> AnyDigit = new(() => Category(c => c == UnicodeCategory.DecimalDigitNumber).Union(AsciiDigits));
    private static readonly Lazy<SymbolSet> AnyWord = new(() => Category(c => c is UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter
        or UnicodeCategory.TitlecaseLetter or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter or UnicodeCategory.NonSpacingMark
        or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark or UnicodeCategory.DecimalDigitNumber
        or UnicodeCategory.ConnectorPunctuation).Union(AsciiWord).Union(SymbolSet.FromRanges([(0x200C, 0x200D)])));
    private static readonly Lazy<SymbolSet> AnySpace = new(() => Category(c => c is UnicodeCategory.SpaceSeparator or UnicodeCategory.LineSeparator
        or UnicodeCategory.ParagraphSeparator).Union(AsciiSpace).Union(SymbolSet.FromRanges([(0x85, 0x85), (0xA0, 0xA0), (0xFEFF, 0xFEFF)])));

    private static SymbolSet Category(Func<UnicodeCategory, bool> pick)
    {
        var ranges = new List<(int, int)>();
        for (int c = 0; c <= 0xFFFF; c++)
        {
            if (c is >= 0xD800 and <= 0xDFFF || !pick(CharUnicodeInfo.GetUnicodeCategory((char)c))) continue;
            if (ranges.Count > 0 && ranges[^1].Item2 == c - 1) ranges[^1] = (ranges[^1].Item1, c);
            else ranges.Add((c, c));
        }
        return SymbolSet.FromRanges(ranges);
    }

    /// <summary>The JSON string content (without quotes) whose value matches <paramref name="pattern"/>.</summary>
    /// <exception cref="PatternException">the pattern is invalid or uses unsupported syntax.</exception>
    public static GrammarExpr Content(string pattern)
    {
        var parser = new Parser(pattern);
        var alternatives = parser.ParseTop();
        var any = Star(JsonGrammar.StringCharacter);
        var alts = new List<GrammarExpr>();
        foreach (var (startAnchor, body, endAnchor) in alternatives)
            alts.Add(Seq(startAnchor ? Empty : any, body, endAnchor ? Empty : any));
        return Alt([.. alts]);
    }

    /// <summary>A set of characters as the regex means it: <see cref="Sure"/> ⊆ what every dialect matches, <see cref="Maybe"/> ⊇ what any dialect matches.</summary>
    private readonly record struct CharClass(SymbolSet Sure, SymbolSet Maybe)
    {
        public static CharClass Exact(SymbolSet s) => new(s, s);
        public CharClass Negate() => new(Bmp.Minus(Maybe), Utf8Ranges.Scalars.Minus(Sure));
        public CharClass Union(CharClass o) => new(Sure.Union(o.Sure), Maybe.Union(o.Maybe));
    }

    private sealed class Parser(string p)
    {
        private int _i;

        private PatternException Error(string what) => new($"pattern /{p}/ at offset {_i}: {what}");

        public List<(bool Start, GrammarExpr Body, bool End)> ParseTop()
        {
            var result = new List<(bool, GrammarExpr, bool)>();
            while (true)
            {
                bool start = Eat('^');
                var terms = new List<GrammarExpr>();
                bool end = false;
                while (_i < p.Length && p[_i] != '|')
                {
                    if (p[_i] == '$')
                    {
                        _i++;
                        if (_i < p.Length && p[_i] != '|') throw Error("'$' is supported only at the end of the pattern or of a top-level alternative");
                        end = true;
                        break;
                    }
                    if (p[_i] == ')') throw Error("unbalanced ')'");
                    terms.Add(ParseTerm());
                }
                result.Add((start, Seq([.. terms]), end));
                if (!Eat('|')) break;
            }
            return result;
        }

        private GrammarExpr ParseDisjunction()
        {
            var alts = new List<GrammarExpr>();
            while (true)
            {
                var terms = new List<GrammarExpr>();
                while (_i < p.Length && p[_i] != '|' && p[_i] != ')') terms.Add(ParseTerm());
                alts.Add(Seq([.. terms]));
                if (!Eat('|')) break;
            }
            return Alt([.. alts]);
        }

        private bool Eat(char c)
        {
            if (_i < p.Length && p[_i] == c) { _i++; return true; }
            return false;
        }

        private GrammarExpr ParseTerm()
        {
            char c = p[_i];
            if (c is '^' or '$') throw Error($"'{c}' is supported only at the start/end of the pattern or of a top-level alternative");
            if (c is '*' or '+' or '?') throw Error($"'{c}' has nothing to repeat");
            GrammarExpr atom;
            if (c == '(')
            {
                _i++;
                if (Eat('?'))
                {
                    if (Eat(':')) { }
                    else if (_i < p.Length && p[_i] == '<' && _i + 1 < p.Length && p[_i + 1] is not ('=' or '!'))
                    {
                        int close = p.IndexOf('>', _i);
                        if (close < 0) throw Error("unterminated group name");
                        _i = close + 1;
                    }
                    else throw Error("lookaround assertions are not supported");
                }
                atom = ParseDisjunction();
                if (!Eat(')')) throw Error("missing ')'");
            }
            else if (c == '[') atom = JsonGrammar.CharacterOf(ParseClass().Sure);
            else if (c == '.')
            {
                _i++;
                atom = JsonGrammar.CharacterOf(Bmp.Minus(LineTerminators));
            }
            else if (c == '\\')
            {
                _i++;
                var cls = ParseEscape(inClass: false);
                atom = JsonGrammar.CharacterOf(cls.Sure);
            }
            else if (c == '{' && IsQuantifierAt(_i)) throw Error("'{' has nothing to repeat");
            else
            {
                var rune = ReadRune();
                _i += rune.Utf16SequenceLength;
                atom = JsonGrammar.CharacterOf(SymbolSet.Of(rune.Value));
            }
            return ParseQuantifier(atom);
        }

        private bool IsQuantifierAt(int at)
        {
            int j = at + 1, digits = 0;
            while (j < p.Length && char.IsAsciiDigit(p[j])) { j++; digits++; }
            if (digits == 0) return false;
            if (j < p.Length && p[j] == '}') return true;
            if (j >= p.Length || p[j] != ',') return false;
            j++;
            while (j < p.Length && char.IsAsciiDigit(p[j])) j++;
            return j < p.Length && p[j] == '}';
        }

        private GrammarExpr ParseQuantifier(GrammarExpr atom)
        {
            if (_i >= p.Length) return atom;
            int min, max;
            switch (p[_i])
            {
                case '*': min = 0; max = -1; _i++; break;
                case '+': min = 1; max = -1; _i++; break;
                case '?': min = 0; max = 1; _i++; break;
                case '{' when IsQuantifierAt(_i):
                {
                    _i++;
                    min = ReadInt();
                    max = min;
                    if (Eat(','))
                        max = _i < p.Length && char.IsAsciiDigit(p[_i]) ? ReadInt() : -1;
                    _i++;   // '}'
                    if (max >= 0 && max < min) throw Error($"quantifier {{{min},{max}}} is out of order");
                    break;
                }
                default: return atom;
            }
            if (min > MaxRepeat || max > MaxRepeat) throw Error($"repetition counts above {MaxRepeat} are not supported");
            Eat('?');   // lazy: the same language
            if (_i < p.Length && p[_i] is '*' or '+' or '?' || _i < p.Length && p[_i] == '{' && IsQuantifierAt(_i)) throw Error("nothing to repeat");
            return Repeat(atom, min, max);
        }

        private int ReadInt()
        {
            long v = 0;
            while (_i < p.Length && char.IsAsciiDigit(p[_i]))
            {
                v = v * 10 + (p[_i++] - '0');
                if (v > int.MaxValue) throw Error("repetition count is too large");
            }
            return (int)v;
        }

        private CharClass ParseClass()
        {
            _i++;   // '['
            bool negate = Eat('^');
            var acc = CharClass.Exact(SymbolSet.Empty);
            bool first = true;
            while (true)
            {
                if (_i >= p.Length) throw Error("missing ']'");
                if (p[_i] == ']')
                {
                    if (first) throw Error("an empty class '[]' is read differently by different dialects");
                    _i++;
                    break;
                }
                first = false;
                var lo = ClassAtom();
                if (_i + 1 < p.Length && p[_i] == '-' && p[_i + 1] != ']')
                {
                    _i++;
                    var hi = ClassAtom();
                    if (lo.Single is not int a || hi.Single is not int b) throw Error("a class range needs single characters at both ends");
                    if (a > b) throw Error("class range out of order");
                    acc = acc.Union(CharClass.Exact(SymbolSet.Range(a, b)));
                }
                else acc = acc.Union(lo.Class);
            }
            return negate ? acc.Negate() : acc;
        }

        private (CharClass Class, int? Single) ClassAtom()
        {
            if (p[_i] == '\\')
            {
                _i++;
                if (_i < p.Length && p[_i] == 'b') { _i++; return (CharClass.Exact(SymbolSet.Of(8)), 8); }
                if (_i < p.Length && p[_i] == '-') { _i++; return (CharClass.Exact(SymbolSet.Of('-')), '-'); }
                var cls = ParseEscape(inClass: true);
                int? single = cls.Sure.Equals(cls.Maybe) && cls.Sure.Ranges.Count == 1 && cls.Sure.Ranges[0].Lo == cls.Sure.Ranges[0].Hi ? cls.Sure.Ranges[0].Lo : null;
                return (cls, single);
            }
            var rune = ReadRune();
            if (rune.Value > 0xFFFF) throw Error("characters outside the Basic Multilingual Plane in a class are not supported (dialects disagree on them)");
            _i += rune.Utf16SequenceLength;
            return (CharClass.Exact(SymbolSet.Of(rune.Value)), rune.Value);
        }

        /// <summary>After a backslash.</summary>
        private CharClass ParseEscape(bool inClass)
        {
            if (_i >= p.Length) throw Error("the pattern ends with a backslash");
            char c = p[_i++];
            switch (c)
            {
                case 'd': return new CharClass(AsciiDigits, AnyDigit.Value);
                case 'D': return new CharClass(AsciiDigits, AnyDigit.Value).Negate();
                case 'w': return new CharClass(AsciiWord, AnyWord.Value);
                case 'W': return new CharClass(AsciiWord, AnyWord.Value).Negate();
                case 's': return new CharClass(AsciiSpace, AnySpace.Value);
                case 'S': return new CharClass(AsciiSpace, AnySpace.Value).Negate();
                case 't': return One('\t');
                case 'n': return One('\n');
                case 'v': return One('\v');
                case 'f': return One('\f');
                case 'r': return One('\r');
                case '0' when _i >= p.Length || !char.IsAsciiDigit(p[_i]): return One(0);
                case 'c' when _i < p.Length && char.IsAsciiLetter(p[_i]): return One(p[_i++] % 32);
                case 'x': return One(Hex(2));
                case 'u':
                    if (_i < p.Length && p[_i] == '{') throw Error("\\u{...} needs the unicode flag, which JSON Schema patterns do not set");
                    int u = Hex(4);
                    if (u is >= 0xD800 and <= 0xDFFF) throw Error("surrogate escapes are not supported");
                    return One(u);
                case 'b' or 'B': throw Error("word boundaries are not supported");
                case 'k': throw Error("named backreferences are not supported");
                case 'p' or 'P': throw Error("Unicode property escapes are not supported");
                default:
                    if (char.IsAsciiDigit(c)) throw Error("backreferences are not supported");
                    if (char.IsAsciiLetterOrDigit(c)) throw Error($"unknown escape '\\{c}'");
                    if (char.IsSurrogate(c)) { _i--; var r = ReadRune(); _i += r.Utf16SequenceLength; return One(r.Value); }
                    return One(c);
            }
        }

        private Rune ReadRune() =>
            Rune.DecodeFromUtf16(p.AsSpan(_i), out var rune, out _) == System.Buffers.OperationStatus.Done ? rune : throw Error("a lone surrogate is not a character");

        private static CharClass One(int c) => CharClass.Exact(SymbolSet.Of(c));

        private int Hex(int digits)
        {
            if (_i + digits > p.Length) throw Error("incomplete hexadecimal escape");
            int v = 0;
            for (int k = 0; k < digits; k++)
            {
                char h = p[_i++];
                int d = char.IsAsciiDigit(h) ? h - '0' : h is >= 'a' and <= 'f' ? h - 'a' + 10 : h is >= 'A' and <= 'F' ? h - 'A' + 10 : throw Error("bad hexadecimal escape");
                v = v * 16 + d;
            }
            return v;
        }
    }
}

/// <summary>A <c>pattern</c> that is not a valid regular expression, or uses syntax the grammar cannot express exactly.</summary>
public sealed class PatternException(string message) : SharpSeekException(message);
