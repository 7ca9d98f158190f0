using System.Numerics;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using SharpSeek.Structured;
using static SharpSeek.Structured.GrammarExpr;

namespace SharpSeek.Tests.Structured;

/// <summary>The grammar machinery byte by byte: automata, UTF-8 ranges, JSON lexical pieces, integer ranges, patterns, formats.</summary>
public sealed class GrammarTests
{
    private static TokenGrammar G(GrammarExpr e) => GrammarKit.ForBytes(Grammar.Of(e));

    [Fact]
    public void Alternation_repetition_and_rules_match_exactly_their_language()
    {
        var g = new Grammar();
        int list = g.AddRule("list");
        // root := '(' list ')' ; list := item (',' item)* ; item := 'a'+ | root   (nesting through a rule)
        var item = Alt(Repeat(Literal("a"), 1, 3), Ref(0));
        g.Define(0, Seq(Literal("("), Ref(list), Literal(")")));
        g.Define(list, Seq(item, Star(Seq(Literal(","), item))));
        var tg = GrammarKit.ForBytes(g);
        foreach (string ok in (string[])["(a)", "(aaa)", "(a,aa)", "((a))", "(a,(aa,(a)),a)"]) Assert.True(GrammarKit.Matches(tg, ok), ok);
        foreach (string bad in (string[])["", "()", "(aaaa)", "(a,)", "((a)", "(a))", "(a)(a)", "(b)"]) Assert.False(GrammarKit.Matches(tg, bad), bad);
    }

    [Fact]
    public void Utf8_ranges_encode_exactly_the_set()
    {
        var rng = new Random(7);
        Span<byte> buf = stackalloc byte[4];
        for (int trial = 0; trial < 6; trial++)
        {
            var ranges = new List<(int, int)>();
            for (int k = 0; k < 4; k++)
            {
                int a = rng.Next(0x110000), b = Math.Min(0x10FFFF, a + rng.Next(trial < 3 ? 300 : 200_000));
                ranges.Add((a, b));
            }
            var set = SymbolSet.FromRanges(ranges).Intersect(Utf8Ranges.Scalars);
            var seqs = Utf8Ranges.Sequences(set);
            for (int cp = 0; cp <= 0x10FFFF; cp += cp < 0x3000 ? 1 : 7)
            {
                if (cp is >= 0xD800 and <= 0xDFFF) continue;
                int n = new Rune(cp).EncodeToUtf8(buf);
                int hits = 0;
                foreach (var seq in seqs)
                {
                    if (seq.Length != n) continue;
                    bool all = true;
                    for (int i = 0; i < n; i++) all &= buf[i] >= seq[i].Lo && buf[i] <= seq[i].Hi;
                    if (all) hits++;
                }
                Assert.Equal(set.Contains(cp) ? 1 : 0, hits);
            }
        }
    }

    [Fact]
    public void Json_strings_take_valid_utf8_and_escapes_only()
    {
        var g = G(JsonGrammar.String());
        foreach (string ok in (string[])["\"\"", "\"abc\"", "\"é中😀\"", "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "\"\\u00e9\\uFFFF\\u0000\""])
            Assert.True(GrammarKit.Matches(g, ok), ok);
        foreach (string bad in (string[])["\"", "\"a", "\"\\x\"", "\"\\u12\"", "\"\\ud800\"", "\"\\uDFFF\"", "\"\t\"", "\"a\"b"])
            Assert.False(GrammarKit.Matches(g, bad), bad);
        // Overlong, surrogate and out-of-range encodings.
        foreach (byte[] bad in (byte[][])[[0x22, 0xC0, 0x80, 0x22], [0x22, 0xED, 0xA0, 0x80, 0x22], [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22], [0x22, 0x80, 0x22], [0x22, 0xE4, 0xB8, 0x22]])
            Assert.False(GrammarKit.Matches(g, bad), Convert.ToHexString(bad));
    }

    [Theory]
    [InlineData(0L, 0L)]
    [InlineData(-37L, 1234L)]
    [InlineData(5L, 5L)]
    [InlineData(-1000L, -999L)]
    [InlineData(7L, 100L)]
    [InlineData(-9L, 0L)]
    [InlineData(99L, 1001L)]
    public void Integer_ranges_are_exact(long lo, long hi)
    {
        var g = G(JsonGrammar.IntegerRange(lo, hi));
        for (long x = lo - 150; x <= hi + 150; x++) Assert.Equal(x >= lo && x <= hi, GrammarKit.Matches(g, x.ToString()));
        foreach (string bad in (string[])["-0", "00", "01", "+1", "1.0", "", "-"]) Assert.False(GrammarKit.Matches(g, bad), bad);
    }

    [Fact]
    public void Integer_ranges_with_one_bound_and_huge_bounds()
    {
        var below = G(JsonGrammar.IntegerRange(null, -5));
        Assert.True(GrammarKit.Matches(below, "-5"));
        Assert.True(GrammarKit.Matches(below, "-9999999999999999"));
        Assert.False(GrammarKit.Matches(below, "-4"));
        Assert.False(GrammarKit.Matches(below, "0"));
        var big = BigInteger.Parse("123456789012345678901234");
        var above = G(JsonGrammar.IntegerRange(big, null));
        Assert.True(GrammarKit.Matches(above, big.ToString()));
        Assert.True(GrammarKit.Matches(above, (big + 77).ToString()));
        Assert.False(GrammarKit.Matches(above, (big - 1).ToString()));
    }

    [Fact]
    public void Numbers_are_json_numbers_with_bounded_digits()
    {
        var g = G(JsonGrammar.Number);
        foreach (string ok in (string[])["0", "-0", "12", "-3.25", "1e5", "2E-07", "0.5e+12", "1234567890123456"]) Assert.True(GrammarKit.Matches(g, ok), ok);
        foreach (string bad in (string[])["01", ".5", "1.", "1e", "--1", "1e123", "12345678901234567", "+1", "0x1"]) Assert.False(GrammarKit.Matches(g, bad), bad);
    }

    [Theory]
    [InlineData("^[a-z]{2,4}$", "ab|abcd|zz", "a|abcde|AB|")]
    [InlineData("^\\d{3}-\\d{4}$", "555-1234", "5551234|555-123|a55-1234")]
    [InlineData("cat", "cat|concatenate|a cat!", "ca|dog|")]
    [InlineData("^(foo|bar)+$", "foo|barfoo|foofoofoo", "fo|foob|")]
    [InlineData("^a.c$", "abc|a-c|aéc", "ac|a\nc|abbc")]
    [InlineData("^[^0-9\"]+$", "abc|x y", "a1|\"|")]
    [InlineData("^\\w+@\\w+\\.(com|org)$", "bob@site.com|a_1@b2.org", "bob@site.net|@x.com")]
    [InlineData("^\\S\\s\\S$", "a b|x\ty", "ab|a  b")]
    [InlineData("^x{2}y?$|^z$", "xx|xxy|z", "x|xxyy|zz")]
    [InlineData("^[\\u0041-\\u0043\\-]*$", "ABC-|", "D|abc")]
    public void Patterns_match_as_the_regex_does(string pattern, string accepted, string rejected)
    {
        var g = G(Seq(Byte((byte)'"'), PatternGrammar.Content(pattern), Byte((byte)'"')));
        var regex = new Regex(pattern, RegexOptions.ECMAScript);
        foreach (string s in accepted.Split('|'))
        {
            Assert.True(regex.IsMatch(s), $"test data: /{pattern}/ should match '{s}'");
            Assert.True(GrammarKit.Matches(g, Json(s)), $"/{pattern}/ should accept '{s}'");
        }
        foreach (string s in rejected.Split('|'))
        {
            Assert.False(regex.IsMatch(s), $"test data: /{pattern}/ should not match '{s}'");
            Assert.False(GrammarKit.Matches(g, Json(s)), $"/{pattern}/ should reject '{s}'");
        }
    }

    [Theory]
    [InlineData("(?=a)b", "lookaround")]
    [InlineData("(a)\\1", "backreference")]
    [InlineData("\\bword", "word boundaries")]
    [InlineData("a^b", "'^'")]
    [InlineData("[]", "empty class")]
    [InlineData("*a", "nothing to repeat")]
    [InlineData("(ab", "missing ')'")]
    [InlineData("\\p{L}", "property")]
    public void Unsupported_or_invalid_patterns_are_refused_by_name(string pattern, string expected)
    {
        var e = Assert.Throws<PatternException>(() => PatternGrammar.Content(pattern));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Countable_characters_count_the_same_as_code_points_utf16_units_and_text_elements()
    {
        var set = JsonGrammar.CountableCharacters;
        Assert.True(set.Contains('a') && set.Contains('中') && set.Contains('\n') && set.Contains('"'));
        Assert.False(set.Contains(0x0301));   // combining acute
        Assert.False(set.Contains(0x200D));   // zero-width joiner
        Assert.False(set.Contains('\r'));     // \r\n is one text element
        Assert.False(set.Contains(0x1100));   // Hangul choseong
        Assert.False(set.Contains(0x1F600));  // astral: two UTF-16 units
        var rng = new Random(3);
        var all = set.Ranges.SelectMany(r => Enumerable.Range(r.Lo, r.Hi - r.Lo + 1)).ToArray();
        for (int trial = 0; trial < 2000; trial++)
        {
            var sb = new StringBuilder();
            int n = rng.Next(1, 12);
            for (int k = 0; k < n; k++) sb.Append((char)all[rng.Next(all.Length)]);
            string s = sb.ToString();
            Assert.Equal(n, s.Length);
            Assert.Equal(n, new System.Globalization.StringInfo(s).LengthInTextElements);
        }
    }

    [Theory]
    [InlineData("date-time", "2024-02-28T23:59:59Z|1999-12-01T00:00:00.5+05:30", "2024-02-29T00:00:00Z|2024-02-28T24:00:00Z|2024-02-28 10:00:00Z|2024-02-28T10:00:00")]
    [InlineData("date", "2024-01-01|9999-12-28", "2024-1-01|0999-01-01|2024-13-01")]
    [InlineData("uuid", "123e4567-e89b-12d3-a456-426614174000", "123e4567e89b12d3a456426614174000|123e4567-e89b-12d3-a456-42661417400")]
    [InlineData("ipv4", "0.0.0.0|255.255.255.255|10.1.20.199", "256.1.1.1|01.2.3.4|1.2.3")]
    public void Formats_generate_only_valid_strings(string format, string accepted, string rejected)
    {
        var g = G(Seq(Byte((byte)'"'), FormatGrammar.Content(format)!, Byte((byte)'"')));
        foreach (string s in accepted.Split('|')) Assert.True(GrammarKit.Matches(g, Json(s)), s);
        foreach (string s in rejected.Split('|')) Assert.False(GrammarKit.Matches(g, Json(s)), s);
    }

    [Fact]
    public void Reasoning_prefix_takes_any_text_up_to_the_close_tag_then_the_answer()
    {
        var g = GrammarKit.ForBytes(Grammar.Of(Seq(TextGrammar.Until("</think>"), Repeat(Byte((byte)'\n'), 0, 2), Literal("{}"))));
        foreach (string ok in (string[])["</think>{}", "hm </thin </think>\n\n{}", "<</think>\n{}", "<think>x</think>{}"]) Assert.True(GrammarKit.Matches(g, ok), ok);
        foreach (string bad in (string[])["{}", "</think>\n\n\n{}", "a</think>b{}", "</think>{}</think>"]) Assert.False(GrammarKit.Matches(g, bad), bad);
        var free = GrammarKit.ForBytes(Grammar.Of(Seq(TextGrammar.Without("<tool_call>"), Optional(Literal("<tool_call>X")))));
        foreach (string ok in (string[])["", "hello", "<tool_cal", "a <tool_call>X", "<<tool_call>X"]) Assert.True(GrammarKit.Matches(free, ok), ok);
        foreach (string bad in (string[])["<tool_call>", "a<tool_call>Y", "<tool_call>X<tool_call>X"]) Assert.False(GrammarKit.Matches(free, bad), bad);
    }

    [Fact]
    public void An_empty_language_and_oversized_grammars_are_refused()
    {
        Assert.Throws<GrammarException>(() => G(Nothing));
        Assert.Throws<GrammarException>(() => G(Repeat(JsonGrammar.StringCharacter, 0, 60_000)));
    }

    private static string Json(string s) => JsonSerializer.Serialize(s, new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
}
