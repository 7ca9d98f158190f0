using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace SharpSeek.Training.Recipe;

/// <summary>The run's report card: cost per stage, loss and GRPO curves (CSV in the stage folders), and the accuracy table base vs SFT vs GRPO.</summary>
public static class ReportCard
{
    /// <summary>Dollars per CPU core-hour used for the cost column (a typical on-demand cloud vCPU).</summary>
    public const double PricePerCoreHour = 0.04;

    /// <param name="extraSection">Markdown appended before the training curves (the architecture comparison).</param>
    public static string Write(RecipeResult r, string outDir, string? extraSection = null)
    {
        var md = new StringBuilder();
        var ci = CultureInfo.InvariantCulture;
        md.AppendLine(ci, $"# SharpSeek recipe report card: profile `{r.Profile.Name}`").AppendLine();
        string arch = r.Profile.Arch == "dense"
            ? "the dense Llama baseline (grouped-query attention, SwiGLU in every layer, no MTP)"
            : $"DeepSeek-V3 architecture (MLA, DeepSeekMoE with {r.Profile.RoutedExperts} routed + 1 shared experts, top-{r.Profile.ExpertsPerToken}, MTP depth 1)";
        md.AppendLine(ci, $"Model: {arch}, {r.TotalParameters:N0} parameters, {r.ActiveParameters:N0} active per token.").AppendLine();
        md.AppendLine("## Cost per stage").AppendLine();
        md.AppendLine("| stage | steps | wall time | CPU time | tokens | training FLOPs (est.) | cost |");
        md.AppendLine("|---|---|---|---|---|---|---|");
        foreach (var s in r.Stages)
            md.AppendLine(ci, $"| {s.Stage} | {s.Steps} | {s.WallSeconds / 60:F1} min | {s.CpuSeconds / 3600:F3} core-h | {s.Tokens:N0} | {s.Flops:E2} | ${s.CpuSeconds / 3600 * PricePerCoreHour:F4} |");
        double wall = r.Stages.Sum(s => s.WallSeconds), cpu = r.Stages.Sum(s => s.CpuSeconds);
        md.AppendLine(ci, $"| **total** | | {wall / 60:F1} min | {cpu / 3600:F3} core-h | {r.Stages.Sum(s => s.Tokens):N0} | {r.Stages.Sum(s => s.Flops):E2} | ${cpu / 3600 * PricePerCoreHour:F4} |").AppendLine();
        md.AppendLine(ci, $"Cost at ${PricePerCoreHour}/core-hour. FLOPs: 6·N_active·tokens plus attention (GRPO: ×4/3 for the reference's forward, over the groups it trains on; rollouts not counted).").AppendLine();

        md.AppendLine("## Accuracy on the held-out test split (pass@1, greedy)").AppendLine();
        md.Append(AccuracyTable(r.Evaluations)).AppendLine();

        if (r.Sanity.Count > 0)
        {
            md.AppendLine("## Sanity: the one-digit facts (pass@1, greedy; trained on, not held out)").AppendLine();
            md.AppendLine("Every one-digit `a + b`, `a - b` and `a * b` (a, b in 0..9) asked as \"What is a + b?\". All of them are training problems, so this shows the model answers the first things people try, not that it generalises.").AppendLine();
            md.Append(AccuracyTable(r.Sanity)).AppendLine();
            if (r.SanityFailures.Count > 0)
                md.AppendLine("Wrong answers of the final model: " + string.Join(", ", r.SanityFailures.Take(30).Select(f => $"`{f.Prompt}` → {f.Given ?? "no answer"} (not {f.Expected})")) + (r.SanityFailures.Count > 30 ? $" and {r.SanityFailures.Count - 30} more" : "") + ".").AppendLine();
        }

        if (extraSection is not null) md.Append(extraSection);
        md.AppendLine("## Training curves").AppendLine();
        if (r.Pretrain.Count > 0) md.AppendLine(ci, $"- pretraining loss {r.Pretrain[0].Loss:F3} → {r.Pretrain[^1].Loss:F3} (max/mean expert load {r.Pretrain[^1].MaxLoadRatio:F2})");
        if (r.Sft.Count > 0) md.AppendLine(ci, $"- SFT assistant-token loss {r.Sft[0].Loss:F3} → {r.Sft[^1].Loss:F3} (max/mean expert load {r.Sft[^1].MaxLoadRatio:F2})");
        if (r.Grpo.Count > 0)
        {
            int k = Math.Max(1, r.Grpo.Count / 4);
            md.AppendLine(ci, $"- GRPO reward (first/last {k} steps) {r.Grpo.Take(k).Average(g => g.Reward):F3} → {r.Grpo.TakeLast(k).Average(g => g.Reward):F3}, accuracy {r.Grpo.Take(k).Average(g => g.Accuracy):F3} → {r.Grpo.TakeLast(k).Average(g => g.Accuracy):F3}, `<think>` share {r.Grpo[^1].ThinkShare:F2}, KL {r.Grpo[^1].Kl:F4}");
        }
        md.AppendLine().AppendLine("Per-step numbers: `pretrain/metrics.csv`, `sft/metrics.csv`, `grpo/metrics.csv`.").AppendLine();
        foreach (var (file, caption) in DrawCharts(r, outDir)) md.AppendLine(ci, $"![{caption}]({file})").AppendLine();
        string path = Path.Combine(outDir, "report.md");
        File.WriteAllText(path, md.ToString());
        return path;
    }

    private static List<(string File, string Caption)> DrawCharts(RecipeResult r, string outDir)
    {
        var charts = new List<(string, string)>();
        void Add(bool ok, string file, string caption) { if (ok) charts.Add((file, caption)); }
        try
        {
            var pre = r.Pretrain;
            var preVal = pre.Where(m => m.ValidationLoss is not null).ToList();
            Add(Charts.Lines(Path.Combine(outDir, "pretrain-loss.png"), "Pretraining loss", "step", "loss",
                ("train (main + MTP)", pre.Select(m => (double)m.Step).ToArray(), pre.Select(m => m.Loss).ToArray()),
                ("train (next token)", pre.Select(m => (double)m.Step).ToArray(), pre.Select(m => m.MainLoss).ToArray()),
                ("validation", preVal.Select(m => (double)m.Step).ToArray(), preVal.Select(m => m.ValidationLoss!.Value).ToArray())), "pretrain-loss.png", "pretraining loss");
            var sftVal = r.Sft.Where(m => m.ValidationLoss is not null).ToList();
            Add(Charts.Lines(Path.Combine(outDir, "sft-loss.png"), "SFT loss (assistant tokens)", "step", "loss", logY: true,
                ("train", r.Sft.Select(m => (double)m.Step).ToArray(), r.Sft.Select(m => m.Loss).ToArray()),
                ("validation", sftVal.Select(m => (double)m.Step).ToArray(), sftVal.Select(m => m.ValidationLoss!.Value).ToArray())), "sft-loss.png", "SFT loss");
            int preSteps = pre.Count == 0 ? 0 : pre[^1].Step + 1;
            Add(Charts.Lines(Path.Combine(outDir, "expert-load.png"), "Expert load, worst MoE layer (max/mean; 1 = balanced)", "step (pretrain, then SFT)", "max/mean load",
                ("pretrain", pre.Select(m => (double)m.Step).ToArray(), pre.Select(m => m.MaxLoadRatio).ToArray()),
                ("SFT", r.Sft.Select(m => (double)(preSteps + m.Step)).ToArray(), r.Sft.Select(m => m.MaxLoadRatio).ToArray())), "expert-load.png", "expert load");
            var g = r.Grpo;
            double[] gx = g.Select(m => (double)m.Step).ToArray();
            Add(Charts.Lines(Path.Combine(outDir, "grpo-reward.png"), "GRPO", "step", "share",
                ("reward", gx, g.Select(m => m.Reward).ToArray()), ("accuracy", gx, g.Select(m => m.Accuracy).ToArray()), ("<think> share", gx, g.Select(m => m.ThinkShare).ToArray())), "grpo-reward.png", "GRPO reward, accuracy, think share");
            Add(Charts.Lines(Path.Combine(outDir, "grpo-kl.png"), "GRPO: KL to the SFT reference (k3)", "step", "KL",
                ("KL", gx, g.Select(m => m.Kl).ToArray())), "grpo-kl.png", "GRPO KL");
            Add(Charts.Lines(Path.Combine(outDir, "grpo-length.png"), "GRPO: response length", "step", "tokens",
                ("mean response tokens", gx, g.Select(m => m.MeanLength).ToArray())), "grpo-length.png", "GRPO response length");
            if (r.Evaluations.Count > 0)
            {
                var first = r.Evaluations.Values.First();
                var labels = new List<(string Label, Func<JsonObject, JsonNode?> Pick)> { ("all", e => e) };
                foreach (var (name, _) in first["categories"]?.AsObject() ?? []) labels.Add((name, e => e["categories"]?[name]));
                foreach (var (name, _) in first["difficulties"]?.AsObject() ?? []) labels.Add((name, e => e["difficulties"]?[name]));
                var stages = r.Evaluations.Select(kv => (kv.Key, labels.Select(l => (l.Pick(kv.Value)?["pass@1"]?.GetValue<double>() ?? 0) * 100).ToArray())).ToList();
                Add(Charts.Accuracy(Path.Combine(outDir, "accuracy.png"), "Held-out test accuracy by stage", labels.Select(l => l.Label).ToList(), stages), "accuracy.png", "accuracy by stage");
            }
        }
        catch (Exception e) when (e is DllNotFoundException or TypeInitializationException or IOException)
        {
            // Charts are a convenience: a machine without the native Skia library still gets the markdown report.
            Console.Error.WriteLine($"warning: charts not drawn ({e.GetType().Name}: {e.Message})");
        }
        return charts;
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
