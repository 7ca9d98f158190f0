namespace SharpSeek.Formats.Gguf;

/// <summary>
/// llama.cpp tensor names (gguf-py <c>constants.py</c> <c>TENSOR_NAMES</c>, as written by convert_hf_to_gguf) → the
/// Hugging Face names the engine's loader asks for. Stacked expert tensors map to one name per expert.
/// </summary>
public static class GgufTensorNames
{
    private static readonly Dictionary<string, string> Global = new(StringComparer.Ordinal)
    {
        ["token_embd.weight"] = "model.embed_tokens.weight",
        ["output_norm.weight"] = "model.norm.weight",
        ["output.weight"] = "lm_head.weight",
    };

    /// <summary>Per-layer base names (without <c>.weight</c>/<c>.bias</c>) → the module path under <c>model.layers.N.</c>.</summary>
    private static readonly Dictionary<string, string> Layer = new(StringComparer.Ordinal)
    {
        ["attn_norm"] = "input_layernorm",
        ["ffn_norm"] = "post_attention_layernorm",
        ["attn_q"] = "self_attn.q_proj",
        ["attn_k"] = "self_attn.k_proj",
        ["attn_v"] = "self_attn.v_proj",
        ["attn_output"] = "self_attn.o_proj",
        // qwen3: per-head RMSNorm of q and k
        ["attn_q_norm"] = "self_attn.q_norm",
        ["attn_k_norm"] = "self_attn.k_norm",
        ["ffn_gate"] = "mlp.gate_proj",
        ["ffn_up"] = "mlp.up_proj",
        ["ffn_down"] = "mlp.down_proj",
        // deepseek2 (MLA)
        ["attn_q_a"] = "self_attn.q_a_proj",
        ["attn_q_a_norm"] = "self_attn.q_a_layernorm",
        ["attn_q_b"] = "self_attn.q_b_proj",
        ["attn_kv_a_mqa"] = "self_attn.kv_a_proj_with_mqa",
        ["attn_kv_a_norm"] = "self_attn.kv_a_layernorm",
        ["attn_kv_b"] = "self_attn.kv_b_proj",
        ["attn_k_b"] = "self_attn.k_b_proj",
        ["attn_v_b"] = "self_attn.v_b_proj",
        // deepseek2 (MoE)
        ["ffn_gate_inp"] = "mlp.gate",
        ["ffn_gate_shexp"] = "mlp.shared_experts.gate_proj",
        ["ffn_up_shexp"] = "mlp.shared_experts.up_proj",
        ["ffn_down_shexp"] = "mlp.shared_experts.down_proj",
    };

    /// <summary>Stacked expert tensors [n_expert, out, in] → the per-expert projection name.</summary>
    private static readonly Dictionary<string, string> Experts = new(StringComparer.Ordinal)
    {
        ["ffn_gate_exps"] = "gate_proj",
        ["ffn_up_exps"] = "up_proj",
        ["ffn_down_exps"] = "down_proj",
    };

    /// <summary>Llama-3 per-frequency rope factors: configuration, not a weight.</summary>
    public const string RopeFreqs = "rope_freqs.weight";

    /// <summary>How one Hugging Face name is served from the GGUF file.</summary>
    /// <param name="GgufName">Tensor in the file.</param>
    /// <param name="Expert">Expert index into a stacked tensor, or -1.</param>
    /// <param name="Part">For merged <c>ffn_gate_up_exps</c>: 0 = gate (first half of the rows), 1 = up; else -1.</param>
    public readonly record struct Source(string GgufName, int Expert = -1, int Part = -1);

    /// <summary>
    /// Adds every Hugging Face name that <paramref name="info"/> provides to <paramref name="into"/>.
    /// Names that are not recognised are exposed unchanged, so the loader can report them as unexpected;
    /// <c>rope_freqs.weight</c> is left out because <see cref="GgufConfig"/> consumes it. Returns false for a stacked
    /// expert tensor whose shape does not fit, with <paramref name="problem"/> set.
    /// </summary>
    public static bool Map(GgufTensorInfo info, IDictionary<string, Source> into, out string? problem)
    {
        problem = null;
        string name = info.Name;
        if (name == RopeFreqs) return true;
        if (Global.TryGetValue(name, out var g)) { into[g] = new Source(name); return true; }
        if (!TrySplitLayer(name, out int layer, out string baseName, out string suffix))
        {
            into[name] = new Source(name);
            return true;
        }
        string prefix = $"model.layers.{layer}.";
        if (baseName == "exp_probs_b" && suffix == "bias")
        {
            into[prefix + "mlp.gate.e_score_correction_bias"] = new Source(name);
            return true;
        }
        if (Layer.TryGetValue(baseName, out var module))
        {
            into[prefix + module + "." + suffix] = new Source(name);
            return true;
        }
        if (suffix == "weight" && (Experts.ContainsKey(baseName) || baseName == "ffn_gate_up_exps"))
        {
            if (info.Ne.Length != 3) { problem = $"stacked expert tensor '{name}' must be 3-D, has ne {info.NeText}"; return false; }
            long n = info.Ne[2];
            if (n > 1 << 16) { problem = $"stacked expert tensor '{name}' has {n} experts"; return false; }
            if (baseName == "ffn_gate_up_exps")
            {
                if (info.Ne[1] % 2 != 0) { problem = $"merged expert tensor '{name}' has an odd row count {info.Ne[1]} (gate and up halves must match)"; return false; }
                for (int e = 0; e < n; e++)
                {
                    into[$"{prefix}mlp.experts.{e}.gate_proj.weight"] = new Source(name, e, 0);
                    into[$"{prefix}mlp.experts.{e}.up_proj.weight"] = new Source(name, e, 1);
                }
                return true;
            }
            string proj = Experts[baseName];
            for (int e = 0; e < n; e++) into[$"{prefix}mlp.experts.{e}.{proj}.weight"] = new Source(name, e);
            return true;
        }
        into[name] = new Source(name);
        return true;
    }

    /// <summary>Splits <c>blk.N.base.suffix</c>.</summary>
    private static bool TrySplitLayer(string name, out int layer, out string baseName, out string suffix)
    {
        layer = -1; baseName = suffix = "";
        if (!name.StartsWith("blk.", StringComparison.Ordinal)) return false;
        int dot = name.IndexOf('.', 4);
        if (dot < 0 || !int.TryParse(name.AsSpan(4, dot - 4), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out layer)) return false;
        int last = name.LastIndexOf('.');
        if (last <= dot) return false;
        baseName = name[(dot + 1)..last];
        suffix = name[(last + 1)..];
        return true;
    }
}
