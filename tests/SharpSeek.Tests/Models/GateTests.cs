using SharpSeek.Models;
using SharpSeek.Models.DeepSeek;
using SharpSeek.Tensors;

namespace SharpSeek.Tests.Models;

/// <summary>
/// Routing variants without a golden fixture, checked against the definitions in DeepSeek's model.py Gate
/// on hand-made scores where the right answer is evident.
/// </summary>
public sealed unsafe class GateTests
{
    private static ModelConfig Config(string method, string scoring, int experts, int k, int groups, int topGroups, bool norm, double scale,
        RoutingWeights rule = RoutingWeights.HuggingFaceV3) => new()
    {
        RoutingWeights = rule,
        Architecture = "DeepseekV3ForCausalLM",
        ModelType = "deepseek_v3",
        Family = ModelFamily.DeepSeek,
        HiddenSize = 4,
        NRoutedExperts = experts,
        NumExpertsPerTok = k,
        NGroup = groups,
        TopkGroup = topGroups,
        TopkMethod = method,
        ScoringFunc = scoring,
        NormTopkProb = norm,
        RoutedScalingFactor = scale,
    };

    private static (int[] Experts, float[] Weights) Route(ModelConfig c, float[] logits, float[]? bias = null)
    {
        var dummy = new float[c.NRoutedExperts * c.HiddenSize];
        fixed (float* p = dummy)
        {
            var gate = new Gate(c, new WeightTensor("gate", "test", DType.F32, [c.NRoutedExperts, c.HiddenSize], (byte*)p, dummy.Length * 4), bias);
            var experts = new int[c.NumExpertsPerTok];
            var weights = new float[c.NumExpertsPerTok];
            gate.RouteOne((float[])logits.Clone(), new float[3 * c.NRoutedExperts], new float[c.NGroup], experts, weights);
            return (experts, weights);
        }
    }

    [Fact]
    public void GroupLimitedGreedyRanksGroupsByTheirMaximum()
    {
        // 4 groups of 2 (softmax scores). Group maxima: g0 = 5, g1 = 4.9, g2 = 4, g3 = 4.5; keep 2 groups → g0, g1.
        // Top-2 sums would prefer g3 (4.5+4.4) and g2 (4+4): max and sum disagree on purpose.
        float[] logits = [5, 0, 4.9f, 0, 4, 4, 4.5f, 4.4f];
        var c = Config("group_limited_greedy", "softmax", 8, 2, 4, 2, norm: false, scale: 16);
        var (experts, weights) = Route(c, logits);
        Assert.Equal(new[] { 0, 2 }, experts.Order().ToArray());
        double z = logits.Sum(l => Math.Exp(l));
        Assert.Equal(16 * Math.Exp(5) / z, weights[Array.IndexOf(experts, 0)], 5);
        Assert.Equal(16 * Math.Exp(4.9) / z, weights[Array.IndexOf(experts, 2)], 5);
    }

    [Fact]
    public void NoauxTcRanksGroupsByTopTwoSumWithBiasForSelectionOnly()
    {
        float[] logits = [5, 0, 4.9f, 0, 4, 4, 4.5f, 4.4f];
        var c = Config("noaux_tc", "sigmoid", 8, 2, 4, 2, norm: true, scale: 2.5);
        var (experts, weights) = Route(c, logits, bias: new float[8]);
        // Top-2 sums: g3 (σ4.5+σ4.4) and g2 (σ4+σ4) beat g0 (σ5+σ0) and g1: experts 6 and 7.
        Assert.Equal(new[] { 6, 7 }, experts.Order().ToArray());
        // A bias that lifts expert 1 makes g0 win and expert 1 selected, but its weight uses the unbiased score.
        var bias = new float[8];
        bias[1] = 10;
        (experts, weights) = Route(c, logits, bias);
        Assert.Contains(1, experts);
        static double S(double x) => 1 / (1 + Math.Exp(-x));
        double w1 = S(0), other = S(logits[experts.First(e => e != 1)]);
        Assert.Equal(2.5 * w1 / (w1 + other), weights[Array.IndexOf(experts, 1)], 5);
    }

    [Fact]
    public void GreedyIgnoresGroups()
    {
        float[] logits = [5, 0, 4.9f, 0, 4, 4, 4.5f, 4.4f];
        var (experts, _) = Route(Config("greedy", "softmax", 8, 3, 4, 1, norm: false, scale: 1), logits);
        Assert.Equal(new[] { 0, 2, 6 }, experts.Order().ToArray());
    }

    [Fact]
    public void SoftmaxWithNormalisationSumsToScale()
    {
        float[] logits = [1, 2, 3, 4, 0.5f, -1, 2.5f, 0];
        var (_, weights) = Route(Config("greedy", "softmax", 8, 3, 1, 1, norm: true, scale: 1.5), logits);
        Assert.Equal(1.5, weights.Sum(), 5);
    }

    [Theory]
    [InlineData("noaux_tc", "sigmoid", float.NaN)]
    [InlineData("greedy", "softmax", float.NaN)]
    [InlineData("group_limited_greedy", "softmax", float.PositiveInfinity)]
    public void NonFiniteScoresAreRejectedWithAClearError(string method, string scoring, float bad)
    {
        // Issue 17.6: NaN activations (from a broken config or weights) used to make the top-k pick index -1.
        float[] logits = [bad, bad, bad, bad, bad, bad, bad, bad];
        var c = Config(method, scoring, 8, 2, 4, 2, norm: true, scale: 1);
        var e = Assert.Throws<SharpSeekException>(() => Route(c, logits, method == "noaux_tc" ? new float[8] : null));
        Assert.Contains("not finite", e.Message);
    }

    [Fact]
    public void HuggingFaceV2RenormalisingReplacesTheScaling()
    {
        // DeepSeek-V2's modeling_deepseek.py: `if top_k > 1 and norm_topk_prob: w /= sum(w) + 1e-20 else: w *= routed_scaling_factor`.
        float[] logits = [1, 2, 3, 4, 0.5f, -1, 2.5f, 0];
        var (_, v2) = Route(Config("greedy", "softmax", 8, 3, 1, 1, norm: true, scale: 16, RoutingWeights.HuggingFaceV2), logits);
        Assert.Equal(1.0, v2.Sum(), 5);
        var (_, v3) = Route(Config("greedy", "softmax", 8, 3, 1, 1, norm: true, scale: 16, RoutingWeights.HuggingFaceV3), logits);
        Assert.Equal(16.0, v3.Sum(), 4);
    }

    [Theory]
    [InlineData(RoutingWeights.HuggingFaceV2)]
    [InlineData(RoutingWeights.HuggingFaceV3)]
    public void HuggingFaceNeverRenormalisesASingleExpert(RoutingWeights rule)
    {
        float[] logits = [1, 2, 3, 4, 0.5f, -1, 2.5f, 0];
        var (experts, weights) = Route(Config("greedy", "softmax", 8, 1, 1, 1, norm: true, scale: 2, rule), logits);
        Assert.Equal(3, experts[0]);
        double z = logits.Sum(l => Math.Exp(l));
        Assert.Equal(2 * Math.Exp(4) / z, weights[0], 5);
        // llama.cpp's graph does renormalise it (to 1, times the scale): GGUF files keep that rule.
        (_, weights) = Route(Config("greedy", "softmax", 8, 1, 1, 1, norm: true, scale: 2, RoutingWeights.LlamaCpp), logits);
        Assert.Equal(2.0, weights[0], 5);
    }
}
