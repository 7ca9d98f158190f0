using System.Runtime.InteropServices;
using System.Text.Json;
using SharpSeek.Formats.Safetensors;
using SharpSeek.Tokenization;

namespace SharpSeek.LlamaCpp.Tests;

/// <summary>
/// The shape of a small dense model (Qwen2/Qwen3/Llama family) to write with random weights. The defaults are a small
/// Qwen3: <c>head_dim</c> 128 with 4 heads over a hidden size of 256 (q is wider than the hidden state, as in Qwen3-0.6B),
/// 2 KV heads, q/k norms, no biases. Row lengths are multiples of 256 so every K-quant applies.
/// </summary>
internal sealed record DenseShape
{
    public string Architecture { get; init; } = "Qwen3ForCausalLM";
    public string ModelType { get; init; } = "qwen3";
    public int Hidden { get; init; } = 256;
    public int Layers { get; init; } = 2;
    public int Heads { get; init; } = 4;
    public int KvHeads { get; init; } = 2;
    public int HeadDim { get; init; } = 128;
    public int Intermediate { get; init; } = 512;
    public int Vocab { get; init; } = 512;
    public bool Tied { get; init; }
    /// <summary>q/k/v biases (Qwen2 always has them; Llama/Qwen3 through <c>attention_bias</c>).</summary>
    public bool QkvBias { get; init; }
    public bool QkNorm { get; init; } = true;
    public double RopeTheta { get; init; } = 1_000_000;
    /// <summary>config.json's <c>rope_scaling</c>, as written.</summary>
    public Dictionary<string, object>? RopeScaling { get; init; }
    /// <summary>Safetensors dtype of every tensor: F32, F16 or BF16.</summary>
    public string DType { get; init; } = "F32";
    public ulong Seed { get; init; } = 20261207;
}

/// <summary>
/// Writes a random-weight Hugging Face checkpoint of a <see cref="DenseShape"/> (config.json, model.safetensors, and a
/// small byte-level BPE tokenizer trained here with Qwen2's pre-tokenizer, so <c>convert</c> writes a GGUF llama.cpp
/// loads). Weights ~ U(±√(3/fan_in)); q/k norm weights U(0.5, 1.5) so that normalising after instead of before RoPE, or
/// with the wrong head stride, changes the result; other norms U(0.8, 1.2); biases U(±0.1).
/// </summary>
internal static class RandomCheckpoint
{
    public static void Write(string dir, DenseShape s)
    {
        Directory.CreateDirectory(dir);
        var tokenizer = WriteTokenizer(dir);
        var config = new Dictionary<string, object?>
        {
            ["architectures"] = new[] { s.Architecture },
            ["model_type"] = s.ModelType,
            ["hidden_size"] = s.Hidden,
            ["intermediate_size"] = s.Intermediate,
            ["num_hidden_layers"] = s.Layers,
            ["num_attention_heads"] = s.Heads,
            ["num_key_value_heads"] = s.KvHeads,
            ["head_dim"] = s.HeadDim,
            ["vocab_size"] = s.Vocab,
            ["rms_norm_eps"] = 1e-6,
            ["rope_theta"] = s.RopeTheta,
            ["rope_scaling"] = s.RopeScaling,
            ["max_position_embeddings"] = 4096,
            ["tie_word_embeddings"] = s.Tied,
            ["bos_token_id"] = tokenizer.BosId,
            ["eos_token_id"] = tokenizer.EosId,
            ["torch_dtype"] = s.DType switch { "F16" => "float16", "BF16" => "bfloat16", _ => "float32" },
        };
        if (s.Architecture != "Qwen2ForCausalLM") config["attention_bias"] = s.QkvBias;
        File.WriteAllText(Path.Combine(dir, "config.json"), JsonSerializer.Serialize(config));

        var w = new SafetensorsWriter();
        ulong state = s.Seed;
        void Add(string name, long[] shape, double center, double bound)
        {
            long n = shape.Aggregate(1L, (a, b) => a * b);
            var v = new float[n];
            for (long i = 0; i < n; i++) v[i] = (float)(center + bound * (2 * Next(ref state) - 1));
            switch (s.DType)
            {
                case "F16":
                    var h = new Half[n];
                    for (long i = 0; i < n; i++) h[i] = (Half)v[i];
                    w.AddRaw(name, "F16", shape, MemoryMarshal.AsBytes(h.AsSpan()).ToArray());
                    break;
                default:
                    w.Add(name, v, shape, s.DType);
                    break;
            }
        }
        void Matrix(string name, int rows, int cols) => Add(name, [rows, cols], 0, Math.Sqrt(3.0 / cols));
        int d = s.Hidden, q = s.Heads * s.HeadDim, kv = s.KvHeads * s.HeadDim;
        Matrix("model.embed_tokens.weight", s.Vocab, d);
        for (int l = 0; l < s.Layers; l++)
        {
            string p = $"model.layers.{l}.";
            Add(p + "input_layernorm.weight", [d], 1, 0.2);
            Matrix(p + "self_attn.q_proj.weight", q, d);
            Matrix(p + "self_attn.k_proj.weight", kv, d);
            Matrix(p + "self_attn.v_proj.weight", kv, d);
            if (s.QkvBias)
            {
                Add(p + "self_attn.q_proj.bias", [q], 0, 0.1);
                Add(p + "self_attn.k_proj.bias", [kv], 0, 0.1);
                Add(p + "self_attn.v_proj.bias", [kv], 0, 0.1);
            }
            if (s.QkNorm)
            {
                Add(p + "self_attn.q_norm.weight", [s.HeadDim], 1, 0.5);
                Add(p + "self_attn.k_norm.weight", [s.HeadDim], 1, 0.5);
            }
            Matrix(p + "self_attn.o_proj.weight", d, q);
            Add(p + "post_attention_layernorm.weight", [d], 1, 0.2);
            Matrix(p + "mlp.gate_proj.weight", s.Intermediate, d);
            Matrix(p + "mlp.up_proj.weight", s.Intermediate, d);
            Matrix(p + "mlp.down_proj.weight", d, s.Intermediate);
        }
        Add("model.norm.weight", [d], 1, 0.2);
        if (!s.Tied) Matrix("lm_head.weight", s.Vocab, d);
        w.Save(Path.Combine(dir, "model.safetensors"));
    }

    /// <summary>
    /// Writes a random-weight DeepSeek-V2/V3 checkpoint for <paramref name="config"/> (a config.json as written; sizes are
    /// read back from it): MLA with or without q-LoRA, dense leading layers, routed and shared experts, the score-correction
    /// bias for noaux_tc. F32; no MTP layer.
    /// </summary>
    public static void WriteDeepSeek(string dir, Dictionary<string, object?> config, ulong seed = 20261207)
    {
        Directory.CreateDirectory(dir);
        var tokenizer = WriteTokenizer(dir);
        config["bos_token_id"] = tokenizer.BosId;
        config["eos_token_id"] = tokenizer.EosId;
        File.WriteAllText(Path.Combine(dir, "config.json"), JsonSerializer.Serialize(config));
        int I(string k) => config[k] is null ? 0 : Convert.ToInt32(config[k], System.Globalization.CultureInfo.InvariantCulture);
        int d = I("hidden_size"), h = I("num_attention_heads"), qLora = I("q_lora_rank"), kvLora = I("kv_lora_rank");
        int nope = I("qk_nope_head_dim"), rope = I("qk_rope_head_dim"), v = I("v_head_dim"), experts = I("n_routed_experts");
        int firstDense = I("first_k_dense_replace"), moeInter = I("moe_intermediate_size"), shared = I("n_shared_experts");

        var w = new SafetensorsWriter();
        ulong state = seed;
        void Add(string name, long[] shape, double center, double bound)
        {
            long n = shape.Aggregate(1L, (a, b) => a * b);
            var x = new float[n];
            for (long i = 0; i < n; i++) x[i] = (float)(center + bound * (2 * Next(ref state) - 1));
            w.Add(name, x, shape);
        }
        void Matrix(string name, int rows, int cols) => Add(name, [rows, cols], 0, Math.Sqrt(3.0 / cols));
        void Mlp(string p, int inter)
        {
            Matrix(p + "gate_proj.weight", inter, d);
            Matrix(p + "up_proj.weight", inter, d);
            Matrix(p + "down_proj.weight", d, inter);
        }
        Matrix("model.embed_tokens.weight", I("vocab_size"), d);
        for (int l = 0; l < I("num_hidden_layers"); l++)
        {
            string p = $"model.layers.{l}.";
            Add(p + "input_layernorm.weight", [d], 1, 0.2);
            if (qLora > 0)
            {
                Matrix(p + "self_attn.q_a_proj.weight", qLora, d);
                Add(p + "self_attn.q_a_layernorm.weight", [qLora], 1, 0.2);
                Matrix(p + "self_attn.q_b_proj.weight", h * (nope + rope), qLora);
            }
            else Matrix(p + "self_attn.q_proj.weight", h * (nope + rope), d);
            Matrix(p + "self_attn.kv_a_proj_with_mqa.weight", kvLora + rope, d);
            Add(p + "self_attn.kv_a_layernorm.weight", [kvLora], 1, 0.2);
            Matrix(p + "self_attn.kv_b_proj.weight", h * (nope + v), kvLora);
            Matrix(p + "self_attn.o_proj.weight", d, h * v);
            Add(p + "post_attention_layernorm.weight", [d], 1, 0.2);
            if (experts == 0 || l < firstDense) { Mlp(p + "mlp.", I("intermediate_size")); continue; }
            Matrix(p + "mlp.gate.weight", experts, d);
            if ((string?)config["topk_method"] == "noaux_tc") Add(p + "mlp.gate.e_score_correction_bias", [experts], 0, 0.1);
            for (int e = 0; e < experts; e++) Mlp($"{p}mlp.experts.{e}.", moeInter);
            if (shared > 0) Mlp(p + "mlp.shared_experts.", shared * moeInter);
        }
        Add("model.norm.weight", [d], 1, 0.2);
        Matrix("lm_head.weight", I("vocab_size"), d);
        w.Save(Path.Combine(dir, "model.safetensors"));
    }

    /// <summary>SplitMix64 → [0, 1).</summary>
    private static double Next(ref ulong state)
    {
        state += 0x9E3779B97F4A7C15UL;
        ulong z = state;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        return (z >> 11) * (1.0 / (1UL << 53));
    }

    private static Tokenizer WriteTokenizer(string dir)
    {
        var corpus = Enumerable.Range(0, 300).Select(i => $"What is {i * 37 % 1000} + {i * 11 % 97}? <think>\n{i % 9}+{i % 7}={i % 9 + i % 7}\n</think>\nThe answer is \\boxed{{{i}}}.");
        return BpeTrainer.TrainToDirectory(corpus, dir, new BpeTrainerOptions { VocabSize = 320, PreTokenizerPatterns = PreTokenizerPatterns.Qwen2, MinFrequency = 2 });
    }
}
