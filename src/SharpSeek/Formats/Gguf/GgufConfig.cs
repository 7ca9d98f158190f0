using SharpSeek.Models;

namespace SharpSeek.Formats.Gguf;

/// <summary>
/// Builds a <see cref="ModelConfig"/> from GGUF metadata (llama.cpp key names, <c>{arch}.*</c>) for the architectures the
/// engine runs. Missing required keys and out-of-range values are errors naming the file and key.
/// </summary>
public static class GgufConfig
{
    public static readonly IReadOnlyList<string> SupportedArchitectures = ["qwen2", "qwen3", "llama", "deepseek2"];

    public static ModelConfig Build(GgufFile file) => new Reader(file).Read();

    /// <summary>The key of <paramref name="file"/> that carries <c>config.json</c>'s <paramref name="configKey"/>, for messages.</summary>
    public static string KeyName(GgufFile file, string configKey) => KeyOf((file.Architecture ?? "") + ".", configKey);

    /// <summary>The GGUF key that carries <c>config.json</c>'s <paramref name="key"/> (for messages).</summary>
    private static string KeyOf(string a, string key) => key switch
        {
            "rms_norm_eps" => a + "attention.layer_norm_rms_epsilon",
            "rope_theta" => a + "rope.freq_base",
            "vocab_size" => a + "vocab_size' / 'tokenizer.ggml.tokens",
            "hidden_size" => a + "embedding_length",
            "num_hidden_layers" => a + "block_count",
            "num_nextn_predict_layers" => a + "nextn_predict_layers",
            "num_key_value_heads" => a + "attention.head_count_kv",
            "n_routed_experts" => a + "expert_count",
            "moe_intermediate_size" => a + "expert_feed_forward_length",
            "q_lora_rank" => a + "attention.q_lora_rank",
            "num_attention_heads" => a + "attention.head_count",
            "max_position_embeddings" => a + "context_length",
            "qk_rope_head_dim" or "head_dim" => a + "rope.dimension_count",
            "kv_lora_rank" => a + "attention.kv_lora_rank",
            "qk_nope_head_dim" => a + "attention.key_length",
            "v_head_dim" => a + "attention.value_length",
            "intermediate_size" => a + "feed_forward_length",
            "routed_scaling_factor" => a + "expert_weights_scale",
            "rope_scaling.factor" => a + "rope.scaling.factor",
            "rope_scaling.original_max_position_embeddings" => a + "rope.scaling.original_context_length",
            "rope_scaling.beta_fast" => a + "rope.scaling.yarn_beta_fast",
            "rope_scaling.beta_slow" => a + "rope.scaling.yarn_beta_slow",
            _ => key,
        };

    private readonly struct Reader(GgufFile f)
    {
        private string File => f.FileName;

        public ModelConfig Read()
        {
            string arch = f.Architecture ?? throw new ModelFormatException($"{File}: missing key 'general.architecture'");
            if (arch == "deepseek32") throw ModelConfig.SparseAttentionNotSupported(File, "architecture 'deepseek32' (key 'general.architecture')");
            if (!SupportedArchitectures.Contains(arch))
                throw new ModelFormatException($"{File}: unsupported architecture '{arch}' (key 'general.architecture'); supported: {string.Join(", ", SupportedArchitectures)}");
            bool deepseek = arch == "deepseek2";
            string a = arch + ".";

            int hidden = Int(a + "embedding_length");
            int heads = Int(a + "attention.head_count");
            if (heads <= 0) throw Bad(a + "attention.head_count", "must be positive");
            int blocks = Int(a + "block_count");
            int nextn = Int(a + "nextn_predict_layers", 0);
            if (nextn > blocks) throw Bad(a + "nextn_predict_layers", $"({nextn}) exceeds block_count ({blocks})");

            var eos = new List<int>();
            if (OptInt("tokenizer.ggml.eos_token_id") is int e) eos.Add(e);
            if (OptInt("tokenizer.ggml.eot_token_id") is int eot && !eos.Contains(eot)) eos.Add(eot);

            var cfg = new ModelConfig
            {
                Architecture = arch switch
                {
                    "qwen2" => "Qwen2ForCausalLM",
                    "qwen3" => "Qwen3ForCausalLM",
                    "llama" => "LlamaForCausalLM",
                    _ => IsV3Style(a) ? "DeepseekV3ForCausalLM" : "DeepseekV2ForCausalLM",
                },
                ModelType = arch switch
                {
                    "qwen2" => "qwen2",
                    "qwen3" => "qwen3",
                    "llama" => "llama",
                    _ => IsV3Style(a) ? "deepseek_v3" : "deepseek_v2",
                },
                Family = deepseek ? ModelFamily.DeepSeek : ModelFamily.Dense,
                VocabSize = VocabSize(a),
                HiddenSize = hidden,
                IntermediateSize = Int(a + "feed_forward_length", deepseek ? 0 : null),
                NumHiddenLayers = blocks - nextn,
                NumAttentionHeads = heads,
                // MLA stores head_count_kv = 1 (one shared latent "head"); the engine's DeepSeek config counts query heads.
                NumKeyValueHeads = deepseek ? heads : Int(a + "attention.head_count_kv", heads),
                RmsNormEps = Dbl(a + "attention.layer_norm_rms_epsilon"),
                RopeTheta = Dbl(a + "rope.freq_base", 10000),
                RopeScaling = ReadRopeScaling(a, deepseek),
                // GGUF llama q/k rows are permuted by convert_hf_to_gguf for llama.cpp's adjacent-pair rope; qwen2/qwen3 are
                // not permuted and use NEOX (split halves); deepseek2 uses adjacent pairs like DeepSeek's own code.
                RopeLayout = arch is "qwen2" or "qwen3" ? RopeLayout.HalfSplit : RopeLayout.Interleaved,
                RopeFreqFactors = ReadRopeFreqs(),
                MaxPositionEmbeddings = Int(a + "context_length", 4096),
                TieWordEmbeddings = !f.ContainsTensor("output.weight"),
                AttentionBias = !deepseek && f.ContainsTensor("blk.0.attn_q.bias"),
                // llama.cpp's qwen3 requires attn_q_norm/attn_k_norm in every layer.
                QkNorm = arch == "qwen3",
                BosTokenId = OptInt("tokenizer.ggml.bos_token_id"),
                EosTokenIds = eos,
            };
            if (cfg.NumHiddenLayers <= 0) throw Bad(a + "block_count", "must be positive");
            if (cfg.VocabSize <= 0) throw new ModelFormatException($"{File}: vocabulary size is 0 (keys '{a}vocab_size', 'tokenizer.ggml.tokens')");
            cfg = deepseek ? DeepSeek(cfg, a) : Dense(cfg, a, hidden, heads);
            cfg.Validate(File, k => KeyOf(a, k));
            return cfg;
        }


        private ModelConfig Dense(ModelConfig cfg, string a, int hidden, int heads)
        {
            int headDim = Int(a + "attention.key_length", hidden % heads == 0 ? hidden / heads : 0);
            if (headDim <= 0) throw new ModelFormatException($"{File}: key '{a}attention.key_length' missing and embedding_length {hidden} is not divisible by head_count {heads}");
            int vLen = Int(a + "attention.value_length", headDim);
            if (vLen != headDim) throw Bad(a + "attention.value_length", $"({vLen}) differs from key_length ({headDim}); not supported");
            int ropeDim = Int(a + "rope.dimension_count", headDim);
            if (ropeDim != headDim) throw Bad(a + "rope.dimension_count", $"({ropeDim}) differs from the head size ({headDim}); partial rotary is not supported");
            if (cfg.NumKeyValueHeads <= 0 || heads % cfg.NumKeyValueHeads != 0)
                throw Bad(a + "attention.head_count_kv", $"({cfg.NumKeyValueHeads}) must divide head_count ({heads})");
            if (cfg.IntermediateSize <= 0) throw Bad(a + "feed_forward_length", "must be positive");
            return cfg with { HeadDim = headDim };
        }

        private ModelConfig DeepSeek(ModelConfig cfg, string a)
        {
            int rope = Int(a + "rope.dimension_count");
            if (rope <= 0 || rope % 2 != 0) throw Bad(a + "rope.dimension_count", $"(qk_rope_head_dim) must be positive and even, is {rope}");
            // Split-MLA files (attn_k_b/attn_v_b) carry the per-head sizes in the *_mla keys; key_length/value_length
            // then describe the compressed cache. Older files (attn_kv_b) have the per-head sizes in key_length/value_length.
            bool mla = f.Metadata.ContainsKey(a + "attention.key_length_mla") && f.Metadata.ContainsKey(a + "attention.value_length_mla");
            string kKey = a + (mla ? "attention.key_length_mla" : "attention.key_length");
            string vKey = a + (mla ? "attention.value_length_mla" : "attention.value_length");
            int keyLen = Int(kKey), vHead = Int(vKey);
            if (keyLen <= rope) throw Bad(kKey, $"({keyLen}) must exceed rope.dimension_count ({rope})");
            if (vHead <= 0) throw Bad(vKey, "must be positive");

            int experts = Int(a + "expert_count", 0);
            int groups = Int(a + "expert_group_count", 1);
            uint gating = (uint)Int(a + "expert_gating_func", 1);
            string scoring = gating switch
            {
                1 => "softmax",
                2 => "sigmoid",
                _ => throw Bad(a + "expert_gating_func", $"= {gating} is not supported (1 = softmax, 2 = sigmoid)"),
            };
            bool hasBias = f.Tensors.Any(t => t.Name.EndsWith(".exp_probs_b.bias", StringComparison.Ordinal));
            // With exp_probs_b llama.cpp adds the bias for selection: DeepSeek-V3's noaux_tc. With groups it ranks them by the
            // sum of their top-2 scores, with or without the bias (ModelConfig.RanksGroupsByTopTwo).
            string method = hasBias ? "noaux_tc" : groups > 1 ? "group_limited_greedy" : "greedy";

            cfg = cfg with
            {
                QLoraRank = Int(a + "attention.q_lora_rank", 0),
                KvLoraRank = Int(a + "attention.kv_lora_rank"),
                QkRopeHeadDim = rope,
                QkNopeHeadDim = keyLen - rope,
                VHeadDim = vHead,
                MoeIntermediateSize = Int(a + "expert_feed_forward_length", 0),
                FirstKDenseReplace = Int(a + "leading_dense_block_count", 0),
                NRoutedExperts = experts,
                NSharedExperts = Int(a + "expert_shared_count", 0),
                NumExpertsPerTok = experts > 0 ? Int(a + "expert_used_count") : 0,
                NGroup = groups,
                TopkGroup = Int(a + "expert_group_used_count", groups),
                TopkMethod = method,
                ScoringFunc = scoring,
                NormTopkProb = Bool(a + "expert_weights_norm", false),
                RoutedScalingFactor = Dbl(a + "expert_weights_scale", 1),
                RoutingWeights = RoutingWeights.LlamaCpp,
                NumNextnPredictLayers = Int(a + "nextn_predict_layers", 0),
            };
            if (cfg.KvLoraRank <= 0) throw Bad(a + "attention.kv_lora_rank", "must be positive");
            if (cfg.FirstKDenseReplace > 0 && cfg.IntermediateSize <= 0) throw Bad(a + "feed_forward_length", "must be positive when there are leading dense blocks");
            if (experts > 0)
            {
                string k = a + "expert_used_count";
                if (cfg.NumExpertsPerTok <= 0 || cfg.NumExpertsPerTok > experts) throw Bad(k, $"({cfg.NumExpertsPerTok}) must be in 1..expert_count ({experts})");
                if (groups <= 0 || experts % groups != 0) throw Bad(a + "expert_group_count", $"({groups}) must divide expert_count ({experts})");
                if (cfg.TopkGroup <= 0 || cfg.TopkGroup > groups) throw Bad(a + "expert_group_used_count", $"({cfg.TopkGroup}) must be in 1..expert_group_count ({groups})");
                if (groups > 1 && method == "noaux_tc" && experts / groups < 2) throw Bad(a + "expert_group_count", "leaves fewer than 2 experts per group (group scores are top-2 sums)");
                if (groups > 1 && cfg.TopkGroup * (experts / groups) < cfg.NumExpertsPerTok) throw Bad(a + "expert_group_used_count", "× experts per group is below expert_used_count");
                if (cfg.MoeIntermediateSize <= 0) throw Bad(a + "expert_feed_forward_length", "must be positive");
            }
            return cfg;
        }

        /// <summary>V3-style routing (sigmoid scores, score-correction bias) marks a DeepSeek-V3/R1 checkpoint.</summary>
        private bool IsV3Style(string a) =>
            Int(a + "expert_gating_func", 1) == 2 || f.Tensors.Any(t => t.Name.EndsWith(".exp_probs_b.bias", StringComparison.Ordinal));

        private int VocabSize(string a)
        {
            if (OptInt(a + "vocab_size") is int v) return v;
            if (f.TryGetValue("tokenizer.ggml.tokens", out var tokens) && tokens.Type == GgufValueType.Array) return tokens.ArrayLength;
            if (f.TensorsByName.TryGetValue("token_embd.weight", out var emb) && emb.Ne.Length == 2 && emb.Ne[1] <= int.MaxValue) return (int)emb.Ne[1];
            return 0;
        }

        private RopeScaling? ReadRopeScaling(string a, bool deepseek)
        {
            string type = f.GetString(a + "rope.scaling.type") ?? (f.Metadata.ContainsKey(a + "rope.scale_linear") ? "linear" : "none");
            switch (type)
            {
                case "none":
                    return null;
                case "linear":
                {
                    double factor = f.Metadata.ContainsKey(a + "rope.scaling.factor") ? Dbl(a + "rope.scaling.factor") : Dbl(a + "rope.scale_linear", 1);
                    if (!(factor > 0)) throw Bad(a + "rope.scaling.factor", "must be positive");
                    return factor == 1 ? null : new RopeScaling { Type = "linear", Factor = factor };
                }
                case "yarn":
                {
                    double factor = Dbl(a + "rope.scaling.factor");
                    if (!(factor > 0)) throw Bad(a + "rope.scaling.factor", "must be positive");
                    int orig = Int(a + "rope.scaling.original_context_length");
                    if (orig <= 0) throw Bad(a + "rope.scaling.original_context_length", "must be positive");
                    // convert_hf_to_gguf stores 0.1·mscale_all_dim; llama.cpp's deepseek2 uses mscale = mscale_all_dim, so
                    // the rotary magnitude correction cancels and only the softmax scale changes (HF semantics with both equal).
                    double mscaleAll = Dbl(a + "rope.scaling.yarn_log_multiplier", 0) / 0.1;
                    return new RopeScaling
                    {
                        Type = "yarn",
                        Factor = factor,
                        OriginalMaxPositionEmbeddings = orig,
                        BetaFast = Dbl(a + "rope.scaling.yarn_beta_fast", 32),
                        BetaSlow = Dbl(a + "rope.scaling.yarn_beta_slow", 1),
                        // Dense models keep both at 0: Hugging Face's default YaRN attention factor 0.1·ln(f)+1, as llama.cpp.
                        Mscale = deepseek ? mscaleAll : 0,
                        MscaleAllDim = deepseek ? mscaleAll : 0,
                    };
                }
                default:
                    throw Bad(a + "rope.scaling.type", $"= '{type}' is not supported (none, linear, yarn)");
            }
        }

        /// <summary>Llama-3 rope scaling arrives as per-frequency divisors in the F32 tensor <c>rope_freqs.weight</c>.</summary>
        private IReadOnlyList<float>? ReadRopeFreqs()
        {
            if (!f.TensorsByName.TryGetValue(GgufTensorNames.RopeFreqs, out var info)) return null;
            if (info.Type != GgmlType.F32 || info.Ne.Length != 1 || info.Ne[0] > 1 << 16)
                throw new ModelFormatException($"{File}: tensor 'rope_freqs.weight' must be a 1-D F32 vector, is {GgmlTypeInfo.Name(info.Type)} {info.NeText}");
            return f.GetTensor(GgufTensorNames.RopeFreqs).ToFloat32();
        }

        private ModelFormatException Bad(string key, string what) => new($"{File}: key '{key}' {what}");

        private int Int(string key, int? fallback = null)
        {
            long? v = f.GetInteger(key);
            if (v is null) return fallback ?? throw new ModelFormatException($"{File}: missing key '{key}'");
            if (v < 0 || v > int.MaxValue) throw Bad(key, $"= {v} is out of range");
            return (int)v.Value;
        }

        private int? OptInt(string key) => f.Metadata.ContainsKey(key) ? Int(key) : null;

        private double Dbl(string key, double? fallback = null)
        {
            double? v = f.GetNumber(key);
            if (v is null) return fallback ?? throw new ModelFormatException($"{File}: missing key '{key}'");
            if (!double.IsFinite(v.Value)) throw Bad(key, $"= {v} is not finite");
            return v.Value;
        }

        private bool Bool(string key, bool fallback) => f.GetBool(key) ?? fallback;
    }
}
