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
    public static GrpoLift Run(RecipeProfile p, string outDir, long seed, int seeds, Tokenizer tokenizer, string tokenizerDir, int evalItems, TextWriter log)
    {
        string sftModel = Path.Combine(outDir, "sft", "model");
        var items = EvalSuites.Get("test-hard").Take(evalItems).ToList();
        double sft = Accuracy(sftModel, Path.Combine(outDir, "eval-hard-sft.json"), items, p, log, "sft");
        var runs = new List<(long, double)>();
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
            runs.Add((s, Accuracy(model, Path.Combine(outDir, $"eval-hard-grpo{i}.json"), items, p, log, $"grpo seed {s}")));
        }
        return new GrpoLift(sft, runs, items.Count);
    }

    private static double Accuracy(string modelDir, string cache, List<EvalItem> items, RecipeProfile p, TextWriter log, string label)
    {
        if (!File.Exists(cache))
        {
            using var ev = new Evaluator(modelDir) { MaxTokens = p.EvalMaxTokens };
            var summary = Evaluator.Summary(ev.Run(items, 1), 1, modelDir, "suite:test-hard");
            File.WriteAllText(cache, summary.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        }
        double acc = JsonNode.Parse(File.ReadAllText(cache))!["pass@1"]!.GetValue<double>();
        log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[eval] {label}: pass@1 {acc:P1} on {items.Count} hard test problems"));
        return acc;
    }

    /// <summary>The report card section.</summary>
    public static string Section(GrpoLift lift)
    {
        var ci = CultureInfo.InvariantCulture;
        var md = new StringBuilder();
        md.AppendLine(ci, $"## GRPO lift on the hardest split ({lift.Runs.Count} seeds)").AppendLine();
        md.AppendLine(ci, $"`test-hard` suite: {lift.Items} hard test problems (5-digit sums and differences, 3×2-digit products, 3-step expressions), greedy pass@1.").AppendLine();
        md.AppendLine("| model | GRPO seed | pass@1 | lift over SFT |");
        md.AppendLine("|---|---|---|---|");
        md.AppendLine(ci, $"| SFT | - | {lift.SftAccuracy * 100:F1} % | |");
        foreach (var (s, a) in lift.Runs) md.AppendLine(ci, $"| GRPO | {s} | {a * 100:F1} % | {(a - lift.SftAccuracy) * 100:+0.0;-0.0} points |");
        md.AppendLine().AppendLine(ci, $"Mean lift {lift.MeanLift * 100:+0.0;-0.0} points, standard deviation over seeds {lift.LiftStd * 100:F1} points.").AppendLine();
        return md.ToString();
    }
}
