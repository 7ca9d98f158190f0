using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace SharpSeek.Training.Recipe;

/// <summary>The run's report card: cost per stage, loss and GRPO curves (CSV in the stage folders), and the accuracy table base vs SFT vs GRPO.</summary>
public static class ReportCard
{
    /// <summary>Dollars per CPU core-hour used for the cost column (a typical on-demand cloud vCPU).</summary>
    public const double PricePerCoreHour = 0.04;

    public static string Write(RecipeResult r, string outDir)
    {
        var md = new StringBuilder();
        var ci = CultureInfo.InvariantCulture;
        md.AppendLine(ci, $"# SharpSeek recipe report card: profile `{r.Profile.Name}`").AppendLine();
        md.AppendLine(ci, $"Model: DeepSeek-V3 architecture (MLA, DeepSeekMoE with {r.Profile.RoutedExperts} routed + 1 shared experts, top-{r.Profile.ExpertsPerToken}, MTP depth 1), {r.TotalParameters:N0} parameters, {r.ActiveParameters:N0} active per token.").AppendLine();
        md.AppendLine("## Cost per stage").AppendLine();
        md.AppendLine("| stage | steps | wall time | CPU time | tokens | training FLOPs (est.) | cost |");
        md.AppendLine("|---|---|---|---|---|---|---|");
        foreach (var s in r.Stages)
            md.AppendLine(ci, $"| {s.Stage} | {s.Steps} | {s.WallSeconds / 60:F1} min | {s.CpuSeconds / 3600:F3} core-h | {s.Tokens:N0} | {s.Flops:E2} | ${s.CpuSeconds / 3600 * PricePerCoreHour:F4} |");
        double wall = r.Stages.Sum(s => s.WallSeconds), cpu = r.Stages.Sum(s => s.CpuSeconds);
        md.AppendLine(ci, $"| **total** | | {wall / 60:F1} min | {cpu / 3600:F3} core-h | {r.Stages.Sum(s => s.Tokens):N0} | {r.Stages.Sum(s => s.Flops):E2} | ${cpu / 3600 * PricePerCoreHour:F4} |").AppendLine();
        md.AppendLine(ci, $"Cost at ${PricePerCoreHour}/core-hour. FLOPs: 6·N_active·tokens plus attention (GRPO: ×5/3 for the reference and old-policy forwards).").AppendLine();

        md.AppendLine("## Accuracy on the held-out test split (pass@1, greedy)").AppendLine();
        md.Append(AccuracyTable(r.Evaluations)).AppendLine();

        md.AppendLine("## Training curves").AppendLine();
        if (r.Pretrain.Count > 0) md.AppendLine(ci, $"- pretraining loss {r.Pretrain[0].Loss:F3} → {r.Pretrain[^1].Loss:F3} (max/mean expert load {r.Pretrain[^1].MaxLoadRatio:F2})");
        if (r.Sft.Count > 0) md.AppendLine(ci, $"- SFT assistant-token loss {r.Sft[0].Loss:F3} → {r.Sft[^1].Loss:F3} (max/mean expert load {r.Sft[^1].MaxLoadRatio:F2})");
        if (r.Grpo.Count > 0)
        {
            int k = Math.Max(1, r.Grpo.Count / 4);
            md.AppendLine(ci, $"- GRPO reward (first/last {k} steps) {r.Grpo.Take(k).Average(g => g.Reward):F3} → {r.Grpo.TakeLast(k).Average(g => g.Reward):F3}, accuracy {r.Grpo.Take(k).Average(g => g.Accuracy):F3} → {r.Grpo.TakeLast(k).Average(g => g.Accuracy):F3}, `<think>` share {r.Grpo[^1].ThinkShare:F2}, KL {r.Grpo[^1].Kl:F4}");
        }
        md.AppendLine().AppendLine("Per-step numbers: `pretrain/metrics.csv`, `sft/metrics.csv`, `grpo/metrics.csv`.");
        string path = Path.Combine(outDir, "report.md");
        File.WriteAllText(path, md.ToString());
        return path;
    }

    /// <summary>Rows: overall, each category, each difficulty; columns: the evaluated stages.</summary>
    public static string AccuracyTable(IReadOnlyDictionary<string, JsonObject> evals)
    {
        var ci = CultureInfo.InvariantCulture;
        var stages = evals.Keys.ToList();
        var sb = new StringBuilder();
        sb.AppendLine("| split | n | " + string.Join(" | ", stages) + " |");
        sb.AppendLine("|---|---|" + string.Concat(stages.Select(_ => "---|")));
        var first = evals[stages[0]];
        void Row(string label, Func<JsonObject, JsonNode?> pick)
        {
            var n = pick(first)?["n"]?.GetValue<int>() ?? first["items"]?.GetValue<int>() ?? 0;
            sb.Append(ci, $"| {label} | {n} |");
            foreach (var s in stages)
            {
                var v = pick(evals[s])?["pass@1"]?.GetValue<double>();
                sb.Append(v is double d ? string.Create(ci, $" {d * 100:F1} % |") : " - |");
            }
            sb.AppendLine();
        }
        Row("**all**", e => e);
        foreach (var (name, _) in first["categories"]?.AsObject() ?? []) Row(name, e => e["categories"]?[name]);
        foreach (var (name, _) in first["difficulties"]?.AsObject() ?? []) Row(name, e => e["difficulties"]?[name]);
        foreach (var (name, _) in first["category_difficulty"]?.AsObject() ?? []) Row(name, e => e["category_difficulty"]?[name]);
        return sb.ToString();
    }
}
