using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using SharpSeek.Training.Checkpoints;
using SharpSeek.Training.Training;

namespace SharpSeek.Training.Recipe;

/// <summary>One finished recipe run, as the architecture comparison needs it: cost per stage, SFT curve, evaluations, parameter counts.</summary>
public sealed record RecipeRun(string Label, string Architecture, IReadOnlyList<StageReport> Stages, IReadOnlyList<SftStep> Sft,
    IReadOnlyDictionary<string, JsonObject> Evaluations, long TotalParameters, long ActiveParameters)
{
    /// <summary>Training FLOPs of the stages before SFT (tokenizer, pretraining).</summary>
    public double FlopsBeforeSft => Stages.TakeWhile(s => s.Stage != "sft").Sum(s => s.Flops);

    public static RecipeRun From(RecipeResult r, string label, string architecture) =>
        new(label, architecture, r.Stages, r.Sft, r.Evaluations, r.TotalParameters, r.ActiveParameters);

    /// <summary>Reads a run folder written by <see cref="TinyRecipe.Run"/> (every stage and evaluation finished).</summary>
    public static RecipeRun Read(string dir, string label)
    {
        string final = Path.Combine(dir, "grpo", "model");
        if (!File.Exists(Path.Combine(final, "config.json")))
            throw new SharpSeekException($"{dir}: not a finished recipe run (no grpo/model/config.json); run it to the end first");
        var stages = new List<StageReport>();
        foreach (string s in new[] { "pretrain", "sft", "grpo" }) stages.Add(TinyRecipe.ReadDone(Path.Combine(dir, s)));
        var evals = new Dictionary<string, JsonObject>();
        foreach (string stage in new[] { "base", "sft", "grpo" })
        {
            string path = Path.Combine(dir, $"eval-{stage}.json");
            if (File.Exists(path)) evals[stage] = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        }
        using var model = HfImport.Load(final);
        var cost = CostModel.For(model, 512);
        return new RecipeRun(label, model.Config.Architecture, stages, TinyRecipe.ReadSftHistory(Path.Combine(dir, "sft")), evals, cost.TotalParameters, cost.ActiveParameters);
    }
}

/// <summary>
/// DeepSeek's argument in miniature: the MoE model against a dense Llama baseline with the same active parameters,
/// trained by the same recipe and budget. Loss is compared per training FLOP (the SFT curve against cumulative
/// FLOPs) and accuracy next to the FLOPs that bought it.
/// </summary>
public static class ArchComparison
{
    /// <summary>The report card section (markdown) and its chart, written into <paramref name="outDir"/>.</summary>
    public static string Section(IReadOnlyList<RecipeRun> runs, string outDir)
    {
        var ci = CultureInfo.InvariantCulture;
        var md = new StringBuilder();
        md.AppendLine("## MoE vs dense at the same active parameters").AppendLine();
        md.AppendLine("| model | architecture | parameters | active / token | training FLOPs | wall time | SFT validation loss | test pass@1 SFT | test pass@1 GRPO |");
        md.AppendLine("|---|---|---|---|---|---|---|---|---|");
        foreach (var r in runs)
        {
            double? val = r.Sft.LastOrDefault(s => s.ValidationLoss is not null)?.ValidationLoss;
            md.AppendLine(ci, $"| {r.Label} | {r.Architecture} | {r.TotalParameters:N0} | {r.ActiveParameters:N0} | {r.Stages.Sum(s => s.Flops):E2} | {r.Stages.Sum(s => s.WallSeconds) / 60:F1} min | {(val is double v ? v.ToString("F4", ci) : "-")} | {Pass(r, "sft")} | {Pass(r, "grpo")} |");
        }
        md.AppendLine();
        try
        {
            var series = runs.Select(r =>
            {
                var sftStage = r.Stages.FirstOrDefault(s => s.Stage == "sft");
                double perStep = sftStage is null || sftStage.Steps == 0 ? 0 : sftStage.Flops / sftStage.Steps;
                var pts = r.Sft.Where(s => s.ValidationLoss is not null).ToList();
                return (r.Label, pts.Select(s => r.FlopsBeforeSft + (s.Step + 1) * perStep).ToArray(), pts.Select(s => s.ValidationLoss!.Value).ToArray());
            }).ToArray();
            if (Charts.Lines(Path.Combine(outDir, "moe-vs-dense.png"), "SFT validation loss per training FLOP", "training FLOPs (pretraining + SFT)", "loss", logY: true, series))
                md.AppendLine("![MoE vs dense: loss per training FLOP](moe-vs-dense.png)").AppendLine();
        }
        catch (Exception e) when (e is DllNotFoundException or TypeInitializationException or IOException)
        {
            Console.Error.WriteLine($"warning: comparison chart not drawn ({e.GetType().Name}: {e.Message})");
        }
        return md.ToString();
    }

    private static string Pass(RecipeRun r, string stage) =>
        r.Evaluations.TryGetValue(stage, out var e) && e["pass@1"]?.GetValue<double>() is double d ? string.Create(CultureInfo.InvariantCulture, $"{d * 100:F1} %") : "-";
}
