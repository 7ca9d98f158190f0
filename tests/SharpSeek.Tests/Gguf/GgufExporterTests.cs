using SharpSeek.Formats.Gguf;
using SharpSeek.Models;
using SharpSeek.Tests.Engine;
using SharpSeek.Tests.Kernels;

namespace SharpSeek.Tests.Gguf;

/// <summary><c>quantize</c> and <c>convert</c>: written files load, and their logits match the source model's.</summary>
public sealed class GgufExporterTests
{
    private static float[] Logits(string model, int[] tokens)
    {
        using var tr = ModelLoader.Load(model);
        var logits = new float[tokens.Length * tr.Config.VocabSize];
        tr.Forward(tr.CreateState(tokens.Length), tokens, logits, allLogits: true);
        return logits;
    }

    private static (double max, double rms) Diff(float[] a, float[] b)
    {
        Assert.Equal(a.Length, b.Length);
        double max = 0, sq = 0;
        for (int i = 0; i < a.Length; i++) { double d = Math.Abs(a[i] - b[i]); max = Math.Max(max, d); sq += d * d; }
        return (max, Math.Sqrt(sq / a.Length));
    }

    [Theory]
    [InlineData("tiny-qwen2", "q8_0", QuantizationTarget.Q8_0)]
    [InlineData("tiny-ds2-lite", "q4_0", QuantizationTarget.Q4_0)]
    public void Requantized_f32_fixture_is_byte_identical_to_llama_cpp_quantized_fixture(string model, string type, QuantizationTarget target)
    {
        string outPath = TempFiles.Create();
        try
        {
            GgufExporter.Requantize(GgufFixtureTests.ModelPath(model, "f32"), outPath, target);
            using var ours = new GgufFile(outPath);
            using var theirs = new GgufFile(GgufFixtureTests.ModelPath(model, type));
            Assert.Equal(theirs.Tensors.Select(t => t.Name), ours.Tensors.Select(t => t.Name));
            foreach (var t in theirs.Tensors)
            {
                var o = ours.TensorsByName[t.Name];
                Assert.Equal(t.Type, o.Type);
                Assert.True(theirs.GetTensorBytes(t).SequenceEqual(ours.GetTensorBytes(o)), $"{t.Name} differs");
            }
            Assert.Equal(theirs.GetString("tokenizer.ggml.pre"), ours.GetString("tokenizer.ggml.pre"));
        }
        finally { TempFiles.Delete(outPath); }
    }

    [Theory]
    [InlineData("tiny-qwen2")]
    [InlineData("tiny-ds2-v3")]
    public void Q4_K_M_requantization_loads_and_stays_close(string model)
    {
        string outPath = TempFiles.Create();
        try
        {
            GgufExporter.Requantize(GgufFixtureTests.ModelPath(model, "f32"), outPath, QuantizationTarget.Q4_K_M);
            using (var f = new GgufFile(outPath))
                Assert.Contains(f.Tensors, t => t.Type is GgmlType.Q4_K or GgmlType.Q6_K);
            int[] tokens = Enumerable.Range(0, 24).Select(i => (i * 37 + 5) % 296).ToArray();
            var f32 = Logits(GgufFixtureTests.ModelPath(model, "f32"), tokens);
            var (max, rms) = Diff(Logits(outPath, tokens), f32);
            var (_, q4Rms) = Diff(Logits(GgufFixtureTests.ModelPath(model, "q4_0"), tokens), f32);
            // Q4_K_M must be at least as faithful as llama.cpp's Q4_0 file of the same weights (MoE routing flips dominate both).
            Assert.True(rms <= q4Rms, $"Q4_K_M rms {rms} (max {max}) vs Q4_0 rms {q4Rms}");
        }
        finally { TempFiles.Delete(outPath); }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Converted_llama_checkpoint_permutes_q_and_k_for_llama_cpp_and_gives_the_same_logits(bool llama3Rope)
    {
        using var dir = new SharpSeek.Tests.Support.TempDir();
        var extra = new Dictionary<string, object>();
        // A small original context puts the tiny model's frequencies on all three branches of Llama-3's scaling.
        if (llama3Rope) extra["rope_scaling"] = new Dictionary<string, object> { ["rope_type"] = "llama3", ["factor"] = 8.0, ["low_freq_factor"] = 1.0, ["high_freq_factor"] = 4.0, ["original_max_position_embeddings"] = 64 };
        SharpSeek.Tests.Support.TestLlamaCheckpoint.Write(dir.Path, extra);
        string outPath = TempFiles.Create();
        try
        {
            GgufExporter.Convert(dir.Path, outPath, null);
            using (var f = new GgufFile(outPath))
            {
                Assert.Equal("llama", f.Architecture);
                Assert.Equal(llama3Rope, f.ContainsTensor("rope_freqs.weight"));
            }
            int[] tokens = Enumerable.Range(0, 40).Select(i => (i * 41 + 3) % 296).ToArray();
            var hf = Logits(dir.Path, tokens);
            var (max, _) = Diff(Logits(outPath, tokens), hf);
            Assert.True(max <= 1e-4, $"llama convert (llama3 rope {llama3Rope}): max |Δlogit| {max}");
            Assert.True(hf.Max() - hf.Min() > 0.5f);
        }
        finally { TempFiles.Delete(outPath); }
    }

    private static void WriteTokenizer(string dir, string[] patterns)
    {
        var corpus = Enumerable.Range(0, 400).Select(i => $"What is {i * 37 % 1000} + {i * 11 % 97}? <think>\n{i % 9}+{i % 7}={i % 9 + i % 7} carry0 got{i}\n</think>\nThe answer is \\boxed{{{i}}}.");
        SharpSeek.Tokenization.BpeTrainer.TrainToDirectory(corpus, dir, new SharpSeek.Tokenization.BpeTrainerOptions { VocabSize = 400, PreTokenizerPatterns = patterns, MinFrequency = 2 });
        File.WriteAllText(Path.Combine(dir, "tokenizer_config.json"), """
            {"add_bos_token": false, "bos_token": "<｜begin▁of▁sentence｜>", "eos_token": "<｜end▁of▁sentence｜>",
             "chat_template": "{{ bos_token }}{% for m in messages %}{% if m['role'] == 'user' %}{{ '<｜User｜>' + m['content'] }}{% endif %}{% endfor %}{% if add_generation_prompt %}{{ '<｜Assistant｜><think>\\n' }}{% endif %}"}
            """);
    }

    [Fact]
    public void Converted_checkpoint_carries_its_tokenizer_and_chat_template()
    {
        using var dir = new SharpSeek.Tests.Support.TempDir();
        foreach (string f in (string[])["config.json", "model.safetensors"]) File.Copy(Path.Combine(GoldenData.Dir("v3-tiny"), f), Path.Combine(dir.Path, f));
        WriteTokenizer(dir.Path, SharpSeek.Tokenization.PreTokenizerPatterns.Qwen2);
        string outPath = TempFiles.Create();
        try
        {
            GgufExporter.Convert(dir.Path, outPath, null);
            using (var f = new GgufFile(outPath)) Assert.Equal("qwen2", f.GetString("tokenizer.ggml.pre"));
            var hfTok = SharpSeek.Tokenization.Tokenizer.FromFile(dir.Path);
            var ggufTok = GgufTokenizer.Load(outPath);
            foreach (string text in (string[])["What is 482 + 39?", "Calculate (12 + 7) * 3.", "<think>\n2+9=11 carry1 got1\n</think>\n\\boxed{521}", "héllo wörld 😀"])
                Assert.Equal(hfTok.Encode(text), ggufTok.Encode(text));
            Assert.Equal(hfTok.Config.ChatTemplate, ggufTok.Config.ChatTemplate);
            Assert.Equal(SharpSeek.Chat.ChatTemplate.For(hfTok).Format, SharpSeek.Chat.ChatTemplate.For(ggufTok).Format);
            int[] tokens = hfTok.Encode("What is 34 * 27?");
            var (max, _) = Diff(Logits(outPath, tokens), Logits(dir.Path, tokens));
            Assert.True(max <= 1e-4, $"convert with tokenizer: max |Δlogit| {max}");
        }
        finally { TempFiles.Delete(outPath); }
    }

    [Fact]
    public void A_pre_tokenizer_llama_cpp_has_no_name_for_stops_the_conversion_with_a_clear_error()
    {
        using var dir = new SharpSeek.Tests.Support.TempDir();
        foreach (string f in (string[])["config.json", "model.safetensors"]) File.Copy(Path.Combine(GoldenData.Dir("v3-tiny"), f), Path.Combine(dir.Path, f));
        WriteTokenizer(dir.Path, [@"\p{N}", SharpSeek.Tokenization.PreTokenizerPatterns.DeepSeekV3[2]]);
        string outPath = TempFiles.Create();
        try
        {
            var e = Assert.Throws<ModelFormatException>(() => GgufExporter.Convert(dir.Path, outPath, null));
            Assert.Contains(dir.Path, e.Message);
            Assert.Contains("pre-tokenizer", e.Message);
        }
        finally { TempFiles.Delete(outPath); }
    }

    [Theory]
    [InlineData("v2lite-tiny", null, 1e-4)]
    [InlineData("v3-tiny", null, 1e-4)]
    [InlineData("v3-tiny-fp8", null, 0.05)]
    [InlineData("v2lite-tiny", QuantizationTarget.Q8_0, 0.1)]
    public void Converted_checkpoint_gives_the_same_logits(string name, QuantizationTarget? target, double rmsBound)
    {
        string outPath = TempFiles.Create();
        try
        {
            GgufExporter.Convert(GoldenData.Dir(name), outPath, target);
            int[] tokens = GoldenData.Tokens(name);
            var (max, rms) = Diff(Logits(outPath, tokens), Logits(GoldenData.Dir(name), tokens));
            // F32 → F32 is the same computation with llama.cpp's split k_b/v_b layout; FP8 → BF16 rounds each weight once.
            Assert.True(rms <= rmsBound && max <= rmsBound * 20, $"{name} {target}: max {max}, rms {rms}");
        }
        finally { TempFiles.Delete(outPath); }
    }
}
