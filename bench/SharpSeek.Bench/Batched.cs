using System.Globalization;
using LLama.Native;
using SharpSeek.Diagnostics;
using SharpSeek.Models;

namespace SharpSeek.Bench;

/// <summary>
/// Batched decoding side by side, A/B interleaved: one sequence alone and B sequences stepped together from empty caches, in
/// llama.cpp (one llama_decode of B tokens with sequence ids 0..B−1 per step, as its batched-bench does) and in SharpSeek (one
/// forward of B segments per step). Tokens per second summed over the sequences, each rep printed, medians and ratios.
/// </summary>
internal static class Batched
{
    public static void Run(string path, int sequences, int gen, int threads, int reps)
    {
        var inv = CultureInfo.InvariantCulture;
        Environment.SetEnvironmentVariable("SHARPSEEK_THREADS", threads.ToString(inv));
        NativeLibraryConfig.All.WithLogCallback((level, message) => { if (level >= LLamaLogLevel.Error) Console.Error.Write(message); });
        using var llama = new LlamaRunner(path, threads, gen + 16, Math.Max(sequences, 32), sequences);
        using var ours = new SharpRunner(ModelLoader.Load(path));
        var rng = new Random(4321);
        int vocab = ours.VocabSize;
        int[] First() => Enumerable.Range(0, sequences).Select(_ => rng.Next(vocab)).ToArray();

        llama.Decode(1, 8); ours.Decode(1, 8);
        llama.DecodeBatched(First(), 8); ours.DecodeBatched(First(), 8);

        var l1 = new List<double>(); var lb = new List<double>(); var s1 = new List<double>(); var sb = new List<double>();
        for (int r = 0; r < reps; r++)
        {
            var f = First();
            if (r % 2 == 0) { l1.Add(llama.Decode(f[0], gen)); s1.Add(ours.Decode(f[0], gen)); lb.Add(llama.DecodeBatched(f, gen)); sb.Add(ours.DecodeBatched(f, gen)); }
            else { s1.Add(ours.Decode(f[0], gen)); l1.Add(llama.Decode(f[0], gen)); sb.Add(ours.DecodeBatched(f, gen)); lb.Add(llama.DecodeBatched(f, gen)); }
            Console.Error.WriteLine(string.Create(inv, $"rep {r + 1}: 1 seq llama {l1[^1]:0.00} ours {s1[^1]:0.00} | {sequences} seqs llama {lb[^1]:0.00} ours {sb[^1]:0.00}"));
        }
        double Med(List<double> x) => ThroughputBenchmark.Median([.. x]);
        string Runs(List<double> x) => string.Join(" ", x.Select(v => v.ToString("0.0", inv)));
        Console.WriteLine(string.Create(inv, $"model {Path.GetFileName(path)}; threads {threads}; reps {reps}; tg{gen} from empty caches"));
        Console.WriteLine(string.Create(inv, $"| 1 sequence | llama.cpp {Med(l1):0.00} ({Runs(l1)}) | SharpSeek {Med(s1):0.00} ({Runs(s1)}) | ratio {Med(s1) / Med(l1):0.00}× |"));
        Console.WriteLine(string.Create(inv, $"| {sequences} sequences, summed | llama.cpp {Med(lb):0.00} ({Runs(lb)}) | SharpSeek {Med(sb):0.00} ({Runs(sb)}) | ratio {Med(sb) / Med(lb):0.00}× |"));
        Console.WriteLine(string.Create(inv, $"| {sequences} vs 1 | llama.cpp {Med(lb) / Med(l1):0.00}× | SharpSeek {Med(sb) / Med(s1):0.00}× | |"));
    }
}
