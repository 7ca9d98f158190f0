namespace SharpSeek.Models;

/// <summary>Attention of one layer: reads <see cref="Workspace.Xn"/>, writes <see cref="Workspace.Out"/>, and appends to its cache.</summary>
internal interface IAttention
{
    ILayerCache CreateCache(int maxSequence);

    /// <summary>Values cached per token (for reporting).</summary>
    int CachedValuesPerToken { get; }

    void Forward(Workspace ws, int tokens, int startPos, ILayerCache cache);

    /// <summary>
    /// One decode token per sequence: row b of ws (Xn in, Out out, Cos/Sin at its position) belongs to
    /// <paramref name="states"/>[b], whose cache of layer <paramref name="layer"/> it extends and attends to.
    /// Projections run over all rows at once; results equal running each sequence alone.
    /// </summary>
    void ForwardDecodeBatch(Workspace ws, IReadOnlyList<InferenceState> states, int layer);

    long ParameterCount { get; }
}

/// <summary>Feed-forward of one layer: reads <see cref="Workspace.Xn"/>, writes <see cref="Workspace.Out"/>.</summary>
internal interface IFeedForward
{
    void Forward(Workspace ws, int tokens, int startPos, IForwardObserver? observer);

    long ParameterCount { get; }

    /// <summary>Parameters touched per token (all of them for a dense MLP).</summary>
    long ActiveParameterCount { get; }
}
