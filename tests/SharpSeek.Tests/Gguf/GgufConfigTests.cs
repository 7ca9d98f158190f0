using SharpSeek.Formats.Gguf;
using SharpSeek.Models;
using SharpSeek.Tensors;

namespace SharpSeek.Tests.Gguf;

public class GgufConfigTests
{
    private static ModelConfig Load(string model, string type = "f32")
    {
        using var f = new GgufFile(GgufFixtureTests.ModelPath(model, type));
        return GgufConfig.Build(f);
    }

    [Fact]
    public void Qwen2_is_dense_with_split_half_rope_biases_and_tied_embeddings()
    {
        var c = Load("tiny-qwen2", "q4_0");
        Assert.Equal(ModelFamily.Dense, c.Family);
        Assert.Equal("Qwen2ForCausalLM", c.Architecture);
        Assert.Equal(RopeLayout.HalfSplit, c.RopeLayout);
        Assert.Equal(300, c.VocabSize);
        Assert.Equal(128, c.HiddenSize);
        Assert.Equal(256, c.IntermediateSize);
        Assert.Equal(2, c.NumHiddenLayers);
        Assert.Equal(4, c.NumAttentionHeads);
        Assert.Equal(2, c.NumKeyValueHeads);
        Assert.Equal(32, c.HeadDim);
        Assert.Equal(1e-6, c.RmsNormEps, 1e-12);
        Assert.Equal(10000, c.RopeTheta);
        Assert.Null(c.RopeScaling);
        Assert.Null(c.RopeFreqFactors);
        Assert.True(c.TieWordEmbeddings);
        Assert.True(c.AttentionBias);
        Assert.Equal(4096, c.MaxPositionEmbeddings);
        Assert.Equal(296, c.BosTokenId);
        Assert.Equal([297], c.EosTokenIds);
    }

    [Fact]
    public void DeepSeek_lite_has_mla_sizes_softmax_routing_and_no_q_lora()
    {
        var c = Load("tiny-ds2-lite");
        Assert.Equal(ModelFamily.DeepSeek, c.Family);
        Assert.Equal("DeepseekV2ForCausalLM", c.Architecture);
        Assert.Equal(RopeLayout.Interleaved, c.RopeLayout);
        Assert.Equal(3, c.NumHiddenLayers);
        Assert.Equal(4, c.NumAttentionHeads);
        Assert.Equal(0, c.QLoraRank);
        Assert.Equal(64, c.KvLoraRank);
        Assert.Equal(32, c.QkNopeHeadDim);
        Assert.Equal(16, c.QkRopeHeadDim);
        Assert.Equal(32, c.VHeadDim);
        Assert.Equal(256, c.IntermediateSize);
        Assert.Equal(64, c.MoeIntermediateSize);
        Assert.Equal(1, c.FirstKDenseReplace);
        Assert.Equal(8, c.NRoutedExperts);
        Assert.Equal(2, c.NumExpertsPerTok);
        Assert.Equal(2, c.NSharedExperts);
        Assert.Equal("softmax", c.ScoringFunc);
        Assert.Equal("greedy", c.TopkMethod);
        Assert.Equal(1, c.NGroup);
        Assert.False(c.NormTopkProb);
        Assert.Equal(1.0, c.RoutedScalingFactor);
        Assert.Null(c.RopeScaling);
        Assert.False(c.TieWordEmbeddings);
        Assert.False(c.IsMoeLayer(0));
        Assert.True(c.IsMoeLayer(1));
    }

    [Fact]
    public void DeepSeek_v3_style_has_q_lora_sigmoid_noaux_tc_groups_and_yarn()
    {
        var c = Load("tiny-ds2-v3", "q8_0");
        Assert.Equal("DeepseekV3ForCausalLM", c.Architecture);
        Assert.Equal(96, c.QLoraRank);
        Assert.Equal(1, c.NSharedExperts);
        Assert.Equal("sigmoid", c.ScoringFunc);
        Assert.Equal("noaux_tc", c.TopkMethod);
        Assert.Equal(4, c.NGroup);
        Assert.Equal(2, c.TopkGroup);
        Assert.True(c.NormTopkProb);
        Assert.Equal(2.5, c.RoutedScalingFactor);
        var y = Assert.IsType<RopeScaling>(c.RopeScaling);
        Assert.Equal("yarn", y.Type);
        Assert.Equal(4, y.Factor);
        Assert.Equal(1024, y.OriginalMaxPositionEmbeddings);
        Assert.Equal(1.0, y.MscaleAllDim, 1e-6);
        Assert.Equal(1.0, y.Mscale, 1e-6);
        Assert.Equal(32, y.BetaFast);
        Assert.Equal(1, y.BetaSlow);
    }

    [Fact]
    public void Llama_uses_interleaved_rope_and_rope_freqs_factors()
    {
        string path = TempFiles.Create();
        try
        {
            var freqs = Enumerable.Range(0, 16).Select(i => 1f + i).ToArray();
            WriteLlama(path, w => w.AddTensor("rope_freqs.weight", [16], freqs, DType.F32));
            using var f = new GgufFile(path);
            var c = GgufConfig.Build(f);
            Assert.Equal("LlamaForCausalLM", c.Architecture);
            Assert.Equal(ModelFamily.Dense, c.Family);
            Assert.Equal(RopeLayout.Interleaved, c.RopeLayout);
            Assert.Equal(32, c.HeadDim);
            Assert.Equal(1, c.NumKeyValueHeads);
            Assert.False(c.AttentionBias);
            Assert.True(c.TieWordEmbeddings);
            Assert.Equal(500000, c.RopeTheta);
            Assert.Equal(freqs, c.RopeFreqFactors);
            Assert.Equal(1e-5, c.RmsNormEps, 1e-12);
        }
        finally { TempFiles.Delete(path); }
    }

    [Fact]
    public void Unsupported_architecture_lists_the_supported_ones()
    {
        string path = TempFiles.Create();
        try
        {
            new GgufWriter().Set("general.architecture", "mamba").Write(path);
            using var f = new GgufFile(path);
            var e = Assert.Throws<ModelFormatException>(() => GgufConfig.Build(f));
            Assert.Contains("mamba", e.Message);
            Assert.Contains("supported: " + string.Join(", ", GgufConfig.SupportedArchitectures), e.Message);
            Assert.Contains("qwen3", e.Message);
            Assert.Contains(Path.GetFileName(path), e.Message);
        }
        finally { TempFiles.Delete(path); }
    }

    [Fact]
    public void Missing_and_mistyped_keys_name_the_key()
    {
        string path = TempFiles.Create();
        try
        {
            WriteLlama(path, w => w.Set("llama.block_count", "two"));
            using (var f = new GgufFile(path))
            {
                var e = Assert.Throws<ModelFormatException>(() => GgufConfig.Build(f));
                Assert.Contains("'llama.block_count'", e.Message);
            }
            var w2 = new GgufWriter().Set("general.architecture", "qwen2").Set("qwen2.embedding_length", 64u);
            w2.Write(path);
            using (var f = new GgufFile(path))
            {
                var e = Assert.Throws<ModelFormatException>(() => GgufConfig.Build(f));
                Assert.Contains("missing key 'qwen2.attention.head_count'", e.Message);
            }
        }
        finally { TempFiles.Delete(path); }
    }

    private static void WriteLlama(string path, Action<GgufWriter> extra)
    {
        var w = new GgufWriter()
            .Set("general.architecture", "llama")
            .Set("llama.block_count", 1u)
            .Set("llama.context_length", 8192u)
            .Set("llama.embedding_length", 64u)
            .Set("llama.feed_forward_length", 128u)
            .Set("llama.attention.head_count", 2u)
            .Set("llama.attention.head_count_kv", 1u)
            .Set("llama.rope.freq_base", 500000f)
            .Set("llama.attention.layer_norm_rms_epsilon", 1e-5f)
            .Set("llama.vocab_size", 64u)
            .AddTensor("token_embd.weight", [64, 64], new float[64 * 64], DType.F32);
        extra(w);
        w.Write(path);
    }
}
