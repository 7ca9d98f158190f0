using System.Text.Json;
using SharpSeek.Chat;
using SharpSeek.Tokenization;

namespace SharpSeek.Tests.Tokenization;

/// <summary>Tokenizers built from GGUF vocabularies (plain data) against llama.cpp's tokenization of the tiny fixture models.</summary>
public sealed class GgufVocabularyTests
{
    public static TheoryData<string, int> Cases()
    {
        var data = new TheoryData<string, int>();
        foreach (string model in (string[])["tiny-qwen2", "tiny-ds2-lite", "tiny-ds2-v3"])
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(Fixtures.Path("llamacpp", "tokenizer", model + ".tokenizer.json")));
            int n = doc.RootElement.GetProperty("cases").GetArrayLength();
            for (int i = 0; i < n; i++) data.Add(model, i);
        }
        return data;
    }

    private static int[] Ids(JsonElement e)
    {
        var list = new List<int>();
        foreach (JsonElement id in e.EnumerateArray()) list.Add(id.GetInt32());
        return list.ToArray();
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Matches_llama_cpp(string model, int index)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Fixtures.Path("llamacpp", "tokenizer", model + ".tokenizer.json")));
        JsonElement c = doc.RootElement.GetProperty("cases")[index];
        string text = c.GetProperty("text").GetString()!;
        Tokenizer tok = SharpSeek.Formats.Gguf.GgufTokenizer.Load(Fixtures.Path("llamacpp", "models", doc.RootElement.GetProperty("model_file").GetString()!));
        Assert.Equal(Ids(c.GetProperty("add_bos_parse_special")), tok.Encode(text, addSpecialTokens: true, parseSpecial: true));
        Assert.Equal(Ids(c.GetProperty("no_bos_no_special")), tok.Encode(text, addSpecialTokens: false, parseSpecial: false));
        Assert.Equal(text, tok.Decode(tok.Encode(text)));
    }

    [Fact]
    public void Maps_pre_tokenizer_names_and_rejects_unknown_ones()
    {
        foreach (string pre in (string[])["deepseek-v3", "deepseek-llm", "deepseek-r1-qwen", "qwen2"])
            Assert.NotNull(PreTokenizerPatterns.ForGgufName(pre));
        var v = new GgufVocabulary(["a"], []) { Pre = "no-such-pre" };
        Assert.Contains("no-such-pre", Assert.Throws<ModelFormatException>(() => Tokenizer.FromGgufVocabulary(v)).Message);
    }

    [Fact]
    public void Gguf_pre_tokenizers_agree_with_the_tokenizer_json_ones_on_golden_text()
    {
        // The same vocabulary with llama.cpp's pattern list must split golden text as tokenizer.json does.
        foreach (var (name, pre) in new[] { ("deepseek-v3", "deepseek-v3"), ("qwen3", "qwen2") })
        {
            Tokenizer hf = TokenizerFixtures.Get(name);
            PreTokenizer gguf = PreTokenizerPatterns.Build(PreTokenizerPatterns.ForGgufName(pre)!);
            foreach (JsonElement c in TokenizerFixtures.Golden(name).GetProperty("cases").EnumerateArray())
            {
                string text = c.GetProperty("text").GetString()!;
                if (c.GetProperty("category").GetString() == "special") continue;
                if (name == "qwen3") text = UnicodeNfc.Normalize(text);
                Assert.Equal(hf.PreTokenizer.Split(text), gguf.Split(text));
            }
        }
    }

    [Fact]
    public void Chat_format_is_detected_from_gguf_tokens()
    {
        Tokenizer tok = SharpSeek.Formats.Gguf.GgufTokenizer.Load(Fixtures.Path("llamacpp", "models", "tiny-ds2-v3-f32.gguf"));
        Assert.Equal(ChatFormat.DeepSeekV3, ChatTemplate.For(tok).Format);
        Tokenizer distill = SharpSeek.Formats.Gguf.GgufTokenizer.Load(Fixtures.Path("llamacpp", "models", "tiny-qwen2-f32.gguf"));
        Assert.Equal(ChatFormat.DeepSeekR1, ChatTemplate.For(distill).Format);
        Assert.Equal([296, 298, 71, 72, 299], ChatTemplate.For(distill, ChatFormat.DeepSeekV3).Encode(distill, [ChatMessage.User("hi")]));
    }
}
