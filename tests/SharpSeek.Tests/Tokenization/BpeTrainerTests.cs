using System.Text.Json;
using SharpSeek.Tokenization;

namespace SharpSeek.Tests.Tokenization;

/// <summary>A trained tokenizer.json loads identically in our tokenizer and in Hugging Face's (npm tokenizers).</summary>
public sealed class BpeTrainerTests
{
    private static List<string> Corpus()
    {
        var corpus = new List<string>();
        foreach (string name in (string[])["deepseek-v3", "qwen3"])
            foreach (JsonElement c in TokenizerFixtures.Golden(name).GetProperty("cases").EnumerateArray())
                corpus.Add(c.GetProperty("text").GetString()!);
        string src = Path.Combine(Fixtures.RepoRoot, "src", "SharpSeek", "Tokenization");
        foreach (string file in Directory.GetFiles(src, "*.cs").Order(StringComparer.Ordinal))
        {
            if (file.EndsWith("UnicodeNfcData.cs", StringComparison.Ordinal)) continue;
            corpus.Add(File.ReadAllText(file));
        }
        for (int i = 0; i < 200; i++) corpus.Add($"第{i}章 深度求索 value_{i} = {i * 7919 % 100000}; // 中文注释 {i}");
        return corpus;
    }

    [Fact]
    public void Trained_tokenizer_matches_huggingface_on_mixed_text()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"sharpseek-bpe-{Guid.NewGuid():N}");
        try
        {
            List<string> corpus = Corpus();
            Tokenizer ours = BpeTrainer.TrainToDirectory(corpus, dir, new BpeTrainerOptions { VocabSize = 1500 });
            Assert.Equal(1500, ours.VocabSize);
            Assert.Equal(0, ours.BosId);
            Assert.Equal(1, ours.EosId);

            var probes = new List<string>(corpus.Take(160))
            {
                "<｜User｜>int x = 12345;<｜Assistant｜><think>\nok</think>",
                "for (int i = 0; i < n; i++) { sum += a[i] * b[i]; }",
                "mixed 中文 and 😀 and 123 ok\r\n\ttabs",
                "",
            };
            string json = Path.Combine(dir, "tokenizer.json");
            List<(int[] Ids, string Decoded)> hf = NodeTokenizers.Encode(json, probes);
            int mismatches = 0;
            var report = new System.Text.StringBuilder();
            for (int i = 0; i < probes.Count; i++)
            {
                int[] mine = ours.Encode(probes[i]);
                if (!mine.AsSpan().SequenceEqual(hf[i].Ids))
                {
                    mismatches++;
                    if (mismatches <= 5) report.AppendLine($"{GoldenTokenizerTests.Escape(probes[i])}\n ours {string.Join(",", mine)}\n hf   {string.Join(",", hf[i].Ids)}");
                }
                Assert.Equal(hf[i].Decoded, ours.Decode(mine));
                Assert.Equal(probes[i], ours.Decode(mine));
            }
            Assert.True(mismatches == 0, $"{mismatches} of {probes.Count} differ:\n{report}");
            // Training actually compressed: fewer tokens than bytes on the corpus.
            Assert.True(ours.Encode(corpus[^1]).Length * 2 < System.Text.Encoding.UTF8.GetByteCount(corpus[^1]));
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Rejects_a_vocabulary_smaller_than_the_byte_alphabet() =>
        Assert.Throws<ArgumentException>(() => BpeTrainer.TrainToJson(["abc"], new BpeTrainerOptions { VocabSize = 100 }));
}
