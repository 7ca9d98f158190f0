using System.Text.Json;

namespace SharpSeek.Models;

/// <summary>Which family of model code runs a checkpoint.</summary>
public enum ModelFamily
{
    /// <summary>DeepSeek-V2/V3/R1: MLA attention, DeepSeekMoE.</summary>
    DeepSeek,
    /// <summary>Qwen2 / Qwen3 / Llama (the R1-Distill models): GQA attention, dense SwiGLU.</summary>
    Dense,
}

/// <summary>How rotary pairs are laid out in the q/k channels.</summary>
public enum RopeLayout
{
    /// <summary>Adjacent pairs (x[2j], x[2j+1]): DeepSeek checkpoints, GGUF llama after convert's permutation.</summary>
    Interleaved,
    /// <summary>Split halves (x[j], x[j+d/2]): Hugging Face Llama/Qwen2 "rotate_half".</summary>
    HalfSplit,
}

/// <summary>
/// How the chosen experts' weights are finished after top-k. The reference codes differ, and for a checkpoint the code it
/// ships with rules: Hugging Face's <c>modeling_deepseek.py</c> for a <c>config.json</c> (V2's and V3's differ), llama.cpp's
/// <c>deepseek2</c> graph for a GGUF file.
/// </summary>
public enum RoutingWeights
{
    /// <summary>DeepSeek-V2's <c>MoEGate</c>: <c>if top_k &gt; 1 and norm_topk_prob: w /= Σw + 1e-20 else: w *= routed_scaling_factor</c> (never both).</summary>
    HuggingFaceV2,
    /// <summary>DeepSeek-V3's <c>MoEGate</c>: <c>if top_k &gt; 1 and norm_topk_prob: w /= Σw + 1e-20</c>, then always <c>w *= routed_scaling_factor</c>.</summary>
    HuggingFaceV3,
    /// <summary>llama.cpp's <c>build_moe_ffn</c>: <c>if expert_weights_norm: w /= Σw</c> (for any top-k), then <c>w *= expert_weights_scale</c>.</summary>
    LlamaCpp,
}

/// <summary>rope_scaling from config.json.</summary>
public sealed record RopeScaling
{
    /// <summary>"yarn", "llama3" or "linear".</summary>
    public required string Type { get; init; }
    public double Factor { get; init; } = 1;
    public int OriginalMaxPositionEmbeddings { get; init; }
    public double BetaFast { get; init; } = 32;
    public double BetaSlow { get; init; } = 1;
    /// <summary>0 when absent from the config.</summary>
    public double Mscale { get; init; }
    public double MscaleAllDim { get; init; } = 0;
    public double LowFreqFactor { get; init; } = 1;
    public double HighFreqFactor { get; init; } = 4;
}

/// <summary>
/// The model hyper-parameters, mirroring Hugging Face <c>config.json</c> keys (DeepSeek's <c>ModelArgs</c> in model.py).
/// Unused fields keep their defaults for the other family.
/// </summary>
public sealed record ModelConfig
{
    public required string Architecture { get; init; }
    public required string ModelType { get; init; }
    public ModelFamily Family { get; init; }
    public int VocabSize { get; init; }
    public int HiddenSize { get; init; }
    public int IntermediateSize { get; init; }
    public int NumHiddenLayers { get; init; }
    public int NumAttentionHeads { get; init; }
    public int NumKeyValueHeads { get; init; }
    /// <summary>Per-head dimension of the dense family (hidden/heads unless <c>head_dim</c> is given).</summary>
    public int HeadDim { get; init; }
    public double RmsNormEps { get; init; } = 1e-6;
    public double RopeTheta { get; init; } = 10000;
    public RopeScaling? RopeScaling { get; init; }
    public RopeLayout RopeLayout { get; init; }
    /// <summary>Optional per-frequency divisors of the rotary inverse frequencies (GGUF <c>rope_freqs</c>, llama.cpp's form of Llama-3 scaling).</summary>
    public IReadOnlyList<float>? RopeFreqFactors { get; init; }
    public int MaxPositionEmbeddings { get; init; } = 4096;
    public bool TieWordEmbeddings { get; init; }
    /// <summary>q/k/v projections carry biases (Qwen2 always; Llama and Qwen3 with <c>attention_bias</c>).</summary>
    public bool AttentionBias { get; init; }
    /// <summary>
    /// Each head of q and of k is RMS-normalised (weights <c>self_attn.q_norm</c>/<c>k_norm</c>, [head_dim]) after the
    /// projection and before RoPE: Qwen3.
    /// </summary>
    public bool QkNorm { get; init; }

    // DeepSeek (MLA + MoE)
    public int MoeIntermediateSize { get; init; }
    public int FirstKDenseReplace { get; init; }
    public int MoeLayerFreq { get; init; } = 1;
    public int NRoutedExperts { get; init; }
    public int NSharedExperts { get; init; }
    public int NumExpertsPerTok { get; init; }
    public int NGroup { get; init; } = 1;
    public int TopkGroup { get; init; } = 1;
    /// <summary>"greedy", "group_limited_greedy" or "noaux_tc".</summary>
    public string TopkMethod { get; init; } = "greedy";
    /// <summary>"softmax" or "sigmoid".</summary>
    public string ScoringFunc { get; init; } = "softmax";
    public bool NormTopkProb { get; init; }
    public double RoutedScalingFactor { get; init; } = 1;
    /// <summary>Which reference's rule finishes the routing weights (set from the architecture or file format).</summary>
    public RoutingWeights RoutingWeights { get; init; } = RoutingWeights.HuggingFaceV3;

    /// <summary>Whether the chosen experts' weights are renormalised to sum to 1 (see <see cref="Models.RoutingWeights"/>; top-1 never is in Hugging Face's code).</summary>
    public bool RenormalizesRoutingWeights => NormTopkProb && (NumExpertsPerTok > 1 || RoutingWeights == RoutingWeights.LlamaCpp);

    /// <summary>Whether they are multiplied by <see cref="RoutedScalingFactor"/> (in V2's code renormalising replaces the scaling).</summary>
    public bool ScalesRoutingWeights => !(RoutingWeights == RoutingWeights.HuggingFaceV2 && RenormalizesRoutingWeights);

    /// <summary>Whether selection is limited to the best <see cref="TopkGroup"/> groups (<c>greedy</c> ignores groups, as Hugging Face's V2 gate does).</summary>
    public bool GroupLimitedRouting => TopkMethod != "greedy" && NGroup > 1 && TopkGroup < NGroup;

    /// <summary>
    /// Whether groups are ranked by the sum of their two best scores rather than by their best one: noaux_tc in Hugging
    /// Face's code, and every grouped GGUF, since llama.cpp's <c>build_moe_ffn</c> ranks groups that way whatever the method
    /// (a V2/V2.5 GGUF with <c>expert_group_count</c> routes so in llama.cpp).
    /// </summary>
    public bool RanksGroupsByTopTwo => TopkMethod == "noaux_tc" || RoutingWeights == RoutingWeights.LlamaCpp;

    /// <summary>0 when q_lora_rank is null (V2-Lite: plain q_proj).</summary>
    public int QLoraRank { get; init; }
    public int KvLoraRank { get; init; }
    public int QkNopeHeadDim { get; init; }
    public int QkRopeHeadDim { get; init; }
    public int VHeadDim { get; init; }
    public int NumNextnPredictLayers { get; init; }
    /// <summary>FP8 block size from quantization_config.weight_block_size (128 in DeepSeek's release).</summary>
    public int Fp8BlockSize { get; init; } = 128;

    public int? BosTokenId { get; init; }
    public IReadOnlyList<int> EosTokenIds { get; init; } = [];

    public int QkHeadDim => QkNopeHeadDim + QkRopeHeadDim;

    /// <summary>Whether decoder layer <paramref name="layer"/> uses MoE (DeepSeek: layers ≥ first_k_dense_replace, every moe_layer_freq).</summary>
    public bool IsMoeLayer(int layer) =>
        Family == ModelFamily.DeepSeek && NRoutedExperts > 0 && layer >= FirstKDenseReplace && layer % Math.Max(1, MoeLayerFreq) == 0;

    public static readonly IReadOnlyList<string> SupportedArchitectures =
        ["DeepseekV3ForCausalLM", "DeepseekV2ForCausalLM", "Qwen2ForCausalLM", "Qwen3ForCausalLM", "LlamaForCausalLM"];

    /// <summary>
    /// The refusal for DeepSeek-V3.2 (<c>DeepseekV32ForCausalLM</c>, GGUF <c>deepseek32</c>): it is V3's MLA + MoE plus
    /// DeepSeek Sparse Attention, a lightning indexer that picks the 2048 past tokens each query attends to, which the engine
    /// does not have. Loading it as V3 would silently attend to every token, so it is refused by name.
    /// </summary>
    internal static ModelFormatException SparseAttentionNotSupported(string file, string what) =>
        new($"{file}: {what} is DeepSeek-V3.2, whose sparse attention (DSA: a lightning indexer choosing 2048 past tokens per query) " +
            "is not supported yet (DeepSeek-V3.1-Terminus, the same architecture with dense attention, runs)");

    /// <summary>
    /// Checks the numbers that would load fine and then fail far from their cause: a rope base or norm epsilon that is not
    /// positive (NaN activations), an odd or zero rotary dimension, scaling parameters that divide by zero, sizes of zero.
    /// Errors name the key through <paramref name="key"/>, which maps a <c>config.json</c> key to the file's own name for it.
    /// </summary>
    internal void Validate(string file, Func<string, string> key)
    {
        ModelFormatException Bad(string k, string what) => new($"{file}: key '{key(k)}' {what}");
        void Positive(string k, double v)
        {
            if (!(double.IsFinite(v) && v > 0)) throw Bad(k, $"must be a positive finite number, is {v.ToString(System.Globalization.CultureInfo.InvariantCulture)}");
        }
        void AtLeastOne(string k, int v)
        {
            if (v < 1) throw Bad(k, $"must be at least 1, is {v}");
        }
        Positive("rms_norm_eps", RmsNormEps);
        Positive("rope_theta", RopeTheta);
        AtLeastOne("vocab_size", VocabSize);
        AtLeastOne("hidden_size", HiddenSize);
        AtLeastOne("num_hidden_layers", NumHiddenLayers);
        AtLeastOne("num_attention_heads", NumAttentionHeads);
        AtLeastOne("max_position_embeddings", MaxPositionEmbeddings);
        bool deepseek = Family == ModelFamily.DeepSeek;
        var (ropeKey, ropeDim) = deepseek ? ("qk_rope_head_dim", QkRopeHeadDim) : ("head_dim", HeadDim);
        if (ropeDim <= 0 || ropeDim % 2 != 0) throw Bad(ropeKey, $"(the rotary dimension) must be positive and even, is {ropeDim}");
        if (deepseek)
        {
            AtLeastOne("kv_lora_rank", KvLoraRank);
            AtLeastOne("qk_nope_head_dim", QkNopeHeadDim);
            AtLeastOne("v_head_dim", VHeadDim);
            if (NRoutedExperts == 0 || FirstKDenseReplace > 0 || MoeLayerFreq > 1) AtLeastOne("intermediate_size", IntermediateSize);
            if (NRoutedExperts > 0) Positive("routed_scaling_factor", RoutedScalingFactor);
            if (MoeLayerFreq < 1) throw Bad("moe_layer_freq", $"must be at least 1, is {MoeLayerFreq}");
        }
        else AtLeastOne("intermediate_size", IntermediateSize);
        if (RopeScaling is { } r)
        {
            Positive("rope_scaling.factor", r.Factor);
            if (r.Type is "yarn" or "llama3") AtLeastOne("rope_scaling.original_max_position_embeddings", r.OriginalMaxPositionEmbeddings);
            if (r.Type == "yarn")
            {
                Positive("rope_scaling.beta_fast", r.BetaFast);
                Positive("rope_scaling.beta_slow", r.BetaSlow);
            }
            if (r.Type == "llama3")
            {
                Positive("rope_scaling.low_freq_factor", r.LowFreqFactor);
                if (!(r.HighFreqFactor > r.LowFreqFactor)) throw Bad("rope_scaling.high_freq_factor", $"must exceed low_freq_factor ({r.LowFreqFactor}), is {r.HighFreqFactor}");
            }
        }
    }

    /// <summary>Largest config.json read (real ones are a few KB).</summary>
    public const long MaxConfigBytes = 16L << 20;

    /// <summary>Reads and validates <c>config.json</c>; errors name the file and key.</summary>
    public static ModelConfig Load(string path)
    {
        return Parse(Formats.RegularFile.ReadAllBytes(path, MaxConfigBytes), Path.GetFileName(path));
    }

    public static ModelConfig Parse(ReadOnlySpan<byte> json, string file = "config.json")
    {
        if (Formats.StrictJson.Problem(json, rejectDuplicateKeys: true) is { } problem) throw new ModelFormatException($"{file}: {problem}");
        JsonDocument doc;
        try { doc = JsonDocument.Parse(json.ToArray()); }
        catch (JsonException e) { throw new ModelFormatException($"{file}: malformed JSON: {e.Message}", e); }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object) throw new ModelFormatException($"{file}: top level is not a JSON object");
            return new ConfigReader(doc.RootElement, file).Read();
        }
    }

    private readonly struct ConfigReader(JsonElement root, string file)
    {
        public ModelConfig Read()
        {
            string? arch = null;
            if (root.TryGetProperty("architectures", out var archs) && archs.ValueKind == JsonValueKind.Array)
                foreach (var a in archs.EnumerateArray())
                    if (a.ValueKind == JsonValueKind.String) { arch = a.GetString(); break; }
            string modelType = Str("model_type", "");
            arch ??= modelType switch
            {
                "deepseek_v3" => "DeepseekV3ForCausalLM",
                "deepseek_v2" => "DeepseekV2ForCausalLM",
                "qwen2" => "Qwen2ForCausalLM",
                "qwen3" => "Qwen3ForCausalLM",
                "llama" => "LlamaForCausalLM",
                _ => null,
            };
            if (arch == "DeepseekV32ForCausalLM" || modelType == "deepseek_v32")
                throw SparseAttentionNotSupported(file, $"architecture '{arch ?? modelType}'");
            if (arch is null || !SupportedArchitectures.Contains(arch))
                throw new ModelFormatException($"{file}: unsupported architecture '{arch ?? modelType}' (key 'architectures'/'model_type'); supported: {string.Join(", ", SupportedArchitectures)}");

            bool deepseek = arch.StartsWith("Deepseek", StringComparison.Ordinal);
            int hidden = Int("hidden_size");
            int heads = Int("num_attention_heads");
            var eos = new List<int>();
            if (root.TryGetProperty("eos_token_id", out var e))
            {
                if (e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out int one)) eos.Add(one);
                else if (e.ValueKind == JsonValueKind.Array)
                    foreach (var x in e.EnumerateArray())
                        if (x.ValueKind == JsonValueKind.Number && x.TryGetInt32(out int v)) eos.Add(v);
            }
            int? bos = root.TryGetProperty("bos_token_id", out var b) && b.ValueKind == JsonValueKind.Number && b.TryGetInt32(out int bv) ? bv : null;

            var cfg = new ModelConfig
            {
                Architecture = arch,
                ModelType = modelType,
                Family = deepseek ? ModelFamily.DeepSeek : ModelFamily.Dense,
                VocabSize = Int("vocab_size"),
                HiddenSize = hidden,
                IntermediateSize = Int("intermediate_size"),
                NumHiddenLayers = Int("num_hidden_layers"),
                NumAttentionHeads = heads,
                NumKeyValueHeads = Int("num_key_value_heads", heads),
                HeadDim = deepseek ? 0 : Int("head_dim", heads > 0 && hidden % heads == 0 ? hidden / heads : 0),
                RmsNormEps = Dbl("rms_norm_eps", 1e-6),
                RopeTheta = Dbl("rope_theta", 10000),
                RopeScaling = ReadRopeScaling(),
                RopeLayout = deepseek ? RopeLayout.Interleaved : RopeLayout.HalfSplit,
                MaxPositionEmbeddings = Int("max_position_embeddings", 4096),
                TieWordEmbeddings = Bool("tie_word_embeddings", false),
                AttentionBias = arch == "Qwen2ForCausalLM" || (!deepseek && Bool("attention_bias", false)),
                QkNorm = arch == "Qwen3ForCausalLM",
                BosTokenId = bos,
                EosTokenIds = eos,
            };
            if (!deepseek)
            {
                if (cfg.HeadDim <= 0) throw new ModelFormatException($"{file}: key 'head_dim' missing and hidden_size {hidden} is not divisible by num_attention_heads {heads}");
                if (cfg.NumKeyValueHeads <= 0 || heads % cfg.NumKeyValueHeads != 0) throw new ModelFormatException($"{file}: key 'num_key_value_heads' ({cfg.NumKeyValueHeads}) must divide num_attention_heads ({heads})");
                if (arch == "LlamaForCausalLM" && Bool("mlp_bias", false)) throw new ModelFormatException($"{file}: key 'mlp_bias' = true is not supported");
                // Qwen2/Qwen3 configs name a sliding window but use it only with use_sliding_window (false in every release).
                if (Bool("use_sliding_window", false)) throw new ModelFormatException($"{file}: key 'use_sliding_window' = true is not supported (sliding-window attention)");
                cfg.Validate(file, k => k);
                return cfg;
            }

            int qLora = NullableInt("q_lora_rank");
            int experts = Int("n_routed_experts", 0);
            cfg = cfg with
            {
                MoeIntermediateSize = Int("moe_intermediate_size", 0),
                FirstKDenseReplace = Int("first_k_dense_replace", 0),
                MoeLayerFreq = Int("moe_layer_freq", 1),
                NRoutedExperts = experts,
                NSharedExperts = NullableInt("n_shared_experts"),
                NumExpertsPerTok = experts > 0 ? Int("num_experts_per_tok") : 0,
                NGroup = Int("n_group", 1),
                TopkGroup = Int("topk_group", 1),
                TopkMethod = Str("topk_method", "greedy"),
                ScoringFunc = Str("scoring_func", "softmax"),
                NormTopkProb = Bool("norm_topk_prob", false),
                RoutedScalingFactor = Dbl("routed_scaling_factor", 1),
                RoutingWeights = arch == "DeepseekV2ForCausalLM" ? RoutingWeights.HuggingFaceV2 : RoutingWeights.HuggingFaceV3,
                QLoraRank = qLora,
                KvLoraRank = Int("kv_lora_rank"),
                QkNopeHeadDim = Int("qk_nope_head_dim"),
                QkRopeHeadDim = Int("qk_rope_head_dim"),
                VHeadDim = Int("v_head_dim"),
                NumNextnPredictLayers = Int("num_nextn_predict_layers", 0),
                Fp8BlockSize = ReadFp8BlockSize(),
            };
            if (cfg.QkRopeHeadDim % 2 != 0) throw new ModelFormatException($"{file}: key 'qk_rope_head_dim' must be even, is {cfg.QkRopeHeadDim}");
            if (cfg.ScoringFunc is not ("softmax" or "sigmoid")) throw new ModelFormatException($"{file}: key 'scoring_func' = '{cfg.ScoringFunc}' is not supported (softmax, sigmoid)");
            if (cfg.TopkMethod is not ("greedy" or "group_limited_greedy" or "noaux_tc")) throw new ModelFormatException($"{file}: key 'topk_method' = '{cfg.TopkMethod}' is not supported (greedy, group_limited_greedy, noaux_tc)");
            if (experts > 0)
            {
                if (cfg.NumExpertsPerTok <= 0 || cfg.NumExpertsPerTok > experts) throw new ModelFormatException($"{file}: key 'num_experts_per_tok' ({cfg.NumExpertsPerTok}) must be in 1..n_routed_experts ({experts})");
                if (cfg.NGroup <= 0 || experts % cfg.NGroup != 0) throw new ModelFormatException($"{file}: key 'n_group' ({cfg.NGroup}) must divide n_routed_experts ({experts})");
                if (cfg.TopkGroup <= 0 || cfg.TopkGroup > cfg.NGroup) throw new ModelFormatException($"{file}: key 'topk_group' ({cfg.TopkGroup}) must be in 1..n_group ({cfg.NGroup})");
                if (cfg.NGroup > 1 && cfg.TopkMethod == "noaux_tc" && experts / cfg.NGroup < 2) throw new ModelFormatException($"{file}: noaux_tc group scores need at least 2 experts per group (n_routed_experts {experts}, n_group {cfg.NGroup})");
                if (cfg.NGroup > 1 && cfg.TopkGroup * (experts / cfg.NGroup) < cfg.NumExpertsPerTok) throw new ModelFormatException($"{file}: keys 'topk_group' × experts per group < 'num_experts_per_tok'");
                if (cfg.MoeIntermediateSize <= 0) throw new ModelFormatException($"{file}: key 'moe_intermediate_size' must be positive");
            }
            cfg.Validate(file, k => k);
            return cfg;
        }

        private RopeScaling? ReadRopeScaling()
        {
            if (!root.TryGetProperty("rope_scaling", out var rs) || rs.ValueKind == JsonValueKind.Null) return null;
            if (rs.ValueKind != JsonValueKind.Object) throw new ModelFormatException($"{file}: key 'rope_scaling' must be an object or null");
            var sub = new ConfigReader(rs, file);
            string type = sub.Str("rope_type", "") is { Length: > 0 } t ? t : sub.Str("type", "");
            if (type == "default") return null;
            if (type is not ("yarn" or "llama3" or "linear"))
                throw new ModelFormatException($"{file}: key 'rope_scaling.type' = '{type}' is not supported (yarn, llama3, linear)");
            double factor = sub.Dbl("factor", 1);
            if (!(factor > 0)) throw new ModelFormatException($"{file}: key 'rope_scaling.factor' must be positive");
            int orig = sub.Int("original_max_position_embeddings", type == "linear" ? 0 : -1);
            if (type != "linear" && orig <= 0) throw new ModelFormatException($"{file}: key 'rope_scaling.original_max_position_embeddings' must be positive");
            return new RopeScaling
            {
                Type = type,
                Factor = factor,
                OriginalMaxPositionEmbeddings = orig,
                BetaFast = sub.Dbl("beta_fast", 32),
                BetaSlow = sub.Dbl("beta_slow", 1),
                Mscale = sub.Dbl("mscale", 0),
                MscaleAllDim = sub.Dbl("mscale_all_dim", 0),
                LowFreqFactor = sub.Dbl("low_freq_factor", 1),
                HighFreqFactor = sub.Dbl("high_freq_factor", 4),
            };
        }

        private int ReadFp8BlockSize()
        {
            if (!root.TryGetProperty("quantization_config", out var q) || q.ValueKind != JsonValueKind.Object) return 128;
            if (q.TryGetProperty("quant_method", out var m) && m.ValueKind == JsonValueKind.String && m.GetString() != "fp8")
                throw new ModelFormatException($"{file}: key 'quantization_config.quant_method' = '{m.GetString()}' is not supported (fp8)");
            if (!q.TryGetProperty("weight_block_size", out var bs)) return 128;
            if (bs.ValueKind != JsonValueKind.Array || bs.GetArrayLength() != 2) throw new ModelFormatException($"{file}: key 'quantization_config.weight_block_size' must be [n, n]");
            static int Size(JsonElement e) => e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out int v) ? v : -1;
            int a = Size(bs[0]), c = Size(bs[1]);
            if (a <= 0 || a != c) throw new ModelFormatException($"{file}: key 'quantization_config.weight_block_size' must be two equal positive integers");
            return a;
        }

        private bool Has(string key, out JsonElement v) => root.TryGetProperty(key, out v) && v.ValueKind != JsonValueKind.Null;

        public int Int(string key, int? fallback = null)
        {
            if (!Has(key, out var v))
                return fallback ?? throw new ModelFormatException($"{file}: missing key '{key}'");
            if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt32(out int i) || i < 0)
                throw new ModelFormatException($"{file}: key '{key}' must be a non-negative integer, is {v.GetRawText()}");
            return i;
        }

        private int NullableInt(string key) => Has(key, out _) ? Int(key) : 0;

        public double Dbl(string key, double fallback)
        {
            if (!Has(key, out var v)) return fallback;
            if (v.ValueKind != JsonValueKind.Number || !v.TryGetDouble(out double d) || !double.IsFinite(d))
                throw new ModelFormatException($"{file}: key '{key}' must be a number, is {v.GetRawText()}");
            return d;
        }

        public string Str(string key, string fallback)
        {
            if (!Has(key, out var v)) return fallback;
            if (v.ValueKind != JsonValueKind.String) throw new ModelFormatException($"{file}: key '{key}' must be a string, is {v.GetRawText()}");
            return v.GetString()!;
        }

        private bool Bool(string key, bool fallback)
        {
            if (!Has(key, out var v)) return fallback;
            return v.ValueKind switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                _ => throw new ModelFormatException($"{file}: key '{key}' must be true or false, is {v.GetRawText()}"),
            };
        }
    }
}
