namespace SharpSeek.Training.Data;

/// <summary>
/// A token stream split into training and validation parts. Batches are windows at positions drawn from a
/// counter-based hash of (seed, step, micro-batch), so the data position of a resumed run is just its step.
/// </summary>
public sealed class TokenData
{
    public TokenData(int[] tokens, double validationFraction = 0.05)
    {
        int val = (int)(tokens.Length * validationFraction);
        Train = tokens[..^val];
        Validation = tokens[^val..];
    }

    public TokenData(int[] train, int[] validation)
    {
        Train = train;
        Validation = validation;
    }

    public int[] Train { get; }
    public int[] Validation { get; }

    /// <summary>Reads a UTF-8 text file as byte tokens (<see cref="ByteTokenizer"/>).</summary>
    public static TokenData FromTextFile(string path, double validationFraction = 0.05) =>
        new(ByteTokenizer.Encode(File.ReadAllText(path)), validationFraction);

    /// <summary>Training batch <c>[batch, length]</c> for (step, micro) — row-major token ids.</summary>
    public long[] TrainBatch(long seed, long step, int micro, int batch, int length)
    {
        if (Train.Length <= length) throw new InvalidOperationException($"training data has {Train.Length} tokens, fewer than one window of {length}");
        var result = new long[batch * length];
        ulong state = Mix((ulong)seed ^ Mix((ulong)step * 0x9E3779B97F4A7C15UL + (ulong)micro));
        for (int b = 0; b < batch; b++)
        {
            state = Mix(state + 0x9E3779B97F4A7C15UL);
            long start = (long)(state % (ulong)(Train.Length - length + 1));
            for (int i = 0; i < length; i++) result[b * length + i] = Train[start + i];
        }
        return result;
    }

    /// <summary>Validation batch <paramref name="index"/> of <paramref name="count"/>: evenly spaced fixed windows.</summary>
    public long[] ValidationBatch(int index, int count, int batch, int length)
    {
        if (Validation.Length <= length) throw new InvalidOperationException($"validation data has {Validation.Length} tokens, fewer than one window of {length}");
        var result = new long[batch * length];
        long span = Validation.Length - length;
        for (int b = 0; b < batch; b++)
        {
            long start = span * (index * batch + b) / Math.Max(1, count * batch);
            for (int i = 0; i < length; i++) result[b * length + i] = Validation[start + i];
        }
        return result;
    }

    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
