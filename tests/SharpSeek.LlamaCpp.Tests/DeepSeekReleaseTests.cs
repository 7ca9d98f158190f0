using SharpSeek.Formats.Gguf;
using SharpSeek.Models;
using Xunit.Abstractions;

namespace SharpSeek.LlamaCpp.Tests;

/// <summary>
/// The MLA + MoE releases, each as its own config.json with the sizes made small and every routing and rope setting kept
/// (architecture, q-LoRA or not, scoring function, top-k method, groups, renormalisation, routed scale, leading dense
/// layers, shared experts, YaRN): random weights through the Hugging Face loader, then <c>convert</c> to GGUF, the GGUF
/// through the engine and through llama.cpp (F32, ≤ 1e-4). The GGUF gives the Hugging Face checkpoint's logits except for
/// V2's grouped routing: Hugging Face's V2 gate ranks groups by their best expert, llama.cpp by the sum of the best two,
/// and each format follows its own reference code.
/// </summary>
public sealed class DeepSeekReleaseTests(ITestOutputHelper output)
{
    /// <summary>The keys every release shares, at a small size.</summary>
    private static Dictionary<string, object?> Small(string arch, string type) => new()
    {
        ["architectures"] = new[] { arch },
        ["model_type"] = type,
        ["vocab_size"] = 512,
        ["hidden_size"] = 64,
        ["intermediate_size"] = 128,
        ["moe_intermediate_size"] = 32,
        ["num_attention_heads"] = 4,
        ["num_key_value_heads"] = 4,
        ["kv_lora_rank"] = 32,
        ["qk_nope_head_dim"] = 16,
        ["qk_rope_head_dim"] = 16,
        ["v_head_dim"] = 16,
        ["n_routed_experts"] = 16,
        ["moe_layer_freq"] = 1,
        ["hidden_act"] = "silu",
        ["rms_norm_eps"] = 1e-6,
        ["rope_theta"] = 10000,
        ["max_position_embeddings"] = 163840,
        ["tie_word_embeddings"] = false,
        ["attention_bias"] = false,
        ["torch_dtype"] = "float32",
    };

    private static Dictionary<string, object> Yarn(double mscale) => new()
    {
        ["type"] = "yarn", ["factor"] = 40, ["original_max_position_embeddings"] = 4096, ["beta_fast"] = 32, ["beta_slow"] = 1,
        ["mscale"] = mscale, ["mscale_all_dim"] = mscale,
    };

    public static TheoryData<string> Releases => ["V2 / V2.5 / Coder-V2", "V2-Lite / Coder-V2-Lite", "V3 / V3.1 / R1 / R1-0528"];

    private static Dictionary<string, object?> Config(string release)
    {
        switch (release)
        {
            case "V2 / V2.5 / Coder-V2":
            {
                // 236B: 160 experts in 8 groups (3 used), top-6, 2 shared, softmax, routed scale 16, no renormalisation.
                var c = Small("DeepseekV2ForCausalLM", "deepseek_v2");
                c["num_hidden_layers"] = 3; c["first_k_dense_replace"] = 1; c["q_lora_rank"] = 48;
                c["n_shared_experts"] = 2; c["num_experts_per_tok"] = 6; c["n_group"] = 8; c["topk_group"] = 3;
                c["topk_method"] = "group_limited_greedy"; c["scoring_func"] = "softmax"; c["norm_topk_prob"] = false;
                c["routed_scaling_factor"] = 16.0; c["rope_scaling"] = Yarn(0.707);
                return c;
            }
            case "V2-Lite / Coder-V2-Lite":
            {
                // 16B: V2's layout without q-LoRA, 64 experts top-6 with no groups (greedy), routed scale 1.
                var c = Config("V2 / V2.5 / Coder-V2");
                c["q_lora_rank"] = null; c["n_group"] = 1; c["topk_group"] = 1; c["topk_method"] = "greedy"; c["routed_scaling_factor"] = 1.0;
                return c;
            }
            case "V3 / V3.1 / R1 / R1-0528":
            {
                // 671B: 256 experts in 8 groups (4 used), top-8, 1 shared, sigmoid with the score-correction bias (noaux_tc),
                // renormalised then scaled by 2.5, 3 leading dense layers, one MTP layer (not written here).
                var c = Small("DeepseekV3ForCausalLM", "deepseek_v3");
                c["num_hidden_layers"] = 5; c["first_k_dense_replace"] = 3; c["q_lora_rank"] = 48;
                c["n_shared_experts"] = 1; c["num_experts_per_tok"] = 8; c["n_group"] = 8; c["topk_group"] = 4;
                c["topk_method"] = "noaux_tc"; c["scoring_func"] = "sigmoid"; c["norm_topk_prob"] = true;
                c["routed_scaling_factor"] = 2.5; c["num_nextn_predict_layers"] = 1; c["rope_scaling"] = Yarn(1.0);
                return c;
            }
            default:
                throw new ArgumentException(release);
        }
    }

    [Theory, MemberData(nameof(Releases))]
    public void Loads_converts_and_matches_llama_cpp(string release)
    {
        var config = Config(release);
        using var dir = new TempDir();
        string hf = dir.File("hf"), gguf = dir.File("model-f32.gguf");
        RandomCheckpoint.WriteDeepSeek(hf, config);
        using (var m = ModelLoader.Load(hf))
        {
            var c = m.Config;
            Assert.Equal(ModelFamily.DeepSeek, c.Family);
            Assert.Equal((string)config["topk_method"]!, c.TopkMethod);
            Assert.Equal((string)config["scoring_func"]!, c.ScoringFunc);
            Assert.Equal(config["q_lora_rank"] is null ? 0 : 48, c.QLoraRank);
        }
        var tokens = Qwen3Tests.Tokens;
        var fromHf = Logits.Ours(hf, tokens);
        Assert.All(fromHf, x => Assert.True(float.IsFinite(x)));
        GgufExporter.Convert(hf, gguf, null);
        var ours = Logits.Ours(gguf, tokens);
        var same = Logits.Compare(ours, fromHf, 512);
        var llama = Logits.Compare(ours, LlamaCpp.Logits(gguf, tokens), 512);
        string line = $"[deepseek-llamacpp] {release}: safetensors vs GGUF {same}; GGUF vs llama.cpp {llama} (logit rms {Logits.Rms(fromHf):0.000})";
        output.WriteLine(line);
        Console.WriteLine(line);
        Assert.True(Logits.Rms(fromHf) > 0.3, "nearly flat logits; the comparison would prove little");
        if ((string)config["topk_method"]! != "group_limited_greedy")
            Assert.True(same.MaxAbs <= 1e-4, $"{release}: safetensors vs GGUF max |Δlogit| {same.MaxAbs}");
        Assert.True(llama.MaxAbs <= 1e-4, $"{release}: GGUF vs llama.cpp max |Δlogit| {llama.MaxAbs}");
    }
}
