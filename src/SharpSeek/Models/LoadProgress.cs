namespace SharpSeek.Models;

/// <summary>How far loading a model has come: bytes of weights paged in so far, out of all of them.</summary>
public readonly record struct LoadProgress(long BytesDone, long BytesTotal)
{
    /// <summary>Done as a fraction in [0, 1] (1 for a model without weight bytes).</summary>
    public double Fraction => BytesTotal == 0 ? 1 : (double)BytesDone / BytesTotal;
}
