using SharpSeek.Formats.Gguf;
using SharpSeek.Models;
using SharpSeek.Tests.Engine;
using SharpSeek.Tests.Kernels;

namespace SharpSeek.Tests.Gguf;

/// <summary><c>quantize</c> and <c>convert</c>: written files load, and their logits match the source model's.</summary>
[Collection(KernelPathCollection.Name)]
public sealed class GgufExporterTests
{
    private static float[] Logits(string model, int[] tokens)
    {
        using var tr = ModelLoader.Load(model);
        var logits = new float[tokens.Length * tr.Config.VocabSize];
        tr.Forward(tr.CreateState(tokens.Length, tokens.Length), tokens, logits, allLogits: true);
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
