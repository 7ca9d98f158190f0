using System.Text;
using SharpSeek.Tokenization;

namespace SharpSeek.Tests.Tokenization;

/// <summary>The streaming detokenizer never emits part of a character and adds up to the full decode.</summary>
public sealed class StreamingDetokenizerTests
{
    [Theory]
    [MemberData(nameof(GoldenTokenizerTests.Cases), MemberType = typeof(GoldenTokenizerTests))]
    public void Concatenation_equals_full_decode_and_no_chunk_is_broken(string tokenizer, int index, string category)
    {
        _ = category;
        var (_, ids) = TokenizerFixtures.Case(tokenizer, index);
        Tokenizer tok = TokenizerFixtures.Get(tokenizer);
        string full = tok.Decode(ids);
        var stream = new StreamingDetokenizer(tok);
        var sb = new StringBuilder();
        foreach (int id in ids)
        {
            string piece = stream.Push(id);
            AssertWellFormed(piece, full);
            sb.Append(piece);
        }
        sb.Append(stream.Flush());
        Assert.Equal(full, sb.ToString());
    }

    [Fact]
    public void Emoji_split_over_byte_tokens_comes_out_whole()
    {
        Tokenizer tok = TokenizerFixtures.DeepSeekV3;
        // Feed an emoji one byte-token at a time: nothing until the fourth byte.
        byte[] utf8 = Encoding.UTF8.GetBytes("😀");
        var stream = new StreamingDetokenizer(tok);
        var outputs = new List<string>();
        foreach (byte b in utf8) outputs.Add(stream.Push(tok.GetId(ByteLevel.ByteToChar(b).ToString())));
        Assert.Equal(["", "", "", "😀"], outputs);
        Assert.False(stream.HasPending);
    }

    [Fact]
    public void Truncated_sequence_is_flushed_as_replacement_like_decode()
    {
        Tokenizer tok = TokenizerFixtures.DeepSeekV3;
        int[] ids = [tok.GetId("a"), tok.GetId(ByteLevel.ByteToChar(0xE4).ToString()), tok.GetId(ByteLevel.ByteToChar(0xB8).ToString())];
        var stream = new StreamingDetokenizer(tok);
        string text = stream.Push(ids) + stream.Flush();
        Assert.Equal(tok.Decode(ids), text);
        Assert.Equal("a\uFFFD", text);
    }

    [Fact]
    public void Skips_special_tokens_when_asked()
    {
        Tokenizer tok = TokenizerFixtures.DeepSeekV3;
        var stream = new StreamingDetokenizer(tok, skipSpecialTokens: true);
        Assert.Equal("", stream.Push(0));
        Assert.Equal("Hello", stream.Push(tok.Encode("Hello")));
    }

    private static void AssertWellFormed(string piece, string full)
    {
        for (int i = 0; i < piece.Length; i++)
        {
            if (char.IsHighSurrogate(piece[i])) { Assert.True(i + 1 < piece.Length && char.IsLowSurrogate(piece[i + 1]), "split surrogate pair"); i++; }
            else Assert.False(char.IsLowSurrogate(piece[i]), "stray low surrogate");
        }
        if (piece.Contains('\uFFFD')) Assert.Contains('\uFFFD', full);
    }
}
