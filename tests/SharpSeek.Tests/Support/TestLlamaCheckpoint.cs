using System.Text.Json;
using SharpSeek.Formats.Gguf;

namespace SharpSeek.Tests.Support;

/// <summary>
/// The tiny Qwen2 oracle weights written as a Hugging Face <c>LlamaForCausalLM</c> checkpoint with q/k/v biases:
/// a Llama that computes exactly what llama.cpp's Qwen2 fixture does.
/// </summary>
public static class TestLlamaCheckpoint
{
    public static void Write(string dir, IReadOnlyDictionary<string, object>? extraConfig = null)
    {
        string gguf = Fixtures.Path("llamacpp", "models", "tiny-qwen2-f32.gguf");
        using var src = new GgufTensorSource(gguf);
        var c = GgufConfig.Build(src.File);
        var tensors = src.Names.Order(StringComparer.Ordinal)
            .Select(n => { var t = src.Get(n); var v = t.ToFloat32(); return TestSafetensors.F32(n, t.Shape, i => v[i]); })
            .ToList();
        TestSafetensors.Write(Path.Combine(dir, "model.safetensors"), tensors);
        var config = new Dictionary<string, object>
        {
            ["architectures"] = new[] { "LlamaForCausalLM" },
            ["model_type"] = "llama",
            ["hidden_size"] = c.HiddenSize,
            ["intermediate_size"] = c.IntermediateSize,
            ["num_hidden_layers"] = c.NumHiddenLayers,
            ["num_attention_heads"] = c.NumAttentionHeads,
            ["num_key_value_heads"] = c.NumKeyValueHeads,
            ["vocab_size"] = c.VocabSize,
            ["rms_norm_eps"] = c.RmsNormEps,
            ["rope_theta"] = c.RopeTheta,
            ["max_position_embeddings"] = 512,
            ["tie_word_embeddings"] = true,
            ["attention_bias"] = true,
        };
        foreach (var (k, v) in extraConfig ?? new Dictionary<string, object>()) config[k] = v;
        File.WriteAllText(Path.Combine(dir, "config.json"), JsonSerializer.Serialize(config));
    }
}
