using System.Runtime.InteropServices;
using System.Text.Json;
using SharpSeek.Models;

namespace SharpSeek.Tests.Gguf;

/// <summary>
/// The F32 oracle GGUFs opened through <see cref="ModelLoader"/> (tensor names, shapes and config from GGUF metadata)
/// reproduce llama.cpp's own logits. llama.cpp's batch-vs-incremental spread is ≤ 4e-6, so 1e-4 is a tight bound.
/// </summary>
public class GgufEngineTests
{
    [Theory]
    [InlineData("tiny-qwen2")]
    [InlineData("tiny-ds2-lite")]
    [InlineData("tiny-ds2-v3")]
    public void F32_gguf_logits_match_llama_cpp(string model)
    {
        using var tr = ModelLoader.Load(GgufFixtureTests.ModelPath(model, "f32"));
        using var doc = JsonDocument.Parse(File.ReadAllBytes(Fixtures.Path("llamacpp", "logits", model + "-f32.oracle.json")));
        int checkedSequences = 0;
        foreach (var seq in doc.RootElement.GetProperty("sequences").EnumerateArray())
        {
            int[] tokens = seq.GetProperty("tokens").EnumerateArray().Select(t => t.GetInt32()).ToArray();
            byte[] raw = File.ReadAllBytes(Fixtures.Path("llamacpp", "logits", seq.GetProperty("logits_file").GetString()!));
            float[] want = MemoryMarshal.Cast<byte, float>(raw).ToArray();
            var got = new float[tokens.Length * tr.Config.VocabSize];
            Assert.Equal(want.Length, got.Length);
            if (seq.GetProperty("mode").GetString() == "batch")
                tr.Forward(tr.CreateState(tokens.Length), tokens, got, allLogits: true);
            else
            {
                // One token per call through the KV cache (for deepseek2: the compressed MLA cache).
                var state = tr.CreateState(tokens.Length);
                int v = tr.Config.VocabSize;
                for (int t = 0; t < tokens.Length; t++) tr.Forward(state, tokens.AsSpan(t, 1), got.AsSpan(t * v, v));
            }
            double max = 0;
            for (int i = 0; i < got.Length; i++) max = Math.Max(max, Math.Abs(got[i] - want[i]));
            Assert.True(max < 1e-4, $"{model} {seq.GetProperty("name").GetString()}: max |Δlogit| {max}");
            checkedSequences++;
        }
        Assert.Equal(3, checkedSequences);
    }
}
