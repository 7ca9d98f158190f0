using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using SharpSeek.Diagnostics;

namespace SharpSeek.Cli.Commands;

/// <summary>
/// <c>sharpseek fuzz --format gguf|safetensors --cases N --seed S [--case K] [--json]</c>: long runs of the loader fuzzer
/// (<see cref="LoaderFuzzer"/>; the test suite runs a few thousand cases of it). Prints the count of each outcome, the
/// worst peak RSS and the slowest case, and every case that ended in anything but a load or a format error; exits 1
/// when there was one. <c>--case K</c> re-runs one case and prints what it did.
/// </summary>
internal static class FuzzCommand
{
    public static Command Create()
    {
        var format = new Option<string>("--format") { Description = "gguf or safetensors", Required = true };
        format.AcceptOnlyFromAmong("gguf", "safetensors");
        var cases = new Option<int>("--cases") { Description = "Number of mutated models to load", DefaultValueFactory = _ => 10_000 };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the mutations (case i of seed s is the same everywhere)", DefaultValueFactory = _ => 1 };
        var one = new Option<int?>("--case") { Description = "Run only this case and print its mutation and outcome" };
        var json = new Option<bool>("--json") { Description = "Print one JSON object" };
        var cmd = new Command("fuzz", "Load mutated models to check that every outcome is a clean load or a format error") { format, cases, seed, one, json };
        cmd.SetAction(pr =>
        {
            var f = pr.GetValue(format) == "gguf" ? FuzzFormat.Gguf : FuzzFormat.Safetensors;
            int n = pr.GetValue(cases);
            if (n < 1) throw new SharpSeekException($"--cases must be ≥ 1, is {n}");
            ulong s = pr.GetValue(seed);
            using var fuzzer = new LoaderFuzzer(f, LoaderFuzzer.DefaultWorkDirectory);
            if (pr.GetValue(one) is int k)
            {
                var r = fuzzer.RunCase(s, k);
                Console.Out.WriteLine($"case {k}: {r.Mutation}");
                Console.Out.WriteLine($"outcome: {r.Outcome} ({r.Milliseconds:0.0} ms)");
                if (r.Error is not null) Console.Out.WriteLine(r.Outcome == FuzzOutcome.Failure ? r.Error.ToString() : r.Error.Message);
                return r.Outcome == FuzzOutcome.Failure ? 1 : 0;
            }
            int step = Math.Max(1, n / 100), done = 0;
            var report = fuzzer.Run(n, s, _ =>
            {
                if (++done % step == 0 && !pr.GetValue(json)) Console.Error.Write($"\r{done}/{n} cases");
            });
            if (!pr.GetValue(json)) Console.Error.WriteLine();
            Print(report, pr.GetValue(json));
            return report.Counts[FuzzOutcome.Failure] > 0 ? 1 : 0;
        });
        return cmd;
    }

    private static void Print(FuzzReport r, bool json)
    {
        static string Mb(long b) => (b / 1048576.0).ToString("0.0", CultureInfo.InvariantCulture);
        if (json)
        {
            var o = new Dictionary<string, object>
            {
                ["format"] = r.Format.ToString().ToLowerInvariant(),
                ["seed"] = r.Seed,
                ["cases"] = r.Cases,
                ["outcomes"] = r.Counts.ToDictionary(kv => kv.Key.ToString(), kv => kv.Value),
                ["baseline_rss_bytes"] = r.BaselineRssBytes,
                ["worst_rss_bytes"] = r.WorstRss.PeakRssBytes,
                ["worst_rss_case"] = r.WorstRss.Case,
                ["worst_rss_mutation"] = r.WorstRss.Mutation,
                ["slowest_ms"] = Math.Round(r.Slowest.Milliseconds, 2),
                ["slowest_case"] = r.Slowest.Case,
                ["slowest_mutation"] = r.Slowest.Mutation,
                ["seconds"] = Math.Round(r.Seconds, 1),
                ["failures"] = r.Failures.Select(f => new { f.Case, f.Mutation, type = f.Error?.GetType().Name, message = f.Error?.Message }).ToArray(),
            };
            Console.Out.WriteLine(JsonSerializer.Serialize(o));
            return;
        }
        Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{r.Format} fuzz: {r.Cases} cases, seed {r.Seed}, {r.Seconds:0.0} s"));
        foreach (var (outcome, count) in r.Counts) Console.Out.WriteLine($"  {outcome,-22} {count}");
        Console.Out.WriteLine($"  baseline RSS {Mb(r.BaselineRssBytes)} MB; worst peak RSS {Mb(r.WorstRss.PeakRssBytes)} MB in case {r.WorstRss.Case} ({r.WorstRss.Mutation})");
        Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  slowest case {r.Slowest.Case}: {r.Slowest.Milliseconds:0.0} ms ({r.Slowest.Mutation})"));
        foreach (var f in r.Failures) Console.Out.WriteLine($"  FAILURE case {f.Case} ({f.Mutation}): {f.Error?.GetType().Name}: {f.Error?.Message}");
    }
}
