using SharpSeek.Models;

namespace SharpSeek.LlamaCpp.Tests;

/// <summary>A fresh folder under the system temp folder, deleted on dispose.</summary>
internal sealed class TempDir : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("sharpseek-llamacpp-").FullName;

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}

/// <summary>Logits of the engine, and how two sets of logits compare.</summary>
internal static class Logits
{
    /// <summary>
    /// The engine's [T × V] logits for <paramref name="tokens"/>: in one prefill call, or with <paramref name="decode"/> one
    /// decode step per token through the cache.
    /// </summary>
    public static float[] Ours(string model, int[] tokens, bool decode = false)
    {
        using var tr = ModelLoader.Load(model);
        int v = tr.Config.VocabSize;
        var logits = new float[tokens.Length * v];
        var state = tr.CreateState(tokens.Length);
        if (!decode) tr.Forward(state, tokens, logits, allLogits: true);
        else
            for (int t = 0; t < tokens.Length; t++) tr.Forward(state, tokens.AsSpan(t, 1), logits.AsSpan(t * v, v));
        return logits;
    }

    /// <summary>Max and RMS of |a − b|, positions whose argmax agrees, and the mean overlap of the two top-5 sets.</summary>
    public static Comparison Compare(float[] a, float[] b, int vocab)
    {
        if (a.Length != b.Length) throw new ArgumentException($"{a.Length} vs {b.Length} logits");
        int rows = a.Length / vocab, agree = 0, overlap = 0;
        double max = 0, sq = 0;
        for (int r = 0; r < rows; r++)
        {
            var x = a.AsSpan(r * vocab, vocab);
            var y = b.AsSpan(r * vocab, vocab);
            for (int i = 0; i < vocab; i++)
            {
                double d = Math.Abs(x[i] - y[i]);
                max = Math.Max(max, d);
                sq += d * d;
            }
            var tx = Top(x, 5);
            var ty = Top(y, 5);
            if (tx[0] == ty[0]) agree++;
            overlap += tx.Intersect(ty).Count();
        }
        return new Comparison(rows, agree, overlap / (double)rows, max, Math.Sqrt(sq / a.Length));
    }

    /// <summary>RMS of the values (the scale Δ is measured against).</summary>
    public static double Rms(float[] a) => Math.Sqrt(a.Sum(v => (double)v * v) / a.Length);

    private static int[] Top(ReadOnlySpan<float> x, int k)
    {
        var idx = new int[x.Length];
        for (int i = 0; i < idx.Length; i++) idx[i] = i;
        var keys = x.ToArray();
        Array.Sort(keys, idx);
        return idx[^k..].Reverse().ToArray();
    }
}

internal readonly record struct Comparison(int Positions, int Top1Agree, double Top5Overlap, double MaxAbs, double Rms)
{
    public override string ToString() =>
        $"top-1 {Top1Agree}/{Positions}, top-5 overlap {Top5Overlap:0.00}/5, max |Δ| {MaxAbs:0.000000}, rms |Δ| {Rms:0.000000}";
}

/// <summary>Copies of a GGUF file with metadata changed (what another converter would have written).</summary>
internal static class GgufEdit
{
    public static void WithMetadata(string source, string destination, IReadOnlyDictionary<string, SharpSeek.Formats.Gguf.GgufValue?> changes)
    {
        using var f = new SharpSeek.Formats.Gguf.GgufFile(source);
        var w = new SharpSeek.Formats.Gguf.GgufWriter(f.Alignment);
        foreach (string key in f.MetadataKeys)
            if (key != "general.alignment" && !changes.ContainsKey(key)) w.Set(key, f.Metadata[key]);
        foreach (var (key, value) in changes)
            if (value is not null) w.Set(key, value);
        foreach (var t in f.Tensors) w.AddTensor(t.Name, f.GetTensor(t.Name).Type, t.Shape, f.GetTensorBytes(t).ToArray());
        w.Write(destination);
    }
}
