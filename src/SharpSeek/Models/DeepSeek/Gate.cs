using System.Numerics.Tensors;
using SharpSeek.Kernels;
using SharpSeek.Tensors;

namespace SharpSeek.Models.DeepSeek;

/// <summary>
/// The DeepSeekMoE router (model.py <c>Gate</c>, Hugging Face's <c>MoEGate</c>): softmax or sigmoid scores; an optional
/// bias that only influences selection (noaux_tc); group-limited selection by group max (group_limited_greedy) or by
/// the sum of each group's top two (noaux_tc, and any grouped GGUF, as llama.cpp does), none for greedy; weights from the
/// unbiased scores, renormalised and scaled by routed_scaling_factor as the checkpoint's own code does it
/// (<see cref="RoutingWeights"/>).
/// </summary>
internal sealed class Gate
{
    private readonly WeightTensor _weight;  // [E, D]
    private readonly float[]? _bias;        // [E], e_score_correction_bias
    private readonly int _experts, _topK, _groups, _topGroups;
    private readonly bool _sigmoid, _normalize, _scaled, _groupLimited, _topTwoGroupScore;
    private readonly float _scale;
    private readonly string _name;

    public Gate(WeightLoader w, string prefix, ModelConfig c)
        : this(c, w.Matrix(prefix + ".weight", c.NRoutedExperts, c.HiddenSize),
               c.TopkMethod == "noaux_tc" || w.Has(prefix + ".e_score_correction_bias") ? w.Vector(prefix + ".e_score_correction_bias", c.NRoutedExperts) : null, prefix)
    {
    }

    internal Gate(ModelConfig c, WeightTensor weight, float[]? bias, string name = "gate")
    {
        _name = name;
        _experts = c.NRoutedExperts;
        _topK = c.NumExpertsPerTok;
        _weight = weight;
        _bias = bias;
        _sigmoid = c.ScoringFunc == "sigmoid";
        _normalize = c.RenormalizesRoutingWeights;
        _scaled = c.ScalesRoutingWeights;
        _scale = (float)c.RoutedScalingFactor;
        _groups = c.NGroup;
        _topGroups = c.TopkGroup;
        _groupLimited = c.GroupLimitedRouting;
        _topTwoGroupScore = c.RanksGroupsByTopTwo;
    }

    public long ParameterCount => _weight.ElementCount + (_bias?.Length ?? 0);

    /// <summary>Routes <paramref name="tokens"/> rows of ws.Xn into ws.Experts / ws.ExpertWeights ([T, k]).</summary>
    public void Route(in KernelContext k, Workspace ws, int tokens)
    {
        MatMul.Compute(k, _weight, ws.Xn, tokens, ws.RouterLogits);
        for (int t = 0; t < tokens; t++)
            RouteOne(ws.RouterLogits.AsSpan(t * _experts, _experts), ws.RouterScratch, ws.GroupScores,
                ws.Experts.AsSpan(t * _topK, _topK), ws.ExpertWeights.AsSpan(t * _topK, _topK));
    }

    internal void RouteOne(Span<float> logits, Span<float> scratch, Span<float> groupScores, Span<int> experts, Span<float> weights)
    {
        int e = _experts;
        Span<float> scores = scratch[..e];
        Span<float> select = scratch.Slice(e, e);
        if (_sigmoid)
            for (int i = 0; i < e; i++) scores[i] = 1f / (1f + MathF.Exp(-logits[i]));
        else
        {
            logits.CopyTo(scores);
            Norms.Softmax(scores);
        }
        // NaN activations (broken weights, or a config that passed validation yet overflows) would otherwise make the
        // top-k below pick nothing (index −1); say so where it happens instead.
        if (!float.IsFinite(TensorPrimitives.Sum(scores)))
            throw new SharpSeekException($"{_name}: the router's scores are not finite (NaN or infinite activations reached the MoE gate; the weights or the config are broken)");
        scores.CopyTo(select);
        if (_bias is not null)
            for (int i = 0; i < e; i++) select[i] += _bias[i];

        if (_groupLimited)
        {
            int per = e / _groups;
            for (int g = 0; g < _groups; g++)
            {
                var grp = select.Slice(g * per, per);
                if (_topTwoGroupScore)
                {
                    float a = float.NegativeInfinity, b = float.NegativeInfinity;
                    foreach (float v in grp)
                    {
                        if (v > a) { b = a; a = v; }
                        else if (v > b) b = v;
                    }
                    groupScores[g] = a + b;
                }
                else
                {
                    float m = float.NegativeInfinity;
                    foreach (float v in grp) m = Math.Max(m, v);
                    groupScores[g] = m;
                }
            }
            // Keep the topk_group best groups; mask every expert of the others with -inf (model.py).
            for (int kept = 0; kept < _groups - _topGroups; kept++)
            {
                int worst = -1;
                for (int g = 0; g < _groups; g++)
                    if (!float.IsNaN(groupScores[g]) && (worst < 0 || groupScores[g] <= groupScores[worst])) worst = g;
                groupScores[worst] = float.NaN;
                select.Slice(worst * per, per).Fill(float.NegativeInfinity);
            }
        }

        // Top-k by selection score: largest first, lower index first on ties.
        for (int k = 0; k < _topK; k++)
        {
            int best = -1;
            for (int i = 0; i < e; i++)
            {
                if (float.IsNaN(select[i])) continue;
                if (best < 0 || select[i] > select[best]) best = i;
            }
            if (best < 0) throw new SharpSeekException($"{_name}: no expert has a finite selection score (the score correction bias is not finite)");
            experts[k] = best;
            weights[k] = scores[best];
            select[best] = float.NaN;
        }
        if (_normalize)
        {
            float sum = 1e-20f;   // Hugging Face's denominator: Σw + 1e-20
            foreach (float v in weights) sum += v;
            for (int k = 0; k < _topK; k++) weights[k] /= sum;
        }
        if (_scaled)
            for (int k = 0; k < _topK; k++) weights[k] *= _scale;
    }
}
