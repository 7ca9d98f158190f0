namespace SharpSeek.Models.DeepSeek;

/// <summary>
/// DeepSeekMoE: y = Σ_routed w_e · expert_e(x) + shared(x). Tokens of a batch are grouped by expert,
/// so each chosen expert runs one batched product instead of one per token.
/// </summary>
internal sealed class Moe : IFeedForward
{
    private readonly Gate _gate;
    private readonly Mlp[] _experts;
    private readonly Mlp? _shared;
    private readonly int _topK, _layer, _dim;

    public Moe(WeightLoader w, string prefix, ModelConfig c, int layer)
    {
        _layer = layer;
        _dim = c.HiddenSize;
        _topK = c.NumExpertsPerTok;
        _gate = new Gate(w, prefix + ".gate", c);
        _experts = new Mlp[c.NRoutedExperts];
        for (int e = 0; e < _experts.Length; e++) _experts[e] = new Mlp(w, $"{prefix}.experts.{e}", c.HiddenSize, c.MoeIntermediateSize);
        if (c.NSharedExperts > 0) _shared = new Mlp(w, prefix + ".shared_experts", c.HiddenSize, c.MoeIntermediateSize * c.NSharedExperts);
    }

    public long ParameterCount => _gate.ParameterCount + _experts.Sum(e => e.ParameterCount) + (_shared?.ParameterCount ?? 0);

    public long ActiveParameterCount => _gate.ParameterCount + _topK * _experts[0].ParameterCount + (_shared?.ParameterCount ?? 0);

    public void Forward(Workspace ws, int tokens, int startPos, IForwardObserver? observer)
    {
        int d = _dim;
        _gate.Route(ws, tokens);
        if (observer is not null)
            for (int t = 0; t < tokens; t++)
                observer.OnRouting(_layer, startPos + t, ws.Experts.AsSpan(t * _topK, _topK), ws.ExpertWeights.AsSpan(t * _topK, _topK));

        var output = ws.Out.AsSpan(0, tokens * d);
        output.Clear();
        for (int e = 0; e < _experts.Length; e++)
        {
            int count = 0;
            for (int t = 0; t < tokens; t++)
                for (int k = 0; k < _topK; k++)
                    if (ws.Experts[t * _topK + k] == e)
                    {
                        ws.ExpertTokens[count] = t;
                        ws.ExpertTokenWeights[count] = ws.ExpertWeights[t * _topK + k];
                        ws.Xn.AsSpan(t * d, d).CopyTo(ws.ExpertX.AsSpan(count * d, d));
                        count++;
                    }
            if (count == 0) continue;
            _experts[e].Apply(ws, ws.ExpertX.AsSpan(0, count * d), count, ws.ExpertY);
            for (int i = 0; i < count; i++)
            {
                var dst = output.Slice(ws.ExpertTokens[i] * d, d);
                System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(ws.ExpertY.AsSpan(i * d, d), ws.ExpertTokenWeights[i], dst, dst);
            }
        }
        if (_shared is not null)
        {
            _shared.Apply(ws, ws.Xn.AsSpan(0, tokens * d), tokens, ws.ExpertY);
            System.Numerics.Tensors.TensorPrimitives.Add(output, ws.ExpertY.AsSpan(0, tokens * d), output);
        }
    }
}
