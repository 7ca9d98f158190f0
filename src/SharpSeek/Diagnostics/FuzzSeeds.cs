using System.Text.Json.Nodes;
using SharpSeek.Formats.Gguf;
using SharpSeek.Formats.Safetensors;
using SharpSeek.Generation;
using SharpSeek.Tokenization;

namespace SharpSeek.Diagnostics;

/// <summary>
/// The valid models the loader fuzzer mutates, made here so the fuzzer needs no files: a tiny DeepSeek-V3 (MLA with
/// q-LoRA, YaRN, one dense and one MoE layer with group-limited noaux_tc routing and a shared expert, an MTP layer) as a
/// Hugging Face directory (config.json + model.safetensors with F32 and BF16 tensors), and the same model converted to
/// GGUF with a byte-level BPE vocabulary in <c>tokenizer.ggml.*</c>.
/// </summary>
public static class FuzzSeeds
{
    private const int Vocab = 260, Hidden = 16, Inter = 32, MoeInter = 8, Heads = 2, QLora = 8, KvLora = 8, Nope = 4, RopeDim = 4, VDim = 4, Experts = 4;

    public static readonly string ConfigJson = $$"""
    {
      "architectures": ["DeepseekV3ForCausalLM"], "model_type": "deepseek_v3",
      "vocab_size": {{Vocab}}, "hidden_size": {{Hidden}}, "intermediate_size": {{Inter}}, "moe_intermediate_size": {{MoeInter}},
      "num_hidden_layers": 2, "num_nextn_predict_layers": 1, "first_k_dense_replace": 1, "moe_layer_freq": 1,
      "num_attention_heads": {{Heads}}, "num_key_value_heads": {{Heads}},
      "n_routed_experts": {{Experts}}, "n_shared_experts": 1, "num_experts_per_tok": 2, "n_group": 2, "topk_group": 1,
      "topk_method": "noaux_tc", "scoring_func": "sigmoid", "norm_topk_prob": true, "routed_scaling_factor": 2.5,
      "q_lora_rank": {{QLora}}, "kv_lora_rank": {{KvLora}}, "qk_nope_head_dim": {{Nope}}, "qk_rope_head_dim": {{RopeDim}}, "v_head_dim": {{VDim}},
      "rms_norm_eps": 1e-6, "rope_theta": 10000,
      "rope_scaling": { "type": "yarn", "factor": 4.0, "original_max_position_embeddings": 16, "beta_fast": 32, "beta_slow": 1, "mscale": 1.0, "mscale_all_dim": 1.0 },
      "max_position_embeddings": 64, "bos_token_id": 258, "eos_token_id": 259, "tie_word_embeddings": false
    }
    """;

    /// <summary>Writes config.json, model.safetensors and tokenizer.json into <paramref name="directory"/>.</summary>
    public static void WriteHuggingFace(string directory, ulong seed = 1)
    {
        Directory.CreateDirectory(directory);
        var rng = new Rng(seed);
        var w = new SafetensorsWriter();
        int bf16 = 0;
        void Add(string name, params long[] shape)
        {
            long n = shape.Aggregate(1L, (a, b) => a * b);
            bool norm = name.Contains("norm", StringComparison.Ordinal);
            var v = new float[n];
            for (int i = 0; i < n; i++) v[i] = norm ? 0.9f + 0.2f * (float)rng.NextDouble() : (float)(rng.NextDouble() - 0.5);
            // Some matrices in BF16, so the fuzzer meets both widths.
            w.Add(name, v, shape, shape.Length == 2 && bf16++ % 3 == 0 ? "BF16" : "F32");
        }
        void Layer(int i, bool moe)
        {
            string p = $"model.layers.{i}";
            Add(p + ".input_layernorm.weight", Hidden);
            Add(p + ".self_attn.q_a_proj.weight", QLora, Hidden);
            Add(p + ".self_attn.q_a_layernorm.weight", QLora);
            Add(p + ".self_attn.q_b_proj.weight", Heads * (Nope + RopeDim), QLora);
            Add(p + ".self_attn.kv_a_proj_with_mqa.weight", KvLora + RopeDim, Hidden);
            Add(p + ".self_attn.kv_a_layernorm.weight", KvLora);
            Add(p + ".self_attn.kv_b_proj.weight", Heads * (Nope + VDim), KvLora);
            Add(p + ".self_attn.o_proj.weight", Hidden, Heads * VDim);
            Add(p + ".post_attention_layernorm.weight", Hidden);
            if (!moe)
            {
                Mlp(p + ".mlp", Inter);
                return;
            }
            Add(p + ".mlp.gate.weight", Experts, Hidden);
            w.Add(p + ".mlp.gate.e_score_correction_bias", Enumerable.Range(0, Experts).Select(e => 0.01f * e).ToArray(), [Experts]);
            for (int e = 0; e < Experts; e++) Mlp($"{p}.mlp.experts.{e}", MoeInter);
            Mlp(p + ".mlp.shared_experts", MoeInter);
        }
        void Mlp(string p, int inter)
        {
            Add(p + ".gate_proj.weight", inter, Hidden);
            Add(p + ".up_proj.weight", inter, Hidden);
            Add(p + ".down_proj.weight", Hidden, inter);
        }
        Add("model.embed_tokens.weight", Vocab, Hidden);
        Layer(0, moe: false);
        Layer(1, moe: true);
        Add("model.norm.weight", Hidden);
        Add("lm_head.weight", Vocab, Hidden);
        // The MTP module (layer 2): embedding, two norms, the projection, a block and its head.
        Add("model.layers.2.embed_tokens.weight", Vocab, Hidden);
        Add("model.layers.2.enorm.weight", Hidden);
        Add("model.layers.2.hnorm.weight", Hidden);
        Add("model.layers.2.eh_proj.weight", Hidden, 2 * Hidden);
        Layer(2, moe: true);
        Add("model.layers.2.shared_head.norm.weight", Hidden);
        Add("model.layers.2.shared_head.head.weight", Vocab, Hidden);
        w.Save(Path.Combine(directory, "model.safetensors"));
        File.WriteAllText(Path.Combine(directory, "config.json"), ConfigJson);
        File.WriteAllText(Path.Combine(directory, "tokenizer.json"), TokenizerJson());
    }

    /// <summary>Writes the Hugging Face seed into <paramref name="scratch"/> and converts it to <paramref name="gguf"/>.</summary>
    public static void WriteGguf(string gguf, string scratch, ulong seed = 1)
    {
        WriteHuggingFace(scratch, seed);
        GgufExporter.Convert(scratch, gguf, target: null);
    }

    /// <summary>A byte-level BPE vocabulary: the 256 byte symbols, two merges and two special tokens (BOS, EOS).</summary>
    private static string TokenizerJson()
    {
        var vocab = new JsonObject();
        for (int b = 0; b < 256; b++) vocab[ByteLevel.ByteToChar((byte)b).ToString()] = b;
        string space = ByteLevel.ByteToChar((byte)' ').ToString();
        vocab[space + "t"] = 256;
        vocab["he"] = 257;
        JsonObject Special(int id, string content) => new()
        {
            ["id"] = id, ["content"] = content, ["single_word"] = false, ["lstrip"] = false, ["rstrip"] = false, ["normalized"] = false, ["special"] = true,
        };
        var o = new JsonObject
        {
            ["version"] = "1.0",
            ["added_tokens"] = new JsonArray(Special(258, "<｜begin▁of▁sentence｜>"), Special(259, "<｜end▁of▁sentence｜>")),
            ["normalizer"] = null,
            ["pre_tokenizer"] = new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = true, ["use_regex"] = true },
            ["post_processor"] = null,
            ["decoder"] = new JsonObject { ["type"] = "ByteLevel" },
            ["model"] = new JsonObject { ["type"] = "BPE", ["vocab"] = vocab, ["merges"] = new JsonArray(space + " t", "h e") },
        };
        return o.ToJsonString();
    }

}
