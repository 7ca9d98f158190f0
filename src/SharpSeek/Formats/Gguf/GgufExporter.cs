using SharpSeek.Formats.Safetensors;
using SharpSeek.Models;
using SharpSeek.Tensors;
using SharpSeek.Tokenization;

namespace SharpSeek.Formats.Gguf;

/// <summary>
/// Writes GGUF files users can run here or in llama.cpp: <see cref="Requantize"/> re-encodes a GGUF file's tensors
/// (<c>sharpseek quantize</c>), <see cref="Convert"/> turns a Hugging Face checkpoint into GGUF (<c>sharpseek convert</c>),
/// with llama.cpp's tensor names and metadata keys. FP8 weights are dequantized with their block scales (to BF16 unless a
/// quantized type is asked for), as DeepSeek's own fp8_cast_bf16.py does. Tensors are streamed one row at a time.
/// </summary>
public static class GgufExporter
{
    /// <summary>Re-encodes every tensor of <paramref name="input"/> per <see cref="QuantizationPlan"/>; metadata is copied.</summary>
    public static void Requantize(string input, string output, QuantizationTarget target)
    {
        using var f = new GgufFile(input);
        var w = new GgufWriter(f.Alignment);
        foreach (var key in f.MetadataKeys)
            if (key != "general.alignment") w.Set(key, f.Metadata[key]);
        w.Set("general.file_type", QuantizationPlan.FileType(target));
        w.Set("general.quantization_version", 2u);
        int layers = (int)(f.GetInteger((f.Architecture ?? "") + ".block_count") ?? 0);
        bool hasOutput = f.ContainsTensor("output.weight");
        foreach (var info in f.Tensors)
        {
            var t = f.GetTensor(info.Name);
            var type = t.Type is DType.F32 or DType.F16 or DType.BF16 or DType.Q8_0 or DType.Q4_0 or DType.Q4_K or DType.Q6_K
                ? QuantizationPlan.TypeFor(target, info.Name, info.Shape, layers, hasOutput) : t.Type;
            if (info.Shape.Length < 2 && t.Type != DType.F32) type = t.Type;   // keep 1-D tensors as they are unless already F32
            AddReencoded(w, info.Name, info.Shape, t, type);
        }
        w.Write(output);
    }

    /// <summary>
    /// Converts the Hugging Face checkpoint in <paramref name="directory"/> (qwen2/qwen3/llama or deepseek_v2/v3).
    /// <paramref name="target"/> null keeps F32/F16/BF16 tensors as they are.
    /// </summary>
    public static void Convert(string directory, string output, QuantizationTarget? target)
    {
        string configPath = Path.Combine(directory, "config.json");
        if (!File.Exists(configPath)) throw new ModelFormatException($"{directory}: config.json not found");
        var c = ModelConfig.Load(configPath);
        using var src = new SafetensorsCheckpoint(directory, c.Fp8BlockSize);
        var w = new GgufWriter();
        bool deepseek = c.Family == ModelFamily.DeepSeek;
        string arch = deepseek ? "deepseek2" : c.Architecture switch
        {
            "Qwen2ForCausalLM" => "qwen2",
            "Qwen3ForCausalLM" => "qwen3",
            "LlamaForCausalLM" => "llama",
            _ => throw new SharpSeekException($"{directory}: converting {c.Architecture} is not supported (Qwen2ForCausalLM, Qwen3ForCausalLM, LlamaForCausalLM, DeepseekV2/V3ForCausalLM)"),
        };
        // The tokenizer first, so config.json's BOS/EOS (what generation stops on) override the tokenizer's own.
        if (File.Exists(Path.Combine(directory, "tokenizer.json")))
            GgufTokenizerWriter.Write(w, Tokenizer.FromFile(directory), c.VocabSize, directory);
        WriteConfig(w, c, arch);
        if (target is { } tq)
        {
            w.Set("general.file_type", QuantizationPlan.FileType(tq));
            w.Set("general.quantization_version", 2u);
        }
        bool hasOutput = src.Contains("lm_head.weight") && !c.TieWordEmbeddings;
        int layers = c.NumHiddenLayers;

        void Add(string ggufName, WeightTensor t, long[]? shape = null)
        {
            shape ??= t.Shape;
            DType type = target is { } q ? QuantizationPlan.TypeFor(q, ggufName, shape, layers, hasOutput)
                : shape.Length < 2 ? DType.F32
                : t.Type is DType.F8E4M3 ? DType.BF16 : t.Type;
            AddReencoded(w, ggufName, shape, t, type);
        }

        Add("token_embd.weight", src.Get("model.embed_tokens.weight"));
        for (int i = 0; i < layers; i++)
        {
            string hf = $"model.layers.{i}.", g = $"blk.{i}.";
            foreach (var name in src.Names.Where(n => n.StartsWith(hf, StringComparison.Ordinal)).Order(StringComparer.Ordinal))
            {
                string rest = name[hf.Length..];
                if (rest.EndsWith("weight_scale_inv", StringComparison.Ordinal) || rest.Contains(".experts.", StringComparison.Ordinal)) continue;
                if (rest == "self_attn.kv_b_proj.weight") { AddSplitKvB(w, g, src.Get(name), c, target, layers, hasOutput); continue; }
                string? mapped = MapLayer(rest);
                if (mapped is null) throw new ModelFormatException($"{directory}: tensor '{name}' has no GGUF name");
                // llama.cpp's llama graph rotates adjacent pairs, Hugging Face's Llama split halves: q/k rows are
                // permuted per head on the way in, exactly as convert_hf_to_gguf does (Qwen2 keeps split halves).
                int permuteHeads = arch != "llama" ? 0 : rest.StartsWith("self_attn.q_proj.", StringComparison.Ordinal) ? c.NumAttentionHeads
                    : rest.StartsWith("self_attn.k_proj.", StringComparison.Ordinal) ? c.NumKeyValueHeads : 0;
                if (permuteHeads > 0) AddPermuted(g + mapped, src.Get(name), permuteHeads);
                else Add(g + mapped, src.Get(name));
            }
            if (deepseek && src.Contains(hf + "mlp.experts.0.gate_proj.weight"))
                foreach (var (proj, gname) in new[] { ("gate_proj", "ffn_gate_exps"), ("up_proj", "ffn_up_exps"), ("down_proj", "ffn_down_exps") })
                {
                    var experts = Enumerable.Range(0, c.NRoutedExperts).Select(e => src.Get($"{hf}mlp.experts.{e}.{proj}.weight")).ToArray();
                    var e0 = experts[0];
                    long[] shape = [experts.Length, e0.Rows, e0.Cols];
                    DType type = target is { } q ? QuantizationPlan.TypeFor(q, g + gname + ".weight", shape, layers, hasOutput) : e0.Type is DType.F8E4M3 ? DType.BF16 : e0.Type;
                    w.AddTensor(g + gname + ".weight", type, shape, s => { foreach (var e in experts) WriteRows(s, e, 0, e.Rows, type); });
                }
        }
        Add("output_norm.weight", src.Get("model.norm.weight"));
        if (hasOutput) Add("output.weight", src.Get("lm_head.weight"));
        if (c.RopeScaling is { Type: "llama3" } l3) w.AddTensor("rope_freqs.weight", [c.HeadDim / 2], Llama3RopeFactors(c, l3), DType.F32);
        w.Write(output);

        void AddPermuted(string ggufName, WeightTensor t, int heads)
        {
            long n = t.Shape[0];
            if (n % heads != 0 || n / heads % 2 != 0) throw new ModelFormatException($"{t.File}: tensor '{t.Name}' {t.ShapeText} does not split into {heads} heads of even size");
            long hd = n / heads;
            long Source(long r) => r / hd * hd + r % 2 * (hd / 2) + r % hd / 2;   // new row (h, j, s) ← old row (h, s, j)
            if (t.Shape.Length == 1)
            {
                var v = t.ToFloat32();
                var permuted = new float[v.Length];
                for (long r = 0; r < n; r++) permuted[r] = v[Source(r)];
                w.AddTensor(ggufName, t.Shape, permuted, DType.F32);
                return;
            }
            DType type = target is { } q ? QuantizationPlan.TypeFor(q, ggufName, t.Shape, layers, hasOutput) : t.Type is DType.F8E4M3 ? DType.BF16 : t.Type;
            w.AddTensor(ggufName, type, t.Shape, s => WriteRows(s, t, 0, n, type, Source));
        }
    }

    /// <summary>Llama-3 rope scaling as llama.cpp stores it: one divisor per rotary frequency in <c>rope_freqs.weight</c>.</summary>
    private static float[] Llama3RopeFactors(ModelConfig c, RopeScaling s)
    {
        int half = c.HeadDim / 2;
        var factors = new float[half];
        double lowWavelen = s.OriginalMaxPositionEmbeddings / s.LowFreqFactor, highWavelen = s.OriginalMaxPositionEmbeddings / s.HighFreqFactor;
        for (int j = 0; j < half; j++)
        {
            double freq = 1.0 / Math.Pow(c.RopeTheta, 2.0 * j / c.HeadDim), wavelen = 2 * Math.PI / freq;
            if (wavelen < highWavelen) factors[j] = 1;
            else if (wavelen > lowWavelen) factors[j] = (float)s.Factor;
            else
            {
                double smooth = (s.OriginalMaxPositionEmbeddings / wavelen - s.LowFreqFactor) / (s.HighFreqFactor - s.LowFreqFactor);
                factors[j] = (float)(1 / ((1 - smooth) / s.Factor + smooth));
            }
        }
        return factors;
    }

    private static string? MapLayer(string rest) => rest switch
    {
        "input_layernorm.weight" => "attn_norm.weight",
        "post_attention_layernorm.weight" => "ffn_norm.weight",
        "self_attn.q_proj.weight" => "attn_q.weight",
        "self_attn.q_proj.bias" => "attn_q.bias",
        "self_attn.k_proj.weight" => "attn_k.weight",
        "self_attn.k_proj.bias" => "attn_k.bias",
        "self_attn.v_proj.weight" => "attn_v.weight",
        "self_attn.v_proj.bias" => "attn_v.bias",
        "self_attn.o_proj.weight" => "attn_output.weight",
        "self_attn.q_norm.weight" => "attn_q_norm.weight",
        "self_attn.k_norm.weight" => "attn_k_norm.weight",
        "self_attn.q_a_proj.weight" => "attn_q_a.weight",
        "self_attn.q_a_layernorm.weight" => "attn_q_a_norm.weight",
        "self_attn.q_b_proj.weight" => "attn_q_b.weight",
        "self_attn.kv_a_proj_with_mqa.weight" => "attn_kv_a_mqa.weight",
        "self_attn.kv_a_layernorm.weight" => "attn_kv_a_norm.weight",
        "mlp.gate_proj.weight" => "ffn_gate.weight",
        "mlp.up_proj.weight" => "ffn_up.weight",
        "mlp.down_proj.weight" => "ffn_down.weight",
        "mlp.gate.weight" => "ffn_gate_inp.weight",
        "mlp.gate.e_score_correction_bias" => "exp_probs_b.bias",
        "mlp.shared_experts.gate_proj.weight" => "ffn_gate_shexp.weight",
        "mlp.shared_experts.up_proj.weight" => "ffn_up_shexp.weight",
        "mlp.shared_experts.down_proj.weight" => "ffn_down_shexp.weight",
        _ => null,
    };

    /// <summary>
    /// kv_b_proj [H·(dn+dv), rkv] → llama.cpp's split MLA layout: attn_k_b [H, rkv, dn] (each head's key rows transposed) and
    /// attn_v_b [H, dv, rkv], which lets llama.cpp (and us) keep only the compressed latent in the cache.
    /// </summary>
    private static void AddSplitKvB(GgufWriter w, string g, WeightTensor kvb, ModelConfig c, QuantizationTarget? target, int layers, bool hasOutput)
    {
        int h = c.NumAttentionHeads, dn = c.QkNopeHeadDim, dv = c.VHeadDim, rkv = c.KvLoraRank;
        var full = new float[checked((int)kvb.ElementCount)];
        for (long r = 0; r < kvb.Rows; r++) kvb.DequantizeRow(r, full.AsSpan((int)(r * rkv), rkv));
        var kb = new float[h * rkv * dn];
        var vb = new float[h * dv * rkv];
        for (int head = 0; head < h; head++)
        {
            int baseRow = head * (dn + dv);
            for (int n = 0; n < dn; n++)
                for (int k = 0; k < rkv; k++) kb[(head * rkv + k) * dn + n] = full[(baseRow + n) * rkv + k];
            Array.Copy(full, (baseRow + dn) * rkv, vb, head * dv * rkv, dv * rkv);
        }
        DType Pick(string name, long[] shape) => target is { } q ? QuantizationPlan.TypeFor(q, name, shape, layers, hasOutput)
            : kvb.Type is DType.F8E4M3 ? DType.BF16 : kvb.Type;
        long[] kShape = [h, rkv, dn], vShape = [h, dv, rkv];
        w.AddTensor(g + "attn_k_b.weight", kShape, kb, Pick(g + "attn_k_b.weight", kShape));
        w.AddTensor(g + "attn_v_b.weight", vShape, vb, Pick(g + "attn_v_b.weight", vShape));
    }

    private static void AddReencoded(GgufWriter w, string name, long[] shape, WeightTensor t, DType type)
    {
        if (type == t.Type && t.Type != DType.F8E4M3)
        {
            w.AddTensor(name, type, shape, s => { unsafe { s.Write(new ReadOnlySpan<byte>(t.Data, checked((int)t.ByteLength))); } });
            return;
        }
        w.AddTensor(name, type, shape, s => WriteRows(s, t, 0, t.Rows, type));
    }

    /// <param name="source">Which source row becomes output row r (a permutation); null: row r itself.</param>
    private static void WriteRows(Stream s, WeightTensor t, long from, long to, DType type, Func<long, long>? source = null)
    {
        int cols = checked((int)t.Cols);
        var row = new float[cols];
        var bytes = new byte[type.ByteCount(cols)];
        for (long r = from; r < to; r++)
        {
            t.DequantizeRow(source is null ? r : source(r), row);
            GgufEncoding.Encode(type, row, bytes);
            s.Write(bytes);
        }
    }

    /// <summary>llama.cpp metadata for the config (keys as convert_hf_to_gguf writes them).</summary>
    private static void WriteConfig(GgufWriter w, ModelConfig c, string arch)
    {
        string a = arch + ".";
        w.Set("general.architecture", arch).Set("general.name", c.ModelType);
        w.Set(a + "block_count", (uint)c.NumHiddenLayers).Set(a + "context_length", (uint)c.MaxPositionEmbeddings)
         .Set(a + "embedding_length", (uint)c.HiddenSize).Set(a + "feed_forward_length", (uint)c.IntermediateSize)
         .Set(a + "attention.head_count", (uint)c.NumAttentionHeads).Set(a + "rope.freq_base", (float)c.RopeTheta)
         .Set(a + "attention.layer_norm_rms_epsilon", (float)c.RmsNormEps).Set(a + "vocab_size", (uint)c.VocabSize);
        if (c.BosTokenId is int bos) w.Set("tokenizer.ggml.bos_token_id", (uint)bos);
        if (c.EosTokenIds.Count > 0) w.Set("tokenizer.ggml.eos_token_id", (uint)c.EosTokenIds[0]);
        if (arch != "deepseek2")
        {
            w.Set(a + "attention.head_count_kv", (uint)c.NumKeyValueHeads).Set(a + "attention.key_length", (uint)c.HeadDim)
             .Set(a + "attention.value_length", (uint)c.HeadDim).Set(a + "rope.dimension_count", (uint)c.HeadDim);
            WriteRopeScaling(w, a, c);
            return;
        }
        w.Set(a + "attention.head_count_kv", 1u)
         .Set(a + "attention.q_lora_rank", (uint)c.QLoraRank).Set(a + "attention.kv_lora_rank", (uint)c.KvLoraRank)
         .Set(a + "attention.key_length", (uint)(c.KvLoraRank + c.QkRopeHeadDim)).Set(a + "attention.value_length", (uint)c.KvLoraRank)
         .Set(a + "attention.key_length_mla", (uint)(c.QkNopeHeadDim + c.QkRopeHeadDim)).Set(a + "attention.value_length_mla", (uint)c.VHeadDim)
         .Set(a + "rope.dimension_count", (uint)c.QkRopeHeadDim)
         .Set(a + "leading_dense_block_count", (uint)c.FirstKDenseReplace)
         .Set(a + "expert_count", (uint)c.NRoutedExperts).Set(a + "expert_used_count", (uint)c.NumExpertsPerTok)
         .Set(a + "expert_shared_count", (uint)c.NSharedExperts).Set(a + "expert_feed_forward_length", (uint)c.MoeIntermediateSize)
         .Set(a + "expert_weights_scale", c.ScalesRoutingWeights ? (float)c.RoutedScalingFactor : 1f).Set(a + "expert_weights_norm", c.RenormalizesRoutingWeights)
         .Set(a + "expert_gating_func", c.ScoringFunc == "sigmoid" ? 2u : 1u);
        if (c.NGroup > 1) w.Set(a + "expert_group_count", (uint)c.NGroup).Set(a + "expert_group_used_count", (uint)c.TopkGroup);
        WriteRopeScaling(w, a, c);
    }

    private static void WriteRopeScaling(GgufWriter w, string a, ModelConfig c)
    {
        if (c.RopeScaling is not { } s) return;
        switch (s.Type)
        {
            case "linear":
                w.Set(a + "rope.scaling.type", "linear").Set(a + "rope.scaling.factor", (float)s.Factor);
                break;
            case "llama3":
                break; // carried by the rope_freqs.weight tensor
            case "yarn":
                w.Set(a + "rope.scaling.type", "yarn").Set(a + "rope.scaling.factor", (float)s.Factor)
                 .Set(a + "rope.scaling.original_context_length", (uint)s.OriginalMaxPositionEmbeddings)
                 .Set(a + "rope.scaling.yarn_log_multiplier", (float)(0.1 * s.MscaleAllDim))
                 .Set(a + "rope.scaling.yarn_beta_fast", (float)s.BetaFast).Set(a + "rope.scaling.yarn_beta_slow", (float)s.BetaSlow);
                break;
            default:
                throw new ModelFormatException($"rope_scaling type '{s.Type}' cannot be written to GGUF yet");
        }
    }
}
