using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using SharpSeek.Tokenization;
using SharpSeek.Training.Checkpoints;
using SharpSeek.Training.Training;

namespace SharpSeek.Training.Recipe;

/// <summary>GRPO's effect on the hardest split, measured over several GRPO seeds from the same SFT model.</summary>
public sealed record GrpoLift(double SftAccuracy, IReadOnlyList<(long Seed, double Accuracy)> Runs, int Items)
{
    /// <summary>Samples per problem behind each accuracy (1: greedy).</summary>
    public int Samples { get; init; } = 1;

    public double MeanLift => Runs.Average(r => r.Accuracy) - SftAccuracy;

    /// <summary>Sample standard deviation of the lift over seeds (0 for one seed).</summary>
    public double LiftStd
    {
        get
        {
            if (Runs.Count < 2) return 0;
            double mean = Runs.Average(r => r.Accuracy);
            return Math.Sqrt(Runs.Sum(r => (r.Accuracy - mean) * (r.Accuracy - mean)) / (Runs.Count - 1));
        }
    }
}

/// <summary>
/// Runs GRPO from the SFT model with <c>n</c> seeds (the recipe's own GRPO run is seed 0; the others go to
/// <c>grpo-seed{i}</c>), evaluates the SFT model and every GRPO result on the <c>test-hard</c> suite, and reports the
/// lift with its spread: one run of a noisy RL stage on a tiny model proves nothing either way.
/// </summary>
public static class GrpoSeedStudy
{
    /// <summary>
    /// The lift twice: with greedy decoding, and with DeepSeek-R1's pass@1 protocol (k samples per problem at
    /// temperature 0.6, top-p 0.95, the mean of their correctness; skipped when <paramref name="samples"/> is 1). GRPO
    /// optimises the sampled policy, so the second is where its effect shows first; greedy shows whether it reached the argmax.
    /// </summary>
    public static (GrpoLift Greedy, GrpoLift? Sampled) Run(RecipeProfile p, string outDir, long seed, int seeds, Tokenizer tokenizer, string tokenizerDir, int evalItems, int samples, TextWriter log)
    {
        string sftModel = Path.Combine(outDir, "sft", "model");
        var items = EvalSuites.Get("test-hard").Take(evalItems).ToList();
        double sft = Accuracy(sftModel, Path.Combine(outDir, "eval-hard-sft.json"), items, 1, p, log, "sft");
        double sftSampled = samples > 1 ? Accuracy(sftModel, Path.Combine(outDir, $"eval-hard-sft-k{samples}.json"), items, samples, p, log, "sft") : 0;
        var runs = new List<(long, double)>();
        var sampled = new List<(long, double)>();
        for (int i = 0; i < seeds; i++)
        {
            long s = seed + 1000L * i;
            string dir = i == 0 ? Path.Combine(outDir, "grpo") : Path.Combine(outDir, $"grpo-seed{i}");
            string model = Path.Combine(dir, "model");
            if (!File.Exists(Path.Combine(dir, "done.json")))
            {
                using var policy = HfImport.Load(sftModel);
                TinyRecipe.RunGrpo(p, policy, sftModel, tokenizer, tokenizerDir, s, dir, CostModel.For(policy, p.SftLength), log);
            }
            runs.Add((s, Accuracy(model, Path.Combine(outDir, $"eval-hard-grpo{i}.json"), items, 1, p, log, $"grpo seed {s}")));
            if (samples > 1) sampled.Add((s, Accuracy(model, Path.Combine(outDir, $"eval-hard-grpo{i}-k{samples}.json"), items, samples, p, log, $"grpo seed {s}")));
        }
        return (new GrpoLift(sft, runs, items.Count), samples > 1 ? new GrpoLift(sftSampled, sampled, items.Count) { Samples = samples } : null);
    }

    private static double Accuracy(string modelDir, string cache, List<EvalItem> items, int samples, RecipeProfile p, TextWriter log, string label)
    {
        if (!File.Exists(cache))
        {
            using var ev = new Evaluator(modelDir) { MaxTokens = p.EvalMaxTokens };
            var summary = Evaluator.Summary(ev.Run(items, samples), samples, modelDir, "suite:test-hard");
            File.WriteAllText(cache, summary.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        }
        double acc = JsonNode.Parse(File.ReadAllText(cache))!["pass@1"]!.GetValue<double>();
        string how = samples == 1 ? "greedy" : $"{samples} samples at T=0.6";
        log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[eval] {label}: pass@1 {acc:P1} ({how}) on {items.Count} hard test problems"));
        return acc;
    }

    /// <summary>The report card section.</summary>
    public static string Section(GrpoLift greedy, GrpoLift? sampled = null)
    {
        var ci = CultureInfo.InvariantCulture;
        var md = new StringBuilder();
        md.AppendLine(ci, $"## GRPO lift on the hardest split ({greedy.Runs.Count} seeds)").AppendLine();
        md.Append(ci, $"`test-hard` suite: {greedy.Items} hard test problems (5-digit sums and differences, 3×2-digit products, 3-step expressions). ");
        if (sampled is null)
        {
            md.AppendLine("Greedy pass@1.").AppendLine();
            md.AppendLine("| model | GRPO seed | pass@1 | lift over SFT |");
            md.AppendLine("|---|---|---|---|");
            md.AppendLine(ci, $"| SFT | - | {greedy.SftAccuracy * 100:F1} % | |");
            foreach (var (s, a) in greedy.Runs) md.AppendLine(ci, $"| GRPO | {s} | {a * 100:F1} % | {(a - greedy.SftAccuracy) * 100:+0.0;-0.0} points |");
        }
        else
        {
            md.AppendLine(ci, $"Greedy pass@1, and pass@1 as DeepSeek-R1 reports it: the mean correctness of {sampled.Samples} samples per problem at temperature 0.6, top-p 0.95.").AppendLine();
            md.AppendLine(ci, $"| model | GRPO seed | greedy pass@1 | lift | sampled pass@1 (k={sampled.Samples}) | lift |");
            md.AppendLine("|---|---|---|---|---|---|");
            md.AppendLine(ci, $"| SFT | - | {greedy.SftAccuracy * 100:F1} % | | {sampled.SftAccuracy * 100:F1} % | |");
            for (int i = 0; i < greedy.Runs.Count; i++)
            {
                var (s, a) = greedy.Runs[i];
                double b = sampled.Runs[i].Accuracy;
                md.AppendLine(ci, $"| GRPO | {s} | {a * 100:F1} % | {(a - greedy.SftAccuracy) * 100:+0.0;-0.0} points | {b * 100:F1} % | {(b - sampled.SftAccuracy) * 100:+0.0;-0.0} points |");
            }
        }
        md.AppendLine().AppendLine(ci, $"Greedy: mean lift {greedy.MeanLift * 100:+0.0;-0.0} points, standard deviation over seeds {greedy.LiftStd * 100:F1} points.");
        if (sampled is not null)
            md.AppendLine().AppendLine(ci, $"Sampled (k={sampled.Samples}): mean lift {sampled.MeanLift * 100:+0.0;-0.0} points, standard deviation over seeds {sampled.LiftStd * 100:F1} points.");
        md.AppendLine();
        return md.ToString();
    }
}
