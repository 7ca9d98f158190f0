using SharpSeek.Tokenization;

namespace SharpSeek.Tests.Tokenization;

/// <summary>Every case of the DeepSeek-V3 and Qwen3 golden files: exact ids (no BOS), and decode back to the input (NFC-normalized for Qwen).</summary>
public sealed class GoldenTokenizerTests
{
    public static TheoryData<string, int, string> Cases => TokenizerFixtures.Cases();

    [Theory]
    [MemberData(nameof(Cases))]
    public void Encode_matches_golden_ids(string tokenizer, int index, string category)
    {
        var (text, expected) = TokenizerFixtures.Case(tokenizer, index);
        int[] ids = TokenizerFixtures.Get(tokenizer).Encode(text);
        Assert.True(expected.AsSpan().SequenceEqual(ids),
            $"[{category}] {Escape(text)}\nexpected {string.Join(",", expected)}\nactual   {string.Join(",", ids)}");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Decode_round_trips(string tokenizer, int index, string category)
    {
        var (text, expected) = TokenizerFixtures.Case(tokenizer, index);
        Tokenizer tok = TokenizerFixtures.Get(tokenizer);
        string decoded = tok.Decode(expected);
        string want = tokenizer == "qwen3" ? UnicodeNfc.Normalize(text) : text;
        Assert.True(want == decoded, $"[{category}] {Escape(want)} != {Escape(decoded)}");
    }

    internal static string Escape(string s)
    {
        var sb = new System.Text.StringBuilder();
        foreach (char c in s) sb.Append(c < 0x20 || c > 0x7E ? $"\\u{(int)c:X4}" : c.ToString());
        return sb.ToString();
    }
}
