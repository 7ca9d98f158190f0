namespace SharpSeek.Models.DeepSeek;

/// <summary>
/// DeepSeekMoE (model.py <c>MoE.forward</c>): y = Σ_routed w_e · expert_e(x) + shared(x). The rows of a pass — every sequence's —
/// are grouped by expert, so each chosen expert runs one product over all the rows routed to it: its weights stream once per pass.
/// A row's output adds its experts in expert order, whatever else the pass holds.
/// </summary>
internal sealed class Moe : IFeedForward
{
    private readonly Gate _gate;
    private readonly Mlp[] _experts;
    private readonly Mlp? _shared;
    private readonly int _topK, _dim;

    public Moe(WeightLoader w, string prefix, ModelConfig c)
    {
        _dim = c.HiddenSize;
        _topK = c.NumExpertsPerTok;
        _gate = new Gate(w, prefix + ".gate", c);
        _experts = new Mlp[c.NRoutedExperts];
        for (int e = 0; e < _experts.Length; e++) _experts[e] = new Mlp(w, $"{prefix}.experts.{e}", c.HiddenSize, c.MoeIntermediateSize);
        if (c.NSharedExperts > 0) _shared = new Mlp(w, prefix + ".shared_experts", c.HiddenSize, c.MoeIntermediateSize * c.NSharedExperts);
    }

    public long ParameterCount => _gate.ParameterCount + _experts.Sum(e => e.ParameterCount) + (_shared?.ParameterCount ?? 0);

    public long ActiveParameterCount => _gate.ParameterCount + _topK * _experts[0].ParameterCount + (_shared?.ParameterCount ?? 0);

    public void Forward(Pass pass, int layer)
    {
        var ws = pass.Ws;
        var k = pass.Kernels;
        int d = _dim, tokens = pass.Rows;
        // weights, indices = self.gate(x)
        _gate.Route(k, ws, tokens);
        for (int t = 0; t < tokens; t++)
            pass.Segments[pass.SegmentOf(t)].State.Observer?.OnRouting(layer, pass.Position(t), ws.Experts.AsSpan(t * _topK, _topK), ws.ExpertWeights.AsSpan(t * _topK, _topK));

        // y = zeros_like(x); for each expert with rows: y[idx] += expert(x[idx]) * weights[idx, top]
        var output = ws.Out.AsSpan(0, tokens * d);
        output.Clear();
        for (int e = 0; e < _experts.Length; e++)
        {
            int count = 0;
            for (int t = 0; t < tokens; t++)
                for (int j = 0; j < _topK; j++)
                    if (ws.Experts[t * _topK + j] == e)
                    {
                        ws.ExpertTokens[count] = t;
                        ws.ExpertTokenWeights[count] = ws.ExpertWeights[t * _topK + j];
                        ws.Xn.AsSpan(t * d, d).CopyTo(ws.ExpertX.AsSpan(count * d, d));
                        count++;
                    }
            if (count == 0) continue;
            _experts[e].Apply(k, ws, ws.ExpertX.AsSpan(0, count * d), count, ws.ExpertY);
            for (int i = 0; i < count; i++)
            {
                var dst = output.Slice(ws.ExpertTokens[i] * d, d);
                System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(ws.ExpertY.AsSpan(i * d, d), ws.ExpertTokenWeights[i], dst, dst);
            }
        }
        // z = shared_experts(x); y + z
        if (_shared is not null)
        {
            _shared.Apply(k, ws, ws.Xn.AsSpan(0, tokens * d), tokens, ws.ExpertY);
            System.Numerics.Tensors.TensorPrimitives.Add(output, ws.ExpertY.AsSpan(0, tokens * d), output);
        }
    }
}
