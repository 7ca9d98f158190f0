using SharpSeek.Formats.Gguf;
using SharpSeek.Tensors;

namespace SharpSeek.Tests.Gguf;

public class GgufTensorSourceTests
{
    [Fact]
    public void Qwen2_tensors_appear_under_hugging_face_names()
    {
        using var src = new GgufTensorSource(GgufFixtureTests.ModelPath("tiny-qwen2", "q8_0"));
        Assert.False(src.Contains("lm_head.weight")); // tied
        Assert.Equal([300L, 128], src.Get("model.embed_tokens.weight").Shape);
        Assert.Equal([128L], src.Get("model.norm.weight").Shape);
        Assert.Equal([128L, 128], src.Get("model.layers.1.self_attn.q_proj.weight").Shape);
        Assert.Equal([64L, 128], src.Get("model.layers.1.self_attn.k_proj.weight").Shape);
        Assert.Equal([64L], src.Get("model.layers.0.self_attn.v_proj.bias").Shape);
        Assert.Equal([128L, 128], src.Get("model.layers.0.self_attn.o_proj.weight").Shape);
        Assert.Equal([256L, 128], src.Get("model.layers.0.mlp.up_proj.weight").Shape);
        Assert.Equal([128L, 256], src.Get("model.layers.0.mlp.down_proj.weight").Shape);
        Assert.True(src.Contains("model.layers.1.input_layernorm.weight"));
        Assert.True(src.Contains("model.layers.1.post_attention_layernorm.weight"));
        Assert.Equal(DType.Q8_0, src.Get("model.layers.0.mlp.gate_proj.weight").Type);
        Assert.Equal("model.layers.0.mlp.gate_proj.weight", src.Get("model.layers.0.mlp.gate_proj.weight").Name);
        Assert.DoesNotContain(src.Names, n => n.StartsWith("blk.", StringComparison.Ordinal));
        var e = Assert.Throws<ModelFormatException>(() => src.Get("lm_head.weight"));
        Assert.Contains("tiny-qwen2-q8_0.gguf", e.Message);
        Assert.Contains("lm_head.weight", e.Message);
    }

    [Fact]
    public void DeepSeek_v3_style_mla_and_moe_tensors_map_without_copies()
    {
        using var src = new GgufTensorSource(GgufFixtureTests.ModelPath("tiny-ds2-v3", "f32"));
        var file = src.File;
        Assert.True(src.Contains("lm_head.weight"));
        Assert.Equal([96L, 128], src.Get("model.layers.0.self_attn.q_a_proj.weight").Shape);
        Assert.Equal([96L], src.Get("model.layers.0.self_attn.q_a_layernorm.weight").Shape);
        Assert.Equal([192L, 96], src.Get("model.layers.0.self_attn.q_b_proj.weight").Shape);
        Assert.Equal([80L, 128], src.Get("model.layers.0.self_attn.kv_a_proj_with_mqa.weight").Shape);
        Assert.Equal([64L], src.Get("model.layers.0.self_attn.kv_a_layernorm.weight").Shape);
        // [H, kv_lora, qk_nope] and [H, v_head, kv_lora]: GGUF ne reversed, the same bytes.
        var kb = src.Get("model.layers.2.self_attn.k_b_proj.weight");
        Assert.Equal([4L, 64, 32], kb.Shape);
        Assert.Equal([4L, 32, 64], src.Get("model.layers.2.self_attn.v_b_proj.weight").Shape);
        Assert.Equal(file.GetTensor("blk.2.attn_k_b.weight").ToFloat32(), kb.ToFloat32());
        Assert.Equal([8L, 128], src.Get("model.layers.1.mlp.gate.weight").Shape);
        Assert.Equal([8L], src.Get("model.layers.1.mlp.gate.e_score_correction_bias").Shape);
        Assert.Equal([64L, 128], src.Get("model.layers.1.mlp.shared_experts.gate_proj.weight").Shape);
        Assert.Equal([128L, 64], src.Get("model.layers.2.mlp.shared_experts.down_proj.weight").Shape);
        Assert.False(src.Contains("model.layers.0.mlp.experts.0.gate_proj.weight")); // leading dense layer
        Assert.Equal([256L, 128], src.Get("model.layers.0.mlp.gate_proj.weight").Shape);

        float[] stacked = file.GetTensor("blk.1.ffn_down_exps.weight").ToFloat32();
        for (int e = 0; e < 8; e++)
        {
            var down = src.Get($"model.layers.1.mlp.experts.{e}.down_proj.weight");
            Assert.Equal([128L, 64], down.Shape);
            Assert.Equal($"model.layers.1.mlp.experts.{e}.down_proj.weight", down.Name);
            Assert.Equal(stacked.AsSpan(e * 128 * 64, 128 * 64).ToArray(), down.ToFloat32());
            Assert.Equal([64L, 128], src.Get($"model.layers.2.mlp.experts.{e}.gate_proj.weight").Shape);
            Assert.Equal([64L, 128], src.Get($"model.layers.2.mlp.experts.{e}.up_proj.weight").Shape);
        }
        Assert.False(src.Contains("model.layers.1.mlp.experts.8.down_proj.weight"));
    }

    [Fact]
    public void DeepSeek_lite_uses_plain_q_proj_and_untied_output()
    {
        using var src = new GgufTensorSource(GgufFixtureTests.ModelPath("tiny-ds2-lite", "q4_0"));
        Assert.Equal([192L, 128], src.Get("model.layers.0.self_attn.q_proj.weight").Shape);
        Assert.False(src.Contains("model.layers.0.self_attn.q_a_proj.weight"));
        Assert.Equal([300L, 128], src.Get("lm_head.weight").Shape);
        Assert.Equal(DType.Q4_0, src.Get("model.layers.2.mlp.experts.3.up_proj.weight").Type);
        Assert.Equal(DType.F32, src.Get("model.layers.2.mlp.gate.weight").Type);
    }

    [Fact]
    public void Merged_gate_up_experts_split_into_gate_then_up_halves()
    {
        const int experts = 3, ff = 32, hidden = 64;
        var rnd = new Random(7);
        var values = new float[experts * 2 * ff * hidden];
        for (int i = 0; i < values.Length; i++) values[i] = (float)(rnd.NextDouble() * 2 - 1);
        string path = TempFiles.Create();
        try
        {
            new GgufWriter()
                .Set("general.architecture", "deepseek2")
                .AddTensor("blk.0.ffn_gate_up_exps.weight", [experts, 2 * ff, hidden], values, DType.F32)
                .AddTensor("blk.0.attn_kv_b.weight", [32, hidden], new float[32 * hidden], DType.F32)
                .AddTensor("rope_freqs.weight", [32], new float[32], DType.F32)
                .AddTensor("blk.0.attn_sinks.weight", [32], new float[32], DType.F32)
                .Write(path);
            using var src = new GgufTensorSource(path);
            for (int e = 0; e < experts; e++)
            {
                var gate = src.Get($"model.layers.0.mlp.experts.{e}.gate_proj.weight");
                var up = src.Get($"model.layers.0.mlp.experts.{e}.up_proj.weight");
                Assert.Equal([(long)ff, hidden], gate.Shape);
                Assert.Equal([(long)ff, hidden], up.Shape);
                int baseIdx = e * 2 * ff * hidden;
                Assert.Equal(values.AsSpan(baseIdx, ff * hidden).ToArray(), gate.ToFloat32());
                Assert.Equal(values.AsSpan(baseIdx + ff * hidden, ff * hidden).ToArray(), up.ToFloat32());
            }
            Assert.Equal([32L, hidden], src.Get("model.layers.0.self_attn.kv_b_proj.weight").Shape);
            Assert.False(src.Contains("rope_freqs.weight")); // configuration (GgufConfig), not a weight
            Assert.True(src.Contains("blk.0.attn_sinks.weight")); // unknown names stay visible so the loader can reject them
        }
        finally { TempFiles.Delete(path); }
    }
}
