using SharpSeek.Tokenization;

namespace SharpSeek.Tests.Tokenization;

/// <summary>The code-point regex engine: astral code points, leftmost-first alternation, lookahead, and unsupported patterns.</summary>
public sealed class CodePointRegexTests
{
    [Theory]
    [InlineData(@"\p{L}+", "x𝐀𠀀y!", 0, 6)]         // math letter and Ext-B are letters (2 UTF-16 units each)
    [InlineData(@"\p{S}", "a😀", 1, 3)]               // emoji is one symbol
    [InlineData(@"\p{N}{1,3}", "12345", 0, 3)]
    [InlineData(@"\s+(?!\S)|\s+", "a   b", 1, 3)]      // keeps the last space for the word
    [InlineData(@"(?i:'s|'t)", "IT'S", 2, 4)]
    [InlineData(@"[^\s\p{L}]+", "ab 😀! c", 3, 6)]
    [InlineData(@"a|ab", "ab", 0, 1)]                  // leftmost-first, not longest
    [InlineData(@"[𐐀-𐑏]+", "x𐐀𐑏y", 1, 5)]             // astral range in a class
    public void Finds_like_oniguruma(string pattern, string text, int start, int end)
    {
        var re = CodePointRegex.Compile(pattern);
        Assert.True(re.Find(text, 0, out int s, out int e));
        Assert.Equal((start, end), (s, e));
    }

    [Theory]
    [InlineData("(a*)*")]
    [InlineData("(?<=a)b")]
    [InlineData("[abc")]
    [InlineData(@"\p{Foo}")]
    [InlineData("a)")]
    public void Unsupported_or_malformed_patterns_are_model_format_errors(string pattern) =>
        Assert.Throws<ModelFormatException>(() => CodePointRegex.Compile(pattern));
}
