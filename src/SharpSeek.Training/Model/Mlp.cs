using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SharpSeek.Training.Model;

/// <summary>SwiGLU MLP: down · (silu(gate · x) ⊙ (up · x)) — dense layers, each routed expert, and the shared experts.</summary>
public sealed class Mlp : nn.Module<Tensor, Tensor>
{
    private readonly Linear _gate; // [I, D]
    private readonly Linear _up;   // [I, D]
    private readonly Linear _down; // [D, I]

    public Mlp(long dim, long inter) : base(nameof(Mlp))
    {
        _gate = nn.Linear(dim, inter, hasBias: false);
        _up = nn.Linear(dim, inter, hasBias: false);
        _down = nn.Linear(inter, dim, hasBias: false);
        register_module("gate_proj", _gate);
        register_module("up_proj", _up);
        register_module("down_proj", _down);
    }

    public override Tensor forward(Tensor x) => _down.call(nn.functional.silu(_gate.call(x)) * _up.call(x));
}
