using SharpSeek.Models;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SharpSeek.Training.Model;

/// <summary>
/// The DeepSeekMoE router (model.py <c>Gate</c>): softmax or sigmoid scores, an optional bias that only
/// steers selection (<c>e_score_correction_bias</c>, the auxiliary-loss-free balancing term), group-limited
/// top-k, weights from the unbiased scores, renormalised for sigmoid, times <c>routed_scaling_factor</c>.
/// </summary>
public sealed class MoeGate : nn.Module
{
    private readonly int _experts, _topk, _groups, _topkGroups;
    private readonly bool _sigmoid, _normalize;
    private readonly double _routeScale;

    public MoeGate(ModelConfig cfg) : base(nameof(MoeGate))
    {
        _experts = cfg.NRoutedExperts;
        _topk = cfg.NumExpertsPerTok;
        _groups = cfg.NGroup;
        _topkGroups = cfg.TopkGroup;
        _sigmoid = cfg.ScoringFunc == "sigmoid";
        _normalize = _sigmoid || cfg.NormTopkProb;
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
            if (_groups > 1)
            {
                var grouped = sel.view(n, _groups, _experts / _groups);
                // noaux_tc ranks groups by the sum of their top-2 scores, the greedy variants by their best score.
                var groupScores = grouped.topk(Bias is not null ? 2 : 1, -1).values.sum(-1);
                var keepGroups = groupScores.topk(_topkGroups, -1).indexes;
                var keep = zeros(n, _groups).scatter(1, keepGroups, ones(n, _topkGroups)).gt(0);
                sel = grouped.masked_fill(keep.logical_not().unsqueeze(-1), float.NegativeInfinity).flatten(1);
            }
            indices = sel.topk(_topk, -1).indexes;
        }
        var weights = scores.gather(1, indices);
        if (_normalize) weights = weights / weights.sum(-1, keepdim: true);
        return (weights * _routeScale, indices, scores);
    }
}
