using System.Diagnostics;
using SharpSeek.Models;

namespace SharpSeek.Bench;

/// <summary>SharpSeek measured exactly like <see cref="LlamaRunner"/>: fresh state per run, states made before the clock starts.</summary>
internal sealed class SharpRunner(Transformer model) : IDisposable
{
    private readonly float[] _logits = new float[model.Config.VocabSize];

    public int VocabSize => model.Config.VocabSize;

    public double Prefill(int[] tokens)
    {
        var state = model.CreateState(tokens.Length + 1);
        var clock = Stopwatch.StartNew();
        model.Forward(state, tokens, _logits);
        return tokens.Length / clock.Elapsed.TotalSeconds;
    }

    public double Decode(int first, int steps)
    {
        var state = model.CreateState(steps + 1);
        int[] token = [first];
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < steps; i++)
        {
            model.Forward(state, token, _logits);
            token[0] = ArgMax(_logits);
        }
        return steps / clock.Elapsed.TotalSeconds;
    }

    /// <summary>The sequences generated together from empty caches: one forward of one row per sequence per step, greedy. Summed tokens per second.</summary>
    public double DecodeBatched(int[] first, int steps)
    {
        int b = first.Length, v = model.Config.VocabSize;
        var logits = new float[b * v];
        var tokens = first.Select(t => new[] { t }).ToArray();
        var segments = Enumerable.Range(0, b).Select(i => new Segment(model.CreateState(steps + 1), tokens[i]) { Logits = logits.AsMemory(i * v, v) }).ToArray();
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < steps; i++)
        {
            model.Forward(segments);
            for (int s = 0; s < b; s++) tokens[s][0] = ArgMax(logits.AsSpan(s * v, v));
        }
        return (double)steps * b / clock.Elapsed.TotalSeconds;
    }

    private static int ArgMax(ReadOnlySpan<float> x)
    {
        int best = 0;
        for (int i = 1; i < x.Length; i++) if (x[i] > x[best]) best = i;
        return best;
    }

    public void Dispose() => model.Dispose();
}
