using SharpSeek.Models;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SharpSeek.Training.Model;

/// <summary>
/// The DeepSeekMoE router as Hugging Face's <c>modeling_deepseek.py</c> defines it for the checkpoint's architecture (the
/// engine's <c>Gate</c> does the same): softmax or sigmoid scores, an optional bias that only steers selection
/// (<c>e_score_correction_bias</c>, the auxiliary-loss-free balancing term), top-k limited to the best groups for
/// group_limited_greedy (by group max) and noaux_tc (by top-2 sums) but not for greedy, weights from the unbiased
/// scores, renormalised and scaled by <c>routed_scaling_factor</c> per <see cref="ModelConfig.RoutingWeights"/>.
/// </summary>
public sealed class MoeGate : nn.Module
{
    private readonly int _experts, _topk, _groups, _topkGroups;
    private readonly bool _sigmoid, _normalize, _scaled, _groupLimited, _topTwoGroupScore;
    private readonly double _routeScale;

    public MoeGate(ModelConfig cfg) : base(nameof(MoeGate))
    {
        _experts = cfg.NRoutedExperts;
        _topk = cfg.NumExpertsPerTok;
        _groups = cfg.NGroup;
        _topkGroups = cfg.TopkGroup;
        _sigmoid = cfg.ScoringFunc == "sigmoid";
        _normalize = cfg.RenormalizesRoutingWeights;
        _scaled = cfg.ScalesRoutingWeights;
        _groupLimited = cfg.GroupLimitedRouting;
        _topTwoGroupScore = cfg.TopkMethod == "noaux_tc";
        _routeScale = cfg.RoutedScalingFactor;
        Weight = new Parameter(empty(_experts, cfg.HiddenSize));
        register_parameter("weight", Weight);
        if (cfg.TopkMethod == "noaux_tc")
        {
            Bias = new Parameter(zeros(_experts), requires_grad: false);
            register_parameter("e_score_correction_bias", Bias);
        }
    }

    /// <summary>Router weight <c>[E, D]</c>.</summary>
    public Parameter Weight { get; }

    /// <summary>Selection bias <c>[E]</c> (noaux_tc only); updated by the balancing rule, never by gradients.</summary>
    public Parameter? Bias { get; }

    /// <summary>
    /// Routes tokens <c>[N, D]</c>: returns the routing weights <c>[N, k]</c> (differentiable through the scores),
    /// the expert ids <c>[N, k]</c> (constants), and the scores <c>[N, E]</c>.
    /// </summary>
    public (Tensor Weights, Tensor Indices, Tensor Scores) Route(Tensor x)
    {
        long n = x.shape[0];
        var logits = nn.functional.linear(x, Weight);
        var scores = _sigmoid ? logits.sigmoid() : logits.softmax(-1);
        Tensor indices;
        using (no_grad())
        {
            var sel = scores.detach();
            if (Bias is not null) sel = sel + Bias;
            if (_groupLimited)
            {
                var grouped = sel.view(n, _groups, _experts / _groups);
                // noaux_tc ranks groups by the sum of their top-2 scores, group_limited_greedy by their best score.
                var groupScores = grouped.topk(_topTwoGroupScore ? 2 : 1, -1).values.sum(-1);
                var keepGroups = groupScores.topk(_topkGroups, -1).indexes;
                var keep = zeros(n, _groups).scatter(1, keepGroups, ones(n, _topkGroups)).gt(0);
                sel = grouped.masked_fill(keep.logical_not().unsqueeze(-1), float.NegativeInfinity).flatten(1);
            }
            indices = sel.topk(_topk, -1).indexes;
        }
        var weights = scores.gather(1, indices);
        if (_normalize) weights = weights / (weights.sum(-1, keepdim: true) + 1e-20);
        return (_scaled ? weights * _routeScale : weights, indices, scores);
    }
}
