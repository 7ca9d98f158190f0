using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using SharpSeek.Formats.Gguf;
using SharpSeek.Models;
using SharpSeek.Tests.Support;

namespace SharpSeek.Tests.Engine;

/// <summary>
/// The Llama code path against llama.cpp: a Llama with q/k/v biases (config <c>attention_bias</c>) and split-half
/// RoPE computes exactly what Qwen2 does, so the tiny Qwen2 oracle weights, written as a Hugging Face
/// <c>LlamaForCausalLM</c> checkpoint (safetensors, not GGUF), must reproduce llama.cpp's Qwen2 logits,
/// both in one prefill call and token by token.
/// </summary>
public sealed class LlamaFromQwenWeightsTests
{
    [Fact]
    public void HfLlamaCheckpointReproducesLlamaCppLogits()
    {
        using var dir = new TempDir();
        TestLlamaCheckpoint.Write(dir.Path);

        using var model = ModelLoader.Load(dir.Path);
        Assert.Equal("LlamaForCausalLM", model.Config.Architecture);
        Assert.Equal(RopeLayout.HalfSplit, model.Config.RopeLayout);
        using var doc = JsonDocument.Parse(File.ReadAllBytes(Fixtures.Path("llamacpp", "logits", "tiny-qwen2-f32.oracle.json")));
        int v = model.Config.VocabSize, checkedSequences = 0;
        foreach (var seq in doc.RootElement.GetProperty("sequences").EnumerateArray())
        {
            int[] tokens = seq.GetProperty("tokens").EnumerateArray().Select(t => t.GetInt32()).ToArray();
            float[] want = MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(Fixtures.Path("llamacpp", "logits", seq.GetProperty("logits_file").GetString()!))).ToArray();
            var got = new float[tokens.Length * v];
            if (seq.GetProperty("mode").GetString() == "batch")
                model.Forward(model.CreateState(tokens.Length), tokens, got, allLogits: true);
            else
            {
                var state = model.CreateState(tokens.Length);
                for (int t = 0; t < tokens.Length; t++) model.Forward(state, tokens.AsSpan(t, 1), got.AsSpan(t * v, v));
            }
            float max = GoldenData.MaxAbsDiff(got, want);
            Assert.True(max < 1e-4f, string.Create(CultureInfo.InvariantCulture, $"{seq.GetProperty("name").GetString()} ({seq.GetProperty("mode").GetString()}): max |Δlogit| {max}"));
            checkedSequences++;
        }
        Assert.True(checkedSequences >= 3);
    }
}
