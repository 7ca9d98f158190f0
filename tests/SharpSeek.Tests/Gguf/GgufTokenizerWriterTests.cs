using System.Text.Json;
using SharpSeek.Formats.Gguf;
using SharpSeek.Tests.Tokenization;
using SharpSeek.Tokenization;

namespace SharpSeek.Tests.Gguf;

/// <summary>A tokenizer written as GGUF metadata reads back as the same tokenizer: every golden case encodes alike.</summary>
public sealed class GgufTokenizerWriterTests
{
    [Theory]
    [InlineData("deepseek-v3", "deepseek-v3")]
    [InlineData("qwen3", "qwen2")]
    public void Golden_tokenizer_round_trips_through_gguf_metadata(string name, string expectedPre)
    {
        Tokenizer hf = TokenizerFixtures.Get(name);
        string path = TempFiles.Create();
        try
        {
            var w = new GgufWriter();
            w.Set("general.architecture", "llama");
            Assert.Equal(expectedPre, GgufTokenizerWriter.Write(w, hf, hf.VocabSize + 3, name));
            w.Write(path);

            using var file = new GgufFile(path);
            Assert.Equal(hf.VocabSize + 3, file.GetArray<string>("tokenizer.ggml.tokens")!.Length);
            Tokenizer gguf = GgufTokenizer.Load(file);
            Assert.Equal(hf.Config.ChatTemplate, gguf.Config.ChatTemplate);
            Assert.Equal(hf.BosId, gguf.BosId);
            Assert.Equal(hf.EosId, gguf.EosId);
            Assert.Equal($"[PAD{hf.VocabSize}]", gguf.IdToToken(hf.VocabSize));
            int cases = 0;
            foreach (JsonElement c in TokenizerFixtures.Golden(name).GetProperty("cases").EnumerateArray())
            {
                string text = c.GetProperty("text").GetString()!;
                if (name == "qwen3") text = UnicodeNfc.Normalize(text);   // GGUF has no normalizer step; llama.cpp neither
                Assert.Equal(hf.Encode(text), gguf.Encode(text));
                cases++;
            }
            Assert.True(cases > 100);
        }
        finally { TempFiles.Delete(path); }
    }

    [Fact]
    public void A_tokenizer_larger_than_the_model_vocabulary_is_refused()
    {
        Tokenizer hf = TokenizerFixtures.DeepSeekV3;
        var e = Assert.Throws<ModelFormatException>(() => GgufTokenizerWriter.Write(new GgufWriter(), hf, 1000, "some-model"));
        Assert.Contains("some-model", e.Message);
        Assert.Contains("vocab_size is 1000", e.Message);
    }
}
