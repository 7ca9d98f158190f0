namespace SharpSeek.Models;

/// <summary>
/// Attention of one layer for every row of a pass: reads <see cref="Workspace.Xn"/>, writes <see cref="Workspace.Out"/>. Each row
/// extends its own sequence's cache of this layer at its position and attends to that cache only, so the rows of different
/// sequences (decode, verify, prefill) never mix.
/// </summary>
internal interface IAttention
{
    ILayerCache CreateCache(int maxSequence);

    /// <summary>Values cached per token (for reporting).</summary>
    int CachedValuesPerToken { get; }

    /// <summary>Runs the layer on the pass's rows; <paramref name="layer"/> indexes each segment's caches.</summary>
    void Forward(Pass pass, int layer);

    long ParameterCount { get; }
}

/// <summary>Feed-forward of one layer for every row of a pass: reads <see cref="Workspace.Xn"/>, writes <see cref="Workspace.Out"/>.</summary>
internal interface IFeedForward
{
    /// <summary>Runs on the pass's rows; <paramref name="layer"/> is the checkpoint's layer index (for the observers of routing).</summary>
    void Forward(Pass pass, int layer);

    long ParameterCount { get; }

    /// <summary>Parameters touched per token (all of them for a dense MLP).</summary>
    long ActiveParameterCount { get; }
}
