#:property PublishAot=false
#:project ../../src/SharpSeek
using System.Diagnostics;
using SharpSeek.Models;
// Prompt speed by prefill chunk: TOKENS random tokens fed in forwards of CHUNK tokens, median of REPS after one warm-up.
// usage: dotnet run bench/tools/prefill-chunks.cs -c Release -- MODEL TOKENS CHUNK[,CHUNK...] REPS
using var model = ModelLoader.Load(args[0]);
int n = int.Parse(args[1]); int reps = int.Parse(args[3]);
var rng = new Random(1);
int[] toks = [.. Enumerable.Range(0, n).Select(_ => rng.Next(model.Config.VocabSize))];
var logits = new float[model.Config.VocabSize];
foreach (var c in args[2].Split(',').Select(int.Parse))
{
    var times = new List<double>();
    for (int r = 0; r < reps + 1; r++)
    {
        var s = model.CreateState(n + 1);
        var sw = Stopwatch.StartNew();
        for (int at = 0; at < n; at += c) model.Forward(s, toks.AsSpan(at, Math.Min(c, n - at)), logits);
        if (r > 0) times.Add(sw.Elapsed.TotalSeconds);
    }
    times.Sort();
    Console.WriteLine($"chunk {c}: {n / times[times.Count / 2]:F2} tok/s (median of {reps}; {string.Join(", ", times.Select(t => (n / t).ToString("F1")))})");
}
