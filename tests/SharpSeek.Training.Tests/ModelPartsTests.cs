using System.Text.Json;
using SharpSeek.Models;
using SharpSeek.Tests;
using SharpSeek.Training.Model;
using Rope = SharpSeek.Training.Model.Rope;
using static TorchSharp.torch;

namespace SharpSeek.Training.Tests;

/// <summary>Pieces the fixtures do not cover on their own: RoPE tables against model.py's, plain RoPE, and the greedy group-limited router.</summary>
public sealed class ModelPartsTests
{
    public static TheoryData<string> Names => new() { "v3-tiny", "v2lite-tiny", "v3-tiny-fp8" };

    [Theory]
    [MemberData(nameof(Names))]
    public void RopeFrequenciesAndSoftmaxScaleMatchModelPy(string name)
    {
        var cfg = ModelConfig.Load(Fixtures.Path("deepseek", name, "config.json"));
        using var meta = JsonDocument.Parse(File.ReadAllBytes(Fixtures.Path("deepseek", name, "meta.json")));
        float[] expected = meta.RootElement.GetProperty("rope_inv_freq").EnumerateArray().Select(e => e.GetSingle()).ToArray();
        float[] ours = Rope.InverseFrequencies(cfg);
        Assert.Equal(expected.Length, ours.Length);
        for (int j = 0; j < ours.Length; j++) Assert.True(Math.Abs(ours[j] - expected[j]) <= 1e-7 * Math.Max(1, expected[j]) + 2e-7 * expected[j], $"inv[{j}] {ours[j]} vs {expected[j]}");
        Assert.Equal(meta.RootElement.GetProperty("softmax_scale").GetDouble(), Rope.SoftmaxScale(cfg), 9);
    }

    private static ModelConfig Plain(string extra) => ModelConfig.Parse(System.Text.Encoding.UTF8.GetBytes($$"""
    {
      "architectures": ["DeepseekV2ForCausalLM"], "vocab_size": 64, "hidden_size": 16, "intermediate_size": 32, "moe_intermediate_size": 8,
      "num_hidden_layers": 1, "first_k_dense_replace": 0, "num_attention_heads": 2, "n_routed_experts": 8, "n_shared_experts": 0,
      "num_experts_per_tok": 2, "q_lora_rank": null, "kv_lora_rank": 8, "qk_nope_head_dim": 4, "qk_rope_head_dim": 4, "v_head_dim": 4,
      "rope_theta": 10000, "rope_scaling": null {{extra}}
    }
    """));

    [Fact]
    public void WithoutRopeScalingFrequenciesAndScaleArePlain()
    {
        var cfg = Plain("");
        Assert.Equal(new[] { 1f, 0.01f }, Rope.InverseFrequencies(cfg));
        Assert.Equal(1 / Math.Sqrt(8), Rope.SoftmaxScale(cfg), 12);
        TorchRuntime.Initialise(1);
        var (cos, sin) = Rope.Tables(cfg, 3);
        using (cos) using (sin)
        {
            Assert.Equal((float)Math.Cos(2), cos[2, 0].item<float>());
            Assert.Equal((float)Math.Sin(0.02f), sin[2, 1].item<float>());
        }
    }

    [Fact]
    public void GroupLimitedGreedyKeepsTheGroupsWithTheBestSingleExpert()
    {
        // Softmax scores, 4 groups of 2, keep 2 groups by their MAX score (V2 236B); no bias.
        var cfg = Plain(""", "topk_method": "group_limited_greedy", "scoring_func": "softmax", "n_group": 4, "topk_group": 2, "routed_scaling_factor": 16.0""");
        TorchRuntime.Initialise(1);
        using var gate = new MoeGate(cfg);
        Assert.Null(gate.Bias);
        // Logits chosen so that the sum-of-top-2 rule (noaux_tc) would keep other groups than the max rule:
        // group 0: (3.0, -5)   max 3.0, top-2 sum low;   group 1: (2.0, 2.0)  max 2.0, sum high
        // group 2: (2.9, -5)   max 2.9;                  group 3: (1.9, 1.9)  max 1.9, sum high
        float[] logits = [3.0f, -5f, 2.0f, 2.0f, 2.9f, -5f, 1.9f, 1.9f];
        using var x = eye(16).narrow(0, 0, 1);                          // token = e_0, so logits = gate.weight[:, 0]
        using (no_grad())
        {
            gate.Weight.zero_();
            gate.Weight.select(1, 0).copy_(tensor(logits));
        }
        var (weights, indices, scores) = gate.Route(x);
        var ids = indices.data<long>().ToArray().OrderBy(i => i).ToArray();
        Assert.Equal(new long[] { 0, 4 }, ids);                        // best experts within groups 0 and 2
        var s = scores.data<float>().ToArray();
        var w = weights.data<float>().ToArray();
        var byId = indices.data<long>().ToArray();
        for (int k = 0; k < 2; k++) Assert.Equal(16 * s[byId[k]], w[k], 5);   // softmax: not renormalised, × route scale
    }
}
