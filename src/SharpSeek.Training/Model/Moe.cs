using SharpSeek.Models;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SharpSeek.Training.Model;

/// <summary>
/// DeepSeekMoE: y = shared(x) + Σ_{e ∈ top-k} w_e · expert_e(x). Dispatch sorts the (token, slot) pairs by
/// expert once, gathers the tokens, runs each expert on one contiguous block and scatters back with index_add.
/// </summary>
public sealed class Moe : nn.Module
{
    private readonly int _experts, _topk;
    private readonly MoeGate _gate;
    private readonly ModuleList<Mlp> _routed;
    private readonly Mlp? _shared;
    private readonly double[] _load;

    public Moe(ModelConfig cfg) : base(nameof(Moe))
    {
        _experts = cfg.NRoutedExperts;
        _topk = cfg.NumExpertsPerTok;
        _gate = new MoeGate(cfg);
        _routed = nn.ModuleList(Enumerable.Range(0, _experts).Select(_ => new Mlp(cfg.HiddenSize, cfg.MoeIntermediateSize)).ToArray());
        _shared = cfg.NSharedExperts > 0 ? new Mlp(cfg.HiddenSize, (long)cfg.NSharedExperts * cfg.MoeIntermediateSize) : null;
        _load = new double[_experts];
        register_module("gate", _gate);
        register_module("experts", _routed);
        if (_shared is not null) register_module("shared_experts", _shared);
    }

    public MoeGate Gate => _gate;

    /// <summary>Tokens routed to each expert since the last <see cref="UpdateBias"/> (or <see cref="ResetLoad"/>).</summary>
    public IReadOnlyList<double> Load => _load;

    /// <summary>x <c>[B, S, D]</c> → <c>[B, S, D]</c>.</summary>
    public Tensor Forward(Tensor x, ForwardContext? ctx)
    {
        long b = x.shape[0], s = x.shape[1], d = x.shape[2];
        var flat = x.reshape(-1, d);                                                   // [N, D]
        long n = flat.shape[0];
        var (weights, indices, scores) = _gate.Route(flat);

        var slots = indices.reshape(-1);                                               // [N·k] expert of each (token, slot)
        var order = slots.argsort();
        var tokenOfSlot = arange(n).repeat_interleave(_topk).index_select(0, order);   // token of each sorted slot
        long[] counts = slots.bincount(null, _experts).data<long>().ToArray();
        var gathered = flat.index_select(0, tokenOfSlot);
        var outputs = new List<Tensor>(_experts);
        long start = 0;
        for (int e = 0; e < _experts; e++)
        {
            if (counts[e] == 0) continue;
            outputs.Add(_routed[e].call(gathered.narrow(0, start, counts[e])));
            start += counts[e];
        }
        var routed = cat(outputs, 0) * weights.reshape(-1).index_select(0, order).unsqueeze(1);
        var y = zeros_like(flat).index_add(0, tokenOfSlot, routed, 1);
        if (_shared is not null) y = y + _shared.call(flat);

        if (ctx is not null)
        {
            if (ctx.RecordLoad)
                for (int e = 0; e < _experts; e++) _load[e] += counts[e];
            if (ctx.BalanceAlpha > 0) ctx.AddBalanceLoss(SequenceBalanceLoss(scores, indices, b, s) * ctx.BalanceAlpha);
        }
        return y.view(b, s, d);
    }

    /// <summary>
    /// DeepSeek-V3's sequence-wise balance loss Σ_i f_i P_i, averaged over sequences (without α):
    /// f_i = E / (k·T) · #tokens of the sequence routed to i; P_i = mean over the sequence of the normalised score s'_i.
    /// </summary>
    private Tensor SequenceBalanceLoss(Tensor scores, Tensor indices, long b, long t)
    {
        var normalised = scores / scores.sum(-1, keepdim: true);
        var p = normalised.view(b, t, _experts).mean([1]);                            // [B, E]
        Tensor f;
        using (no_grad())
        {
            var chosen = zeros(b * t, _experts).scatter(1, indices, ones(indices.shape));
            f = chosen.view(b, t, _experts).sum(1) * ((double)_experts / (_topk * t));   // [B, E]
        }
        return (f * p).sum(-1).mean();
    }

    /// <summary>
    /// The auxiliary-loss-free update: raises the bias of under-loaded experts by γ and lowers it for over-loaded
    /// ones (sign of mean load − load), then clears the counters. Returns max/mean load before the update (1 = balanced).
    /// </summary>
    public double UpdateBias(double gamma)
    {
        double ratio = LoadRatio();
        if (_gate.Bias is { } bias && gamma > 0)
        {
            double mean = _load.Average();
            var step = _load.Select(c => (float)(gamma * Math.Sign(mean - c))).ToArray();
            using (no_grad()) bias.add_(tensor(step));
        }
        ResetLoad();
        return ratio;
    }

    /// <summary>max/mean of the recorded expert loads (0 when nothing was recorded).</summary>
    public double LoadRatio()
    {
        double mean = _load.Average();
        return mean > 0 ? _load.Max() / mean : 0;
    }

    public void ResetLoad() => Array.Clear(_load);
}
