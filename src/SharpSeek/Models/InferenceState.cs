namespace SharpSeek.Models;

/// <summary>Receives intermediate values of a forward pass (tests compare them per layer). Null in normal use.</summary>
public interface IForwardObserver
{
    /// <summary>Hidden state <paramref name="index"/> of the token at <paramref name="position"/>: 0 = embedding, i = output of block i-1, last = final norm.</summary>
    void OnHidden(int index, int position, ReadOnlySpan<float> hidden);

    /// <summary>Routed experts and their final weights for the token at <paramref name="position"/> in MoE layer <paramref name="layer"/>.</summary>
    void OnRouting(int layer, int position, ReadOnlySpan<int> experts, ReadOnlySpan<float> weights);
}

/// <summary>Per-layer attention cache of one sequence.</summary>
public interface ILayerCache
{
    /// <summary>Makes room for positions below <paramref name="length"/>.</summary>
    void EnsureCapacity(int length);

    /// <summary>Bytes held now.</summary>
    long Bytes { get; }

    /// <summary>The per-token row buffers of this layer, always in the same order (the prefix cache copies them to and from disk).</summary>
    IReadOnlyList<GrowableRows> Rows { get; }
}

/// <summary>A growable float buffer of [positions, width]; grows by doubling so decoding rarely allocates.</summary>
public sealed class GrowableRows(int width, int maxPositions)
{
    public int Width { get; } = width;
    public float[] Data { get; private set; } = [];

    public void EnsureCapacity(int positions)
    {
        if (positions > maxPositions) throw new SharpSeekException($"sequence length {positions} exceeds the context size {maxPositions}");
        long need = (long)positions * Width;
        if (need <= Data.Length) return;
        long grown = Math.Max(need, Math.Min((long)maxPositions * Width, Math.Max(64L * Width, Data.Length * 2L)));
        var next = new float[grown];
        Data.CopyTo(next, 0);
        Data = next;
    }

    public Span<float> Row(int position) => Data.AsSpan(position * Width, Width);
}

/// <summary>
/// Everything one sequence needs to run: the per-layer caches and the number of tokens already in them. The scratch of a
/// forward pass belongs to the model, so a sequence holds only what is its own.
/// </summary>
public sealed class InferenceState
{
    internal InferenceState(ILayerCache[] caches, int maxSequence)
    {
        Caches = caches;
        MaxSequence = maxSequence;
    }

    public ILayerCache[] Caches { get; }
    public int MaxSequence { get; }

    /// <summary>Tokens already in the cache (the position of the next token).</summary>
    public int Length { get; internal set; }

    public IForwardObserver? Observer { get; set; }

    /// <summary>
    /// The caches of the model's MTP layer (speculative decoding with it), made on first use; positions below
    /// <see cref="MtpStart"/> have no entry (a prefix restored without them), and <see cref="MtpLength"/> are filled.
    /// </summary>
    internal ILayerCache[]? MtpCaches { get; set; }
    internal int MtpStart { get; set; }
    public int MtpLength { get; internal set; }

    /// <summary>Forgets everything after <paramref name="length"/> tokens (e.g. to start over or to rewind).</summary>
    public void Truncate(int length)
    {
        if (length < 0 || length > Length) throw new ArgumentOutOfRangeException(nameof(length));
        Length = length;
        if (MtpLength > length) MtpLength = Math.Max(length, MtpStart);
        if (MtpStart > length) MtpStart = MtpLength = length;
    }

    public long CacheBytes => Caches.Sum(c => c.Bytes) + (MtpCaches?.Sum(c => c.Bytes) ?? 0);
}
