using SharpSeek.Models;
using SharpSeek.Training.Data;

namespace SharpSeek.Training.Tests;

/// <summary>Tiny DeepSeek-V3-style configs and data for training tests that run in seconds on one thread.</summary>
internal static class TinyConfigs
{
    public const string V3Json = """
    {
      "architectures": ["DeepseekV3ForCausalLM"], "model_type": "deepseek_v3",
      "vocab_size": 258, "hidden_size": 32, "intermediate_size": 64, "moe_intermediate_size": 16,
      "num_hidden_layers": 2, "num_nextn_predict_layers": 1, "first_k_dense_replace": 1, "moe_layer_freq": 1,
      "num_attention_heads": 2, "num_key_value_heads": 2,
      "n_routed_experts": 8, "n_shared_experts": 1, "num_experts_per_tok": 2, "n_group": 2, "topk_group": 1,
      "topk_method": "noaux_tc", "scoring_func": "sigmoid", "norm_topk_prob": true, "routed_scaling_factor": 2.5,
      "q_lora_rank": 16, "kv_lora_rank": 16, "qk_nope_head_dim": 8, "qk_rope_head_dim": 8, "v_head_dim": 8,
      "rms_norm_eps": 1e-6, "rope_theta": 10000,
      "rope_scaling": { "type": "yarn", "factor": 4.0, "original_max_position_embeddings": 32, "beta_fast": 32, "beta_slow": 1, "mscale": 1.0, "mscale_all_dim": 1.0 },
      "max_position_embeddings": 128, "bos_token_id": 256, "eos_token_id": 257
    }
    """;

    public static ModelConfig V3 => ModelConfig.Parse(System.Text.Encoding.UTF8.GetBytes(V3Json));

    /// <summary>A small, very regular corpus: short sentences over a few words, so a tiny model learns fast.</summary>
    public static TokenData Corpus(int sentences = 4000, int seed = 3)
    {
        var rng = new Random(seed);
        string[] subjects = ["the cat", "a dog", "my bird", "the fox"], verbs = ["sees", "likes", "eats", "finds"], objects = ["a fish.", "the seed.", "some milk.", "a bone."];
        var sb = new System.Text.StringBuilder();
        for (int i = 0; i < sentences; i++) sb.Append(subjects[rng.Next(4)]).Append(' ').Append(verbs[rng.Next(4)]).Append(' ').Append(objects[rng.Next(4)]).Append(' ');
        return new TokenData(ByteTokenizer.Encode(sb.ToString()), 0.1);
    }
}
