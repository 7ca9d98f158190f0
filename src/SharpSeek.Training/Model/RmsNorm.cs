using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SharpSeek.Training.Model;

/// <summary>RMSNorm(x; w) = x / sqrt(mean(x²) + eps) · w, in float32 (model.py <c>RMSNorm</c>).</summary>
public sealed class RmsNorm : nn.Module<Tensor, Tensor>
{
    private readonly Parameter _weight; // [dim]
    private readonly double _eps;

    public RmsNorm(long dim, double eps) : base(nameof(RmsNorm))
    {
        _weight = new Parameter(ones(dim));
        _eps = eps;
        register_parameter("weight", _weight);
    }

    public override Tensor forward(Tensor x) => x * rsqrt(x.pow(2).mean([-1], keepdim: true) + _eps) * _weight;
}
