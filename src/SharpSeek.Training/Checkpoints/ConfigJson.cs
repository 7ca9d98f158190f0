using System.Text.Json;
using SharpSeek.Models;

namespace SharpSeek.Training.Checkpoints;

/// <summary>Writes a DeepSeek (or the dense baseline's Llama) <see cref="ModelConfig"/> as Hugging Face <c>config.json</c> (the schema <see cref="ModelConfig.Parse"/> reads).</summary>
public static class ConfigJson
{
    public static byte[] Write(ModelConfig cfg, string torchDtype = "float32")
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            if (cfg.Family != ModelFamily.DeepSeek)
            {
                WriteLlama(w, cfg, torchDtype);
                w.WriteEndObject();
                w.Flush();
                return stream.ToArray();
            }
            w.WriteStartArray("architectures");
            w.WriteStringValue(cfg.Architecture);
            w.WriteEndArray();
            w.WriteString("model_type", cfg.ModelType.Length > 0 ? cfg.ModelType : cfg.Architecture == "DeepseekV2ForCausalLM" ? "deepseek_v2" : "deepseek_v3");
            w.WriteNumber("vocab_size", cfg.VocabSize);
            w.WriteNumber("hidden_size", cfg.HiddenSize);
            w.WriteNumber("intermediate_size", cfg.IntermediateSize);
            w.WriteNumber("moe_intermediate_size", cfg.MoeIntermediateSize);
            w.WriteNumber("num_hidden_layers", cfg.NumHiddenLayers);
            w.WriteNumber("num_nextn_predict_layers", cfg.NumNextnPredictLayers);
            w.WriteNumber("first_k_dense_replace", cfg.FirstKDenseReplace);
            w.WriteNumber("moe_layer_freq", cfg.MoeLayerFreq);
            w.WriteNumber("num_attention_heads", cfg.NumAttentionHeads);
            w.WriteNumber("num_key_value_heads", cfg.NumKeyValueHeads);
            w.WriteNumber("n_routed_experts", cfg.NRoutedExperts);
            w.WriteNumber("n_shared_experts", cfg.NSharedExperts);
            w.WriteNumber("num_experts_per_tok", cfg.NumExpertsPerTok);
            w.WriteNumber("n_group", cfg.NGroup);
            w.WriteNumber("topk_group", cfg.TopkGroup);
            w.WriteString("topk_method", cfg.TopkMethod);
            w.WriteString("scoring_func", cfg.ScoringFunc);
            w.WriteBoolean("norm_topk_prob", cfg.NormTopkProb);
            w.WriteNumber("routed_scaling_factor", cfg.RoutedScalingFactor);
            if (cfg.QLoraRank > 0) w.WriteNumber("q_lora_rank", cfg.QLoraRank); else w.WriteNull("q_lora_rank");
            w.WriteNumber("kv_lora_rank", cfg.KvLoraRank);
            w.WriteNumber("qk_nope_head_dim", cfg.QkNopeHeadDim);
            w.WriteNumber("qk_rope_head_dim", cfg.QkRopeHeadDim);
            w.WriteNumber("v_head_dim", cfg.VHeadDim);
            w.WriteString("hidden_act", "silu");
            w.WriteNumber("rms_norm_eps", cfg.RmsNormEps);
            w.WriteNumber("rope_theta", cfg.RopeTheta);
            if (cfg.RopeScaling is { } rs)
            {
                w.WriteStartObject("rope_scaling");
                w.WriteString("type", rs.Type);
                w.WriteNumber("factor", rs.Factor);
                w.WriteNumber("original_max_position_embeddings", rs.OriginalMaxPositionEmbeddings);
                w.WriteNumber("beta_fast", rs.BetaFast);
                w.WriteNumber("beta_slow", rs.BetaSlow);
                w.WriteNumber("mscale", rs.Mscale);
                w.WriteNumber("mscale_all_dim", rs.MscaleAllDim);
                w.WriteEndObject();
            }
            else w.WriteNull("rope_scaling");
            w.WriteNumber("max_position_embeddings", cfg.MaxPositionEmbeddings);
            w.WriteBoolean("tie_word_embeddings", false);
            w.WriteBoolean("attention_bias", false);
            w.WriteNumber("attention_dropout", 0.0);
            WriteTokenIds(w, cfg);
            w.WriteString("torch_dtype", torchDtype);
            w.WriteEndObject();
        }
        return stream.ToArray();
    }

    /// <summary>The dense baseline as Hugging Face's <c>LlamaForCausalLM</c> config.</summary>
    private static void WriteLlama(Utf8JsonWriter w, ModelConfig cfg, string torchDtype)
    {
        w.WriteStartArray("architectures");
        w.WriteStringValue("LlamaForCausalLM");
        w.WriteEndArray();
        w.WriteString("model_type", "llama");
        w.WriteNumber("vocab_size", cfg.VocabSize);
        w.WriteNumber("hidden_size", cfg.HiddenSize);
        w.WriteNumber("intermediate_size", cfg.IntermediateSize);
        w.WriteNumber("num_hidden_layers", cfg.NumHiddenLayers);
        w.WriteNumber("num_attention_heads", cfg.NumAttentionHeads);
        w.WriteNumber("num_key_value_heads", cfg.NumKeyValueHeads);
        w.WriteNumber("head_dim", cfg.HeadDim);
        w.WriteString("hidden_act", "silu");
        w.WriteNumber("rms_norm_eps", cfg.RmsNormEps);
        w.WriteNumber("rope_theta", cfg.RopeTheta);
        w.WriteNull("rope_scaling");
        w.WriteNumber("max_position_embeddings", cfg.MaxPositionEmbeddings);
        w.WriteBoolean("tie_word_embeddings", false);
        w.WriteBoolean("attention_bias", false);
        w.WriteBoolean("mlp_bias", false);
        WriteTokenIds(w, cfg);
        w.WriteString("torch_dtype", torchDtype);
    }

    private static void WriteTokenIds(Utf8JsonWriter w, ModelConfig cfg)
    {
        if (cfg.BosTokenId is int bos) w.WriteNumber("bos_token_id", bos);
        if (cfg.EosTokenIds.Count == 1) w.WriteNumber("eos_token_id", cfg.EosTokenIds[0]);
        else if (cfg.EosTokenIds.Count > 1)
        {
            w.WriteStartArray("eos_token_id");
            foreach (int e in cfg.EosTokenIds) w.WriteNumberValue(e);
            w.WriteEndArray();
        }
    }
}
