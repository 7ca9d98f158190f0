using SharpSeek.Kernels;
using SharpSeek.Tensors;

namespace SharpSeek.Models;

/// <summary>SwiGLU feed-forward: down · (silu(gate · x) ⊙ (up · x)). model.py: w1 = gate, w3 = up, w2 = down.</summary>
internal sealed class Mlp : IFeedForward
{
    private readonly WeightTensor _gate, _up, _down;   // [I, D], [I, D], [D, I]

    public Mlp(WeightLoader w, string prefix, int dim, int inter)
    {
        _gate = w.Linear(prefix + ".gate_proj.weight", inter, dim);
        _up = w.Linear(prefix + ".up_proj.weight", inter, dim);
        _down = w.Linear(prefix + ".down_proj.weight", dim, inter);
        Inter = inter;
        Dim = dim;
    }

    public int Inter { get; }
    public int Dim { get; }
    public long ParameterCount => 3L * Inter * Dim;
    public long ActiveParameterCount => ParameterCount;

    public void Forward(Pass pass, int layer) => Apply(pass.Kernels, pass.Ws, pass.Ws.Xn, pass.Rows, pass.Ws.Out);

    /// <summary>y[T, D] = MLP(x[T, D]) using the workspace's gate/up/act buffers.</summary>
    public void Apply(in KernelContext k, Workspace ws, ReadOnlySpan<float> x, int tokens, Span<float> y)
    {
        int n = tokens * Inter;
        MatMul.Compute(k, _gate, x, tokens, ws.Gate);
        MatMul.Compute(k, _up, x, tokens, ws.Up);
        Norms.SwiGlu(ws.Gate.AsSpan(0, n), ws.Up.AsSpan(0, n), ws.Act.AsSpan(0, n));
        MatMul.Compute(k, _down, ws.Gate.AsSpan(0, n), tokens, y);
    }
}
