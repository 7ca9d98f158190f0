using System.Diagnostics;
using System.Text;
using SharpSeek.Tokenization;

namespace SharpSeek.Tests.Tokenization;

/// <summary>Lone surrogates, NULs, huge strings and broken tokenizer files give defined results or one clear error.</summary>
public sealed class TokenizerBadInputTests
{
    [Fact]
    public void Lone_surrogates_encode_as_replacement_characters_like_huggingface()
    {
        Tokenizer tok = TokenizerFixtures.DeepSeekV3;
        // Ids from Hugging Face tokenizers 0.23.2 (node), which receives U+FFFD for a lone surrogate.
        Assert.Equal([67, 2808, 68], tok.Encode("a\uD800b"));
        Assert.Equal([2808], tok.Encode("\uDC00"));
        Assert.Equal(tok.Encode("a\uFFFDb"), tok.Encode("a\uD800b"));
        Assert.Equal("a\uFFFDb", tok.Decode(tok.Encode("a\uD800b")));
    }

    [Fact]
    public void Nul_is_an_ordinary_byte() =>
        Assert.Equal([90, 191, 91], TokenizerFixtures.DeepSeekV3.Encode("x\0y"));

    [Fact]
    public void Ten_megabytes_of_mixed_text_round_trip()
    {
        Tokenizer tok = TokenizerFixtures.DeepSeekV3;
        var sb = new StringBuilder();
        string unit = "The quick brown fox, 12345 apples; 深度求索 😀 for (i = 0; i < n; i++) {}\n";
        while (sb.Length < 10_000_000) sb.Append(unit);
        string text = sb.ToString();
        var sw = Stopwatch.StartNew();
        int[] ids = tok.Encode(text);
        Assert.True(sw.Elapsed < TimeSpan.FromMinutes(2), $"took {sw.Elapsed}");
        Assert.Equal(text, tok.Decode(ids));
        int[] unitIds = tok.Encode(unit);
        Assert.Equal(unitIds, ids[..unitIds.Length]);
    }

    [Fact]
    public void One_huge_piece_and_a_huge_space_run_stay_fast()
    {
        Tokenizer tok = TokenizerFixtures.Qwen3;
        string letters = new('a', 2_000_000);
        var sw = Stopwatch.StartNew();
        int[] ids = tok.Encode(letters);
        Assert.Equal(letters, tok.Decode(ids));
        string spaces = new string(' ', 1_000_000) + "x";
        Assert.Equal(spaces, tok.Decode(tok.Encode(spaces)));
        Assert.True(sw.Elapsed < TimeSpan.FromMinutes(1), $"took {sw.Elapsed}");
    }

    [Fact]
    public void Out_of_range_ids_are_a_clear_error()
    {
        var e = Assert.Throws<SharpSeekException>(() => TokenizerFixtures.DeepSeekV3.Decode([1, 2, 200_000]));
        Assert.Contains("200000", e.Message);
        Assert.Throws<SharpSeekException>(() => TokenizerFixtures.DeepSeekV3.Decode([-1]));
    }

    public static TheoryData<string, string> BrokenFiles => new()
    {
        { "{", "malformed JSON" },
        { "[]", "not a JSON object" },
        { "{}", "missing 'model'" },
        { """{"model":{"type":"WordPiece","vocab":{}}}""", "WordPiece" },
        { """{"model":{"type":"BPE","vocab":{"a":0},"merges":["a b"]},"pre_tokenizer":{"type":"ByteLevel"}}""", "merge #0" },
        { """{"model":{"type":"BPE","vocab":{"a":0},"merges":[]},"pre_tokenizer":{"type":"Split","pattern":{"Regex":"(?<=x)"},"behavior":"Isolated"}}""", "regex" },
        { """{"model":{"type":"BPE","vocab":{"a":"zero"},"merges":[]}}""", "model.vocab['a']" },
        { """{"model":{"type":"BPE","vocab":{"a":0},"merges":[]},"normalizer":{"type":"Lowercase"}}""", "Lowercase" },
        { """{"model":{"type":"BPE","vocab":{"a":0},"merges":[]}}""", "byte-level" },
        { """{"model":{"type":"BPE","vocab":{"a":0},"merges":[7]},"pre_tokenizer":{"type":"ByteLevel"}}""", "merges[0]" },
        { """{"model":{"type":"BPE","vocab":{"a":0},"merges":[]},"pre_tokenizer":{"type":"ByteLevel"},"added_tokens":[{"content":"x"}]}""", "added_tokens[0]" },
    };

    [Theory]
    [MemberData(nameof(BrokenFiles))]
    public void Broken_tokenizer_json_names_the_problem(string json, string expected)
    {
        var e = Assert.Throws<ModelFormatException>(() => Tokenizer.FromHuggingFaceJson(json));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Truncated_real_file_is_a_clear_error()
    {
        string text = File.ReadAllText(Fixtures.Path("tokenizers", "deepseek-v3", "tokenizer.json"));
        foreach (int cut in (int[])[0, 10, 5000, text.Length / 2, text.Length - 2])
        {
            var e = Assert.Throws<ModelFormatException>(() => Tokenizer.FromHuggingFaceJson(text[..cut], null, "deepseek/tokenizer.json"));
            Assert.Contains("deepseek/tokenizer.json", e.Message);
        }
    }

    [Fact]
    public void Missing_file_or_directory_is_a_clear_error()
    {
        Assert.Contains("not found", Assert.Throws<ModelFormatException>(() => Tokenizer.FromFile("/no/such/tokenizer.json")).Message);
        string dir = Path.Combine(Path.GetTempPath(), $"sharpseek-empty-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        try
        {
            Assert.Contains("no tokenizer.json", Assert.Throws<ModelFormatException>(() => Tokenizer.FromFile(dir)).Message);
        }
        finally
        {
            Directory.Delete(dir);
        }
    }
}
