using System.Text;
using System.Text.Json;
using SharpSeek.Tokenization;

namespace SharpSeek.Server.Tests;

/// <summary>
/// Writes a tiny random-weight Qwen2 model directory (config.json, model.safetensors, tokenizer.json) whose vocabulary
/// carries one family's fill-in-the-middle markers, which the shared fixtures lack.
/// </summary>
public static class TinyFimModel
{
    private static readonly string[] Corpus =
    [
        "def add(a, b):\n    return a + b\n",
        "def mul(a, b):\n    return a * b\n",
        "print(add(1, 2))\nprint(mul(3, 4))\n",
        "for i in range(10):\n    print(i)\n",
    ];

    /// <summary>Writes the model into <paramref name="directory"/>; <paramref name="specialTokens"/>: BOS, EOS, then the rest.</summary>
    public static void Write(string directory, IReadOnlyList<string> specialTokens, int seed)
    {
        var tokenizer = BpeTrainer.TrainToDirectory(Corpus, directory, new BpeTrainerOptions { VocabSize = specialTokens.Count + 256 + 40, SpecialTokens = specialTokens, MinFrequency = 1 });
        int v = tokenizer.VocabSize, d = 16, heads = 2, kvHeads = 1, hd = d / heads, inter = 32;
        var config = new Dictionary<string, object>
        {
            ["architectures"] = new[] { "Qwen2ForCausalLM" },
            ["model_type"] = "qwen2",
            ["hidden_size"] = d,
            ["intermediate_size"] = inter,
            ["num_hidden_layers"] = 2,
            ["num_attention_heads"] = heads,
            ["num_key_value_heads"] = kvHeads,
            ["vocab_size"] = v,
            ["rms_norm_eps"] = 1e-6,
            ["rope_theta"] = 10000.0,
            ["max_position_embeddings"] = 256,
            ["tie_word_embeddings"] = true,
            ["bos_token_id"] = 0,
            ["eos_token_id"] = 1,
        };
        File.WriteAllText(Path.Combine(directory, "config.json"), JsonSerializer.Serialize(config));

        var rng = new Random(seed);
        var tensors = new List<(string Name, long[] Shape, float[] Data)>();
        void Add(string name, params long[] shape)
        {
            long n = shape.Aggregate(1L, (a, b) => a * b);
            bool norm = name.EndsWith("layernorm.weight", StringComparison.Ordinal) || name == "model.norm.weight";
            tensors.Add((name, shape, [.. Enumerable.Range(0, (int)n).Select(_ => norm ? 1f : (float)(rng.NextDouble() * 2 - 1) * 0.5f)]));
        }
        Add("model.embed_tokens.weight", v, d);
        for (int l = 0; l < 2; l++)
        {
            string p = $"model.layers.{l}";
            Add(p + ".input_layernorm.weight", d);
            Add(p + ".self_attn.q_proj.weight", heads * hd, d);
            Add(p + ".self_attn.q_proj.bias", heads * hd);
            Add(p + ".self_attn.k_proj.weight", kvHeads * hd, d);
            Add(p + ".self_attn.k_proj.bias", kvHeads * hd);
            Add(p + ".self_attn.v_proj.weight", kvHeads * hd, d);
            Add(p + ".self_attn.v_proj.bias", kvHeads * hd);
            Add(p + ".self_attn.o_proj.weight", d, heads * hd);
            Add(p + ".post_attention_layernorm.weight", d);
            Add(p + ".mlp.gate_proj.weight", inter, d);
            Add(p + ".mlp.up_proj.weight", inter, d);
            Add(p + ".mlp.down_proj.weight", d, inter);
        }
        Add("model.norm.weight", d);
        WriteSafetensors(Path.Combine(directory, "model.safetensors"), tensors);
    }

    private static void WriteSafetensors(string path, List<(string Name, long[] Shape, float[] Data)> tensors)
    {
        var header = new Dictionary<string, object>();
        long offset = 0;
        foreach (var t in tensors)
        {
            header[t.Name] = new Dictionary<string, object> { ["dtype"] = "F32", ["shape"] = t.Shape, ["data_offsets"] = new[] { offset, offset + 4L * t.Data.Length } };
            offset += 4L * t.Data.Length;
        }
        byte[] json = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(header));
        using var f = File.Create(path);
        f.Write(BitConverter.GetBytes((long)json.Length));
        f.Write(json);
        foreach (var t in tensors)
            foreach (float x in t.Data) f.Write(BitConverter.GetBytes(x));
    }
}
