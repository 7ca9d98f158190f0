using System.Numerics;
using System.Text;
using System.Text.Json;
using static SharpSeek.Structured.GrammarExpr;

namespace SharpSeek.Structured;

/// <summary>
/// The pieces of compact JSON (RFC 8259 without optional whitespace) as grammar expressions: string characters,
/// strings, numbers, exact integer ranges, literal values, and the "any JSON value" rules.
/// <para>
/// Numbers and nesting are bounded so a sampled output always ends: integers have at most
/// <see cref="MaxIntegerDigits"/> digits unless a bound asks for more, fractions at most <see cref="MaxFractionDigits"/>,
/// exponents two digits, and a free-form value nests at most <see cref="AnyValueDepth"/> levels.
/// </para>
/// </summary>
public static class JsonGrammar
{
    public const int MaxIntegerDigits = 16;
    public const int MaxFractionDigits = 16;
    public const int AnyValueDepth = 16;

    private static readonly GrammarExpr Digit = ByteRange('0', '9');
    private static readonly GrammarExpr Hex = Symbols(SymbolSet.FromRanges([('0', '9'), ('A', 'F'), ('a', 'f')]));

    /// <summary>Code points a JSON string may hold unescaped: U+0020 and up, except <c>"</c> and <c>\</c>.</summary>
    public static SymbolSet RawCharacters { get; } = Utf8Ranges.Scalars.Intersect(SymbolSet.Range(0x20, 0x10FFFF)).Minus(SymbolSet.FromRanges([('"', '"'), ('\\', '\\')]));

    /// <summary>
    /// One character of a JSON string: raw UTF-8, a short escape (<c>\" \\ \/ \b \f \n \r \t</c>) or <c>\uXXXX</c> of a
    /// non-surrogate (a lone surrogate would not be Unicode, and raw UTF-8 writes every astral character).
    /// </summary>
    public static GrammarExpr StringCharacter { get; } = GrammarAutomaton.Minimal(Alt(
        Utf8Ranges.Expr(RawCharacters),
        Seq(Byte((byte)'\\'), Alt(
            Symbols(SymbolSet.FromRanges([('"', '"'), ('\\', '\\'), ('/', '/'), ('b', 'b'), ('f', 'f'), ('n', 'n'), ('r', 'r'), ('t', 't')])),
            Seq(Byte((byte)'u'), Alt(
                Seq(Symbols(SymbolSet.FromRanges([('0', '9'), ('A', 'C'), ('E', 'F'), ('a', 'c'), ('e', 'f')])), Hex, Hex, Hex),
                Seq(Symbols(SymbolSet.FromRanges([('D', 'D'), ('d', 'd')])), ByteRange('0', '7'), Hex, Hex)))))));

    /// <summary>
    /// One character from <paramref name="codePoints"/> in a JSON string: raw UTF-8 where JSON allows it, else its
    /// escape (<c>\"</c>, <c>\\</c>, the short control escapes, or <c>\u00XX</c>).
    /// </summary>
    public static GrammarExpr CharacterOf(SymbolSet codePoints) => CharacterCache.GetOrAdd(codePoints, static set => GrammarAutomaton.Minimal(CharacterAlternatives(set)));

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<SymbolSet, GrammarExpr> CharacterCache = new();

    private static GrammarExpr CharacterAlternatives(SymbolSet codePoints)
    {
        var alts = new List<GrammarExpr>();
        var raw = codePoints.Intersect(RawCharacters);
        if (!raw.IsEmpty) alts.Add(Utf8Ranges.Expr(raw));
        foreach (var (lo, hi) in codePoints.Intersect(SymbolSet.FromRanges([(0, 0x1F), ('"', '"'), ('\\', '\\')])).Ranges)
            for (int c = lo; c <= hi; c++) alts.Add(Escape(c));
        return alts.Count == 0 ? Nothing : Alt([.. alts]);
    }

    private static GrammarExpr Escape(int c) => c switch
    {
        '"' => Literal("\\\""),
        '\\' => Literal("\\\\"),
        '\b' => Literal("\\b"),
        '\f' => Literal("\\f"),
        '\n' => Literal("\\n"),
        '\r' => Literal("\\r"),
        '\t' => Literal("\\t"),
        _ => Seq(Literal("\\u00"), HexDigit(c >> 4), HexDigit(c & 15)),
    };

    private static GrammarExpr HexDigit(int v) => v < 10 ? Byte((byte)('0' + v)) : Symbols(SymbolSet.FromRanges([('a' + v - 10, 'a' + v - 10), ('A' + v - 10, 'A' + v - 10)]));

    /// <summary>A string of any length, with its quotes.</summary>
    public static GrammarExpr String() => String(StringCharacter, 0, -1);

    /// <summary>
    /// A string of <paramref name="min"/> to <paramref name="max"/> (-1: any number of) characters, with its quotes.
    /// Validators count length differently (code points as the specification says, UTF-16 units, or user-perceived
    /// characters as JsonSchema.Net and .NET's <c>StringInfo</c> do), so a counted string uses only
    /// <see cref="CountableCharacters"/>, on which all three agree.
    /// </summary>
    public static GrammarExpr CountedString(int min, int max) => String(CountedCharacter.Value, min, max);

    private static readonly Lazy<GrammarExpr> CountedCharacter = new(() => CharacterOf(CountableCharacters));

    /// <summary>
    /// Characters that count as one under every reading of "length": in the Basic Multilingual Plane (one UTF-16 unit),
    /// and each its own grapheme cluster next to anything else allowed here (no combining marks, joiners, Hangul jamo,
    /// prepended or spacing marks, or carriage return), checked against .NET's own text-element segmentation. Drawn from
    /// the main alphabetic and CJK blocks, so the set has few holes and its UTF-8 automaton stays small.
    /// </summary>
    public static SymbolSet CountableCharacters => Countable.Value;

    private static readonly (int Lo, int Hi)[] CountableBlocks =
    [
        (0x09, 0x0A), (0x20, 0x7E),     // tab, newline, ASCII
        (0xA0, 0x24F),                  // Latin-1 Supplement, Latin Extended-A and -B
        (0x370, 0x4FF),                 // Greek and Coptic, Cyrillic
        (0x5D0, 0x5EA),                 // Hebrew letters
        (0x621, 0x64A),                 // Arabic letters
        (0x2010, 0x2027), (0x2030, 0x205E), // general punctuation
        (0x3000, 0x30FF),               // CJK symbols, Hiragana, Katakana
        (0x4E00, 0x9FFF),               // CJK unified ideographs
        (0xAC00, 0xD7A3),               // Hangul syllables
        (0xFF01, 0xFF5E),               // fullwidth forms
    ];

    private static readonly Lazy<SymbolSet> Countable = new(() =>
    {
        var ranges = new List<(int, int)>();
        foreach (var (lo, hi) in CountableBlocks)
            for (int c = lo; c <= hi; c++)
            {
                var cat = System.Globalization.CharUnicodeInfo.GetUnicodeCategory((char)c);
                if (cat is System.Globalization.UnicodeCategory.NonSpacingMark or System.Globalization.UnicodeCategory.SpacingCombiningMark
                    or System.Globalization.UnicodeCategory.EnclosingMark or System.Globalization.UnicodeCategory.Format
                    or System.Globalization.UnicodeCategory.OtherNotAssigned) continue;
                string ch = ((char)c).ToString();
                if (new System.Globalization.StringInfo("a" + ch).LengthInTextElements != 2 || new System.Globalization.StringInfo(ch + "a").LengthInTextElements != 2
                    || new System.Globalization.StringInfo(ch + ch).LengthInTextElements != 2) continue;
                if (ranges.Count > 0 && ranges[^1].Item2 == c - 1) ranges[^1] = (ranges[^1].Item1, c);
                else ranges.Add((c, c));
            }
        return SymbolSet.FromRanges(ranges);
    });

    public static GrammarExpr String(GrammarExpr character, int min, int max) =>
        Seq(Byte((byte)'"'), Repeat(character, min, max), Byte((byte)'"'));

    /// <summary>An integer without leading zeros (or <c>-0</c>), at most <see cref="MaxIntegerDigits"/> digits.</summary>
    public static GrammarExpr Integer { get; } = Alt(Byte((byte)'0'), Seq(Optional(Byte((byte)'-')), ByteRange('1', '9'), Repeat(Digit, 0, MaxIntegerDigits - 1)));

    /// <summary>A JSON number: integer part, optional fraction, optional exponent of one or two digits.</summary>
    public static GrammarExpr Number { get; } = Seq(
        Alt(Seq(Optional(Byte((byte)'-')), Byte((byte)'0')), Seq(Optional(Byte((byte)'-')), ByteRange('1', '9'), Repeat(Digit, 0, MaxIntegerDigits - 1))),
        Optional(Seq(Byte((byte)'.'), Repeat(Digit, 1, MaxFractionDigits))),
        Optional(Seq(Symbols(SymbolSet.FromRanges([('e', 'e'), ('E', 'E')])), Optional(Symbols(SymbolSet.FromRanges([('+', '+'), ('-', '-')]))), Repeat(Digit, 1, 2))));

    public static GrammarExpr Boolean { get; } = Alt(Literal("true"), Literal("false"));

    public static GrammarExpr Null { get; } = Literal("null");

    /// <summary>
    /// The integers in [<paramref name="min"/>, <paramref name="max"/>] written without leading zeros; a missing bound is
    /// <see cref="MaxIntegerDigits"/> digits (or the other bound's digits, if that is more).
    /// </summary>
    public static GrammarExpr IntegerRange(BigInteger? min, BigInteger? max)
    {
        BigInteger limit = BigInteger.Pow(10, MaxIntegerDigits) - 1;
        BigInteger lo = min ?? (max is { } m0 && m0 < -limit ? m0 - limit : -limit);
        BigInteger hi = max ?? (min is { } m1 && m1 > limit ? m1 + limit : limit);
        if (lo > hi) return Nothing;
        var alts = new List<GrammarExpr>();
        if (lo < 0) alts.Add(Seq(Byte((byte)'-'), Unsigned(BigInteger.Max(1, -BigInteger.Min(hi, -1)), -lo)));
        if (hi >= 0) alts.Add(Unsigned(BigInteger.Max(lo, 0), hi));
        return Alt([.. alts]);
    }

    /// <summary>Decimal strings of the integers in [a, b], 0 ≤ a ≤ b, by length and then digit by digit.</summary>
    private static GrammarExpr Unsigned(BigInteger a, BigInteger b)
    {
        var alts = new List<GrammarExpr>();
        int la = a.ToString().Length, lb = b.ToString().Length;
        for (int len = la; len <= lb; len++)
        {
            BigInteger low = len == 1 ? 0 : BigInteger.Pow(10, len - 1), high = BigInteger.Pow(10, len) - 1;
            BigInteger x = BigInteger.Max(a, low), y = BigInteger.Min(b, high);
            if (x <= y) alts.Add(SameLength(x.ToString(), y.ToString()));
        }
        return Alt([.. alts]);
    }

    private static GrammarExpr SameLength(string x, string y)
    {
        if (x.Length == 0) return Empty;
        int rest = x.Length - 1;
        if (x[0] == y[0]) return Seq(Byte((byte)x[0]), SameLength(x[1..], y[1..]));
        if (x[1..].All(c => c == '0') && y[1..].All(c => c == '9')) return Seq(ByteRange(x[0], y[0]), Repeat(Digit, rest, rest));
        var alts = new List<GrammarExpr> { Seq(Byte((byte)x[0]), SameLength(x[1..], new string('9', rest))) };
        if (y[0] - x[0] > 1) alts.Add(Seq(ByteRange(x[0] + 1, y[0] - 1), Repeat(Digit, rest, rest)));
        alts.Add(Seq(Byte((byte)y[0]), SameLength(new string('0', rest), y[1..])));
        return Alt([.. alts]);
    }

    /// <summary>The compact JSON text of <paramref name="value"/> (object members in their order, strings minimally escaped).</summary>
    public static string Compact(JsonElement value)
    {
        var sb = new StringBuilder();
        WriteCompact(sb, value);
        return sb.ToString();
    }

    private static void WriteCompact(StringBuilder sb, JsonElement e)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.Object:
                sb.Append('{');
                bool first = true;
                foreach (var p in e.EnumerateObject())
                {
                    if (!first) sb.Append(',');
                    first = false;
                    WriteString(sb, p.Name);
                    sb.Append(':');
                    WriteCompact(sb, p.Value);
                }
                sb.Append('}');
                break;
            case JsonValueKind.Array:
                sb.Append('[');
                int i = 0;
                foreach (var item in e.EnumerateArray())
                {
                    if (i++ > 0) sb.Append(',');
                    WriteCompact(sb, item);
                }
                sb.Append(']');
                break;
            case JsonValueKind.String:
                WriteString(sb, e.GetString()!);
                break;
            default:
                sb.Append(e.GetRawText());
                break;
        }
    }

    /// <summary>
    /// Appends <paramref name="s"/> as a JSON string, escaping only what JSON requires: the escaping of Python's
    /// <c>json.dumps(ensure_ascii=False)</c>, which the chat templates' <c>tojson</c> also writes.
    /// </summary>
    public static void WriteString(StringBuilder sb, string s) => sb.Append(Chat.Jinja.JinjaJson.Quote(s, ensureAscii: false));

    /// <summary>
    /// Adds the rules of a free-form JSON value to <paramref name="grammar"/>: one rule for strings, one for numbers, and one
    /// per nesting level (the deepest allows only scalars and empty containers). Returns the outermost value rule.
    /// </summary>
    public static AnyValueRules AddAnyValue(Grammar grammar)
    {
        int str = grammar.AddRule("json-string");
        grammar.Define(str, String());
        int num = grammar.AddRule("json-number");
        grammar.Define(num, Number);
        var values = new int[AnyValueDepth];
        for (int d = 0; d < AnyValueDepth; d++) values[d] = grammar.AddRule($"json-value-{d}");
        int object0 = grammar.AddRule("json-object");
        for (int d = 0; d < AnyValueDepth; d++)
        {
            GrammarExpr obj, arr;
            if (d + 1 < AnyValueDepth)
            {
                var inner = Ref(values[d + 1]);
                var member = Seq(Ref(str), Byte((byte)':'), inner);
                obj = Seq(Byte((byte)'{'), Optional(Seq(member, Star(Seq(Byte((byte)','), member)))), Byte((byte)'}'));
                arr = Seq(Byte((byte)'['), Optional(Seq(inner, Star(Seq(Byte((byte)','), inner)))), Byte((byte)']'));
            }
            else
            {
                obj = Literal("{}");
                arr = Literal("[]");
            }
            if (d == 0) grammar.Define(object0, obj);
            grammar.Define(values[d], Alt(Ref(str), Ref(num), Boolean, Null, obj, arr));
        }
        return new AnyValueRules(values[0], object0, str);
    }
}

/// <summary>The rules <see cref="JsonGrammar.AddAnyValue"/> added: any value, any object, any string.</summary>
public readonly record struct AnyValueRules(int Value, int Object, int String);
