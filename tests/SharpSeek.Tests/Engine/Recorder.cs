using SharpSeek.Models;

namespace SharpSeek.Tests.Engine;

/// <summary>Collects hidden states and routing decisions of a forward pass.</summary>
public sealed class Recorder(int tokens, int hiddenCount, int dim) : IForwardObserver
{
    public float[] Hidden { get; } = new float[tokens * hiddenCount * dim];
    public Dictionary<(int Layer, int Position), (int[] Experts, float[] Weights)> Routing { get; } = [];

    public void OnHidden(int index, int position, ReadOnlySpan<float> hidden) =>
        hidden.CopyTo(Hidden.AsSpan((position * hiddenCount + index) * dim, dim));

    public void OnRouting(int layer, int position, ReadOnlySpan<int> experts, ReadOnlySpan<float> weights) =>
        Routing[(layer, position)] = (experts.ToArray(), weights.ToArray());
}
