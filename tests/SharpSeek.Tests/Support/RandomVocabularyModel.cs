using System.Text;
using System.Text.Json;

namespace SharpSeek.Tests.Support;

/// <summary>
/// Writes a tiny random-weight Qwen2-architecture model directory around a real tokenizer: the tokenizer's own
/// <c>tokenizer.json</c> and <c>tokenizer_config.json</c> (with its chat template) are copied, the vocabulary is the
/// real one (DeepSeek-V3: 129,280 logits), and the hidden size is tiny. Embeddings are small and tied, so after the
/// final norm every logit lies within a few tenths of the others: at temperature 1 nearly every token of the
/// vocabulary is a candidate at every step, which is the strongest test of anything that constrains output.
/// (Shared with the server tests as a linked file.)
/// </summary>
public static class RandomVocabularyModel
{
    /// <summary>Writes the model into <paramref name="directory"/> from the tokenizer files in <paramref name="tokenizerDirectory"/>.</summary>
    public static void Write(string directory, string tokenizerDirectory, int vocabSize, int eosId, int seed = 1, int hidden = 16)
    {
        Directory.CreateDirectory(directory);
        foreach (string name in (string[])["tokenizer.json", "tokenizer_config.json"])
            File.Copy(Path.Combine(tokenizerDirectory, name), Path.Combine(directory, name), overwrite: true);
        int d = hidden, heads = 2, kvHeads = 1, hd = d / heads, inter = 2 * d;
        var config = new Dictionary<string, object>
        {
            ["architectures"] = new[] { "Qwen2ForCausalLM" },
            ["model_type"] = "qwen2",
            ["hidden_size"] = d,
            ["intermediate_size"] = inter,
            ["num_hidden_layers"] = 1,
            ["num_attention_heads"] = heads,
            ["num_key_value_heads"] = kvHeads,
            ["vocab_size"] = vocabSize,
            ["rms_norm_eps"] = 1e-6,
            ["rope_theta"] = 10000.0,
            ["max_position_embeddings"] = 4096,
            ["tie_word_embeddings"] = true,
            ["eos_token_id"] = eosId,
        };
        File.WriteAllText(Path.Combine(directory, "config.json"), JsonSerializer.Serialize(config));

        var rng = new Random(seed);
        var tensors = new List<(string Name, long[] Shape, float Scale, bool Ones)>
        {
            ("model.embed_tokens.weight", [vocabSize, d], 0.05f, false),
            ("model.layers.0.input_layernorm.weight", [d], 0, true),
            ("model.layers.0.self_attn.q_proj.weight", [heads * hd, d], 0.3f, false),
            ("model.layers.0.self_attn.q_proj.bias", [heads * hd], 0.3f, false),
            ("model.layers.0.self_attn.k_proj.weight", [kvHeads * hd, d], 0.3f, false),
            ("model.layers.0.self_attn.k_proj.bias", [kvHeads * hd], 0.3f, false),
            ("model.layers.0.self_attn.v_proj.weight", [kvHeads * hd, d], 0.3f, false),
            ("model.layers.0.self_attn.v_proj.bias", [kvHeads * hd], 0.3f, false),
            ("model.layers.0.self_attn.o_proj.weight", [d, heads * hd], 0.3f, false),
            ("model.layers.0.post_attention_layernorm.weight", [d], 0, true),
            ("model.layers.0.mlp.gate_proj.weight", [inter, d], 0.3f, false),
            ("model.layers.0.mlp.up_proj.weight", [inter, d], 0.3f, false),
            ("model.layers.0.mlp.down_proj.weight", [d, inter], 0.3f, false),
            ("model.norm.weight", [d], 0, true),
        };
        var header = new Dictionary<string, object>();
        long offset = 0;
        foreach (var t in tensors)
        {
            long n = t.Shape.Aggregate(1L, (a, b) => a * b);
            header[t.Name] = new Dictionary<string, object> { ["dtype"] = "F32", ["shape"] = t.Shape, ["data_offsets"] = new[] { offset, offset + 4 * n } };
            offset += 4 * n;
        }
        byte[] json = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(header));
        using var f = File.Create(Path.Combine(directory, "model.safetensors"));
        f.Write(BitConverter.GetBytes((long)json.Length));
        f.Write(json);
        foreach (var t in tensors)
        {
            long n = t.Shape.Aggregate(1L, (a, b) => a * b);
            var data = new float[n];
            for (long i = 0; i < n; i++) data[i] = t.Ones ? 1f : (float)(rng.NextDouble() * 2 - 1) * t.Scale;
            f.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(data.AsSpan()));
        }
    }
}
