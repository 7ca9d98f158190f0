using SharpSeek.Models;
using SharpSeek.Training.Model;

namespace SharpSeek.Training.Training;

/// <summary>Parameter counts and the training-FLOPs estimate of a run's report.</summary>
public sealed record CostModel(long TotalParameters, long ActiveParameters, long EmbeddingParameters, double AttentionFlopsPerToken)
{
    /// <summary>
    /// Active parameters: all but the token embedding, with each MoE layer's routed experts counted at k/E
    /// (the lm_head counts: it is a matmul per token). Attention FLOPs per trained token for a causal window
    /// of T: 3 (forward + backward) × 2 multiply-adds × H·(dq + dv) × (T+1)/2 keys, per layer.
    /// </summary>
    public static CostModel For(DeepSeekModel model, int seqLen)
    {
        ModelConfig cfg = model.Config;
        long total = 0, embed = 0, routed = 0;
        foreach (var (name, p) in model.named_parameters())
        {
            long n = p.numel();
            total += n;
            if (name == "model.embed_tokens.weight") embed += n;
            else if (name.Contains(".mlp.experts.", StringComparison.Ordinal)) routed += n;
        }
        double activeFraction = cfg.NRoutedExperts > 0 ? (double)cfg.NumExpertsPerTok / cfg.NRoutedExperts : 1;
        long active = total - embed - routed + (long)(routed * activeFraction);
        int layers = cfg.NumHiddenLayers + (model.Mtp is not null ? 1 : 0);
        int qk = cfg.Family == ModelFamily.DeepSeek ? cfg.QkHeadDim : cfg.HeadDim, v = cfg.Family == ModelFamily.DeepSeek ? cfg.VHeadDim : cfg.HeadDim;
        double attention = 3.0 * 2 * layers * cfg.NumAttentionHeads * (qk + v) * (seqLen + 1) / 2.0;
        return new CostModel(total, active, embed, attention);
    }

    /// <summary>6·N_active·tokens + attention.</summary>
    public double TrainingFlops(long tokens) => (6.0 * ActiveParameters + AttentionFlopsPerToken) * tokens;
}
