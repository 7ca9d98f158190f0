using System.Text.Json;

namespace SharpSeek.Tests.Support;

/// <summary>
/// A random-weight Qwen2 checkpoint with a vocabulary of a few tokens (config.json + model.safetensors, no tokenizer): small
/// enough that a test can compare token distributions over the whole vocabulary.
/// </summary>
public static class TinyRandomModel
{
    public static void Write(string dir, int vocab, int seed, float scale = 1.5f)
    {
        int d = 16, heads = 2, kvHeads = 1, hd = d / heads, inter = 32, layers = 1;
        var rng = new Random(seed);
        var tensors = new List<TestSafetensors.Tensor>();
        void Add(string name, bool norm, params long[] shape) =>
            tensors.Add(TestSafetensors.F32(name, shape, _ => norm ? 1f : (float)(rng.NextDouble() * 2 - 1) * scale));
        Add("model.embed_tokens.weight", false, vocab, d);
        for (int l = 0; l < layers; l++)
        {
            string p = $"model.layers.{l}";
            Add(p + ".input_layernorm.weight", true, d);
            Add(p + ".self_attn.q_proj.weight", false, heads * hd, d);
            Add(p + ".self_attn.q_proj.bias", false, heads * hd);
            Add(p + ".self_attn.k_proj.weight", false, kvHeads * hd, d);
            Add(p + ".self_attn.k_proj.bias", false, kvHeads * hd);
            Add(p + ".self_attn.v_proj.weight", false, kvHeads * hd, d);
            Add(p + ".self_attn.v_proj.bias", false, kvHeads * hd);
            Add(p + ".self_attn.o_proj.weight", false, d, heads * hd);
            Add(p + ".post_attention_layernorm.weight", true, d);
            Add(p + ".mlp.gate_proj.weight", false, inter, d);
            Add(p + ".mlp.up_proj.weight", false, inter, d);
            Add(p + ".mlp.down_proj.weight", false, d, inter);
        }
        Add("model.norm.weight", true, d);
        TestSafetensors.Write(Path.Combine(dir, "model.safetensors"), tensors);
        var config = new Dictionary<string, object>
        {
            ["architectures"] = new[] { "Qwen2ForCausalLM" },
            ["model_type"] = "qwen2",
            ["hidden_size"] = d,
            ["intermediate_size"] = inter,
            ["num_hidden_layers"] = layers,
            ["num_attention_heads"] = heads,
            ["num_key_value_heads"] = kvHeads,
            ["vocab_size"] = vocab,
            ["rms_norm_eps"] = 1e-6,
            ["rope_theta"] = 10000.0,
            ["max_position_embeddings"] = 256,
            ["tie_word_embeddings"] = true,
            ["bos_token_id"] = 0,
            ["eos_token_id"] = 1,
        };
        File.WriteAllText(Path.Combine(dir, "config.json"), JsonSerializer.Serialize(config));
    }
}
