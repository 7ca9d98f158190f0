using SharpSeek.Tokenization;

namespace SharpSeek.Tests.Tokenization;

/// <summary>Managed NFC against Python's unicodedata (expected code points computed there).</summary>
public sealed class UnicodeNfcTests
{
    public static TheoryData<string, string> Cases => new()
    {
        { "e\u0301", "00E9" },
        { "\u1100\u1161\u11A8", "AC01" },
        { "\u212B", "00C5" },
        { "\u1E0B\u0323", "1E0D 0307" },
        { "q\u0307\u0323", "0071 0323 0307" },
        { "\u0958", "0915 093C" },
        { "a\u0308\u0301", "00E4 0301" },
        { "\uAC00\u11A8", "AC01" },
        { "\u2126 ohm", "03A9 0020 006F 0068 006D" },
        { "\u0F73", "0F71 0F72" },
        { "\u1FD3", "0390" },
        { "\u03B9\u0308\u0301", "0390" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Matches_python_unicodedata(string input, string expected)
    {
        string n = UnicodeNfc.Normalize(input);
        var hex = new List<string>();
        foreach (char c in n) hex.Add(((int)c).ToString("X4"));
        Assert.Equal(expected, string.Join(' ', hex));
    }

    [Fact]
    public void Already_normalized_text_is_returned_as_is()
    {
        string s = "深度求索 ひらがな 한국어 café 😀 𠀀";
        Assert.Same(s, UnicodeNfc.Normalize(s));
        Assert.Equal("a\uD800b", UnicodeNfc.Normalize("a\uD800b"));
    }
}
