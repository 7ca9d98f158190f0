using System.Globalization;
using SharpSeek.Models;

namespace SharpSeek.Bench;

/// <summary>
/// How close SharpSeek's decode logits are to llama.cpp's on the same GGUF: the same random tokens fed one at a time to both
/// (so every product runs the one-token kernels), per step max |Δlogit| and rms, against the logits' rms.
/// </summary>
internal static class Agreement
{
    public static void Run(string path, int steps, int threads)
    {
        var inv = CultureInfo.InvariantCulture;
        using var llama = new LlamaRunner(path, threads, steps + 16, 1);
        using var model = ModelLoader.Load(path);
        int vocab = model.Config.VocabSize;
        var rng = new Random(4321);
        var state = model.CreateState(steps + 1);
        var ours = new float[vocab];
        double maxAll = 0, sq = 0, ref2 = 0;
        int agree = 0;
        for (int i = 0; i < steps; i++)
        {
            int token = rng.Next(vocab);
            model.Forward(state, [token], ours);
            var theirs = llama.Step(token, i);
            double max = 0;
            for (int v = 0; v < vocab; v++)
            {
                double d = Math.Abs(ours[v] - theirs[v]);
                max = Math.Max(max, d);
                sq += d * d;
                ref2 += (double)theirs[v] * theirs[v];
            }
            maxAll = Math.Max(maxAll, max);
            if (ArgMax(ours) == ArgMax(theirs)) agree++;
        }
        Console.WriteLine(string.Create(inv,
            $"{Path.GetFileName(path)}: {steps} decode steps, top-1 {agree}/{steps}, max |Δlogit| {maxAll:0.0000}, rms {Math.Sqrt(sq / ((double)steps * vocab)):0.00000} (logit rms {Math.Sqrt(ref2 / ((double)steps * vocab)):0.000})"));
    }

    private static int ArgMax(ReadOnlySpan<float> x)
    {
        int best = 0;
        for (int i = 1; i < x.Length; i++) if (x[i] > x[best]) best = i;
        return best;
    }
}
