using System.Globalization;
using SharpSeek.Models;

namespace SharpSeek.Training.Recipe;

/// <summary>Sizes and budgets of one recipe run: <c>smoke</c> (CI, under two minutes) or <c>tiny</c> (the bundled model).</summary>
public sealed record RecipeProfile
{
    public required string Name { get; init; }
    /// <summary>"deepseek" (MLA + DeepSeekMoE + MTP) or "dense": the Llama baseline with the same active parameters
    /// per token (multi-head attention of the same width, one SwiGLU of the routed + shared experts' active width).</summary>
    public string Arch { get; init; } = "deepseek";
    // Model (DeepSeek-V3: MLA, first layer dense, then DeepSeekMoE with shared + routed experts, MTP depth 1).
    public int Hidden { get; init; } = 128;
    public int Layers { get; init; } = 4;
    public int Heads { get; init; } = 4;
    public int DenseIntermediate { get; init; } = 384;
    public int MoeIntermediate { get; init; } = 128;
    public int RoutedExperts { get; init; } = 4;
    public int ExpertsPerToken { get; init; } = 2;
    public int KvLoraRank { get; init; } = 32;
    public int QkNope { get; init; } = 32;
    public int QkRope { get; init; } = 32;
    public int VHead { get; init; } = 32;
    public int MaxPositions { get; init; } = 1024;
    public int VocabSize { get; init; } = 512;
    public int TokenizerItems { get; init; } = 4000;

    // Stages.
    public IReadOnlyList<string> Difficulties { get; init; } = TaskGenerator.Difficulties;
    public int PretrainSteps { get; init; } = 300;
    public int PretrainBatch { get; init; } = 8;
    public int PretrainSeqLen { get; init; } = 256;
    public double PretrainMinutes { get; init; }
    /// <summary>Stage budgets in CPU minutes of the training process rather than wall minutes (see <see cref="StageOptions.CpuBudget"/>).</summary>
    public bool CpuBudget { get; init; }
    /// <summary>
    /// Share of pretraining documents that are one-digit fact drills (<see cref="FactDrill"/>). Off by default: the one
    /// run with 0.3 (together with Qwen2's pre-tokenizer and a longer pretraining) lost most hard problems.
    /// </summary>
    public double PretrainDrillShare { get; init; }
    public int SftSteps { get; init; } = 2000;
    public int SftRows { get; init; } = 8;
    public int SftLength { get; init; } = 512;
    public double SftLearningRate { get; init; } = 2e-3;
    public double SftMinutes { get; init; }
    public double IdentityShare { get; init; } = 0.03;
    public GrpoOptions Grpo { get; init; } = new();
    public double GrpoMinutes { get; init; }
    /// <summary>Budget of the MTP stage (the MTP layer alone on the final model, in minutes; CPU minutes with <see cref="CpuBudget"/>).</summary>
    public double MtpMinutes { get; init; } = 0.2;
    /// <summary>Most steps of the MTP stage (the smoke profile counts steps with no time budget, so a loaded machine trains the same steps).</summary>
    public int MtpSteps { get; init; } = 100_000;
    public double MtpLearningRate { get; init; } = 3e-3;
    /// <summary>GRPO runs from the SFT model with different seeds, for the lift's spread on the hardest split (1: the recipe's run only, no study).</summary>
    public int GrpoSeeds { get; init; } = 1;
    public int HardEvalItems { get; init; } = 300;
    /// <summary>Samples per problem for the seed study's second, R1-style pass@1 (temperature 0.6, top-p 0.95); 1 = greedy only.</summary>
    public int HardEvalSamples { get; init; } = 4;
    public string EvalSuite { get; init; } = "test";
    public int EvalItems { get; init; } = 300;
    public int EvalMaxTokens { get; init; } = 768;
    /// <summary>Problems of the sanity suite (every one-digit fact, 300) evaluated per stage, spread evenly over it; 0 = none.</summary>
    public int SanityItems { get; init; } = 300;

    public static RecipeProfile Get(string name) => name switch
    {
        "smoke" => Smoke,
        "tiny" => Tiny,
        _ => throw new SharpSeekException($"unknown recipe profile '{name}' (smoke, tiny)"),
    };

    /// <summary>Every stage for a few steps on easy problems with a model of a few thousand parameters: proves the pipeline runs and the loss falls.</summary>
    public static RecipeProfile Smoke => new()
    {
        Name = "smoke", Hidden = 32, Layers = 2, Heads = 2, DenseIntermediate = 64, MoeIntermediate = 16, RoutedExperts = 4, ExpertsPerToken = 2,
        KvLoraRank = 16, QkNope = 8, QkRope = 8, VHead = 8, MaxPositions = 256, VocabSize = 300, TokenizerItems = 200,
        Difficulties = [TaskGenerator.Easy], PretrainSteps = 30, PretrainBatch = 4, PretrainSeqLen = 64, SftSteps = 40, SftRows = 4, SftLength = 192, SftLearningRate = 3e-3,
        Grpo = new GrpoOptions { Stage = new StageOptions { Steps = 2, LearningRate = 1e-4, MinLearningRate = 1e-4, WarmupSteps = 0, WeightDecay = 0, MtpWeight = 0, LogEvery = 1, CheckpointEvery = 0 }, PromptsPerStep = 2, GroupSize = 2, MaxNewTokens = 24, Difficulties = [TaskGenerator.Easy] },
        EvalSuite = "smoke", EvalItems = 4, EvalMaxTokens = 24, SanityItems = 6, HardEvalItems = 4, HardEvalSamples = 2, MtpMinutes = 0, MtpSteps = 30,
    };

    /// <summary>
    /// The bundled model (about 1.6 M parameters). Budgets are CPU minutes of the process, 98 in all, sized for two
    /// threads: two threads spend about 1.8 CPU seconds per wall second here, so an idle 2-core machine needs about 52
    /// minutes, and a busy machine trains the same steps, only later. SFT batches are 4 rows: 8 rows (or 21 % more
    /// real tokens per row) gave the same validation loss at equal steps, and a 4-row step costs about 0.6 of an 8-row one.
    /// </summary>
    public static RecipeProfile Tiny => new()
    {
        Name = "tiny", CpuBudget = true, PretrainSteps = 300, PretrainMinutes = 4, SftSteps = 100_000, SftRows = 4, SftLength = 512, SftMinutes = 86, GrpoMinutes = 8, MtpMinutes = 6, EvalItems = 200, EvalMaxTokens = 512,
        Grpo = new GrpoOptions { Stage = new StageOptions { Steps = 1000, LearningRate = 1e-5, MinLearningRate = 1e-5, WarmupSteps = 0, WeightDecay = 0, MtpWeight = 0, LogEvery = 1, CheckpointEvery = 10 }, PromptsPerStep = 4, GroupSize = 8, MaxNewTokens = 448 },
    };

    public ModelConfig ModelConfig()
    {
        if (Arch == "dense") return DenseConfig();
        if (Arch != "deepseek") throw new SharpSeekException($"unknown architecture '{Arch}' (deepseek, dense)");
        string json = string.Create(CultureInfo.InvariantCulture, $$"""
        {
          "architectures": ["DeepseekV3ForCausalLM"], "model_type": "deepseek_v3",
          "vocab_size": {{VocabSize}}, "hidden_size": {{Hidden}}, "intermediate_size": {{DenseIntermediate}}, "moe_intermediate_size": {{MoeIntermediate}},
          "num_hidden_layers": {{Layers}}, "num_nextn_predict_layers": 1, "first_k_dense_replace": 1, "moe_layer_freq": 1,
          "num_attention_heads": {{Heads}}, "num_key_value_heads": {{Heads}},
          "n_routed_experts": {{RoutedExperts}}, "n_shared_experts": 1, "num_experts_per_tok": {{ExpertsPerToken}}, "n_group": 1, "topk_group": 1,
          "topk_method": "noaux_tc", "scoring_func": "sigmoid", "norm_topk_prob": true, "routed_scaling_factor": 1.0,
          "q_lora_rank": null, "kv_lora_rank": {{KvLoraRank}}, "qk_nope_head_dim": {{QkNope}}, "qk_rope_head_dim": {{QkRope}}, "v_head_dim": {{VHead}},
          "rms_norm_eps": 1e-6, "rope_theta": 10000, "rope_scaling": null,
          "max_position_embeddings": {{MaxPositions}}, "bos_token_id": 0, "eos_token_id": 1
        }
        """);
        return Models.ModelConfig.Parse(System.Text.Encoding.UTF8.GetBytes(json));
    }

    /// <summary>
    /// The dense baseline: every layer a SwiGLU as wide as a MoE layer's active experts (shared + top-k routed), so a
    /// token passes through the same number of parameters; attention with the heads and value width of the MLA.
    /// </summary>
    private ModelConfig DenseConfig()
    {
        int inter = (1 + ExpertsPerToken) * MoeIntermediate;
        string json = string.Create(CultureInfo.InvariantCulture, $$"""
        {
          "architectures": ["LlamaForCausalLM"], "model_type": "llama",
          "vocab_size": {{VocabSize}}, "hidden_size": {{Hidden}}, "intermediate_size": {{inter}},
          "num_hidden_layers": {{Layers}}, "num_attention_heads": {{Heads}}, "num_key_value_heads": {{Heads}}, "head_dim": {{VHead}},
          "rms_norm_eps": 1e-6, "rope_theta": 10000, "rope_scaling": null, "tie_word_embeddings": false, "attention_bias": false,
          "max_position_embeddings": {{MaxPositions}}, "bos_token_id": 0, "eos_token_id": 1
        }
        """);
        return Models.ModelConfig.Parse(System.Text.Encoding.UTF8.GetBytes(json));
    }
}
