using static TorchSharp.torch;

namespace SharpSeek.Training.Model;

/// <summary>Per-forward switches and accumulators that MoE layers read and fill during a training forward.</summary>
public sealed class ForwardContext
{
    /// <summary>α of the sequence-wise balance loss (0 turns it off).</summary>
    public double BalanceAlpha { get; init; }

    /// <summary>Whether MoE layers add this forward's expert loads to their counters (for the bias update and the load log).</summary>
    public bool RecordLoad { get; init; }

    /// <summary>Sum over MoE layers of α · Σ_i f_i P_i, averaged over sequences; null when no layer added one.</summary>
    public Tensor? BalanceLoss { get; private set; }

    internal void AddBalanceLoss(Tensor loss) => BalanceLoss = BalanceLoss is null ? loss : BalanceLoss + loss;
}
