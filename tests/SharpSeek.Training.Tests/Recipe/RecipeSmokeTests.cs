using System.Text.Json.Nodes;
using SharpSeek.Training.Recipe;
using Xunit.Abstractions;

namespace SharpSeek.Training.Tests.Recipe;

/// <summary>The smoke profile of <c>sharpseek train --recipe tiny</c>: every stage runs, the losses fall, the evaluation and report card appear, and a re-run resumes.</summary>
public sealed class RecipeSmokeTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "sharpseek-recipe-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, true);
    }

    [Fact]
    public void SmokeProfileRunsEveryStageAndLossFalls()
    {
        var log = new StringWriter();
        var r = TinyRecipe.Run(RecipeProfile.Smoke, _dir, 1234, 1, log);
        output.WriteLine(log.ToString());
        Assert.Equal(["tokenizer", "pretrain", "sft", "grpo", "mtp"], r.Stages.Select(s => s.Stage));
        // The MTP stage trains the MTP layer alone: every other tensor is exported unchanged, and the MTP loss falls.
        string mtpPrefix = $"model.layers.{RecipeProfile.Smoke.Layers}.";
        using (var before = new SharpSeek.Formats.Safetensors.SafetensorsFile(Path.Combine(_dir, "grpo", "model", "model.safetensors")))
        using (var after = new SharpSeek.Formats.Safetensors.SafetensorsFile(Path.Combine(_dir, "mtp", "model", "model.safetensors")))
        {
            int changed = 0;
            foreach (var name in before.Entries.Keys)
            {
                bool same = before.GetTensor(name).ToFloat32().SequenceEqual(after.GetTensor(name).ToFloat32());
                if (name.StartsWith(mtpPrefix, StringComparison.Ordinal)) changed += same ? 0 : 1;
                else Assert.True(same, $"{name} changed in the MTP stage");
            }
            Assert.True(changed > 0, "the MTP stage changed no MTP tensor");
        }
        var mtpLosses = File.ReadLines(Path.Combine(_dir, "mtp", "metrics.csv")).Skip(1).Select(l => double.Parse(l.Split(',')[3], System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.True(mtpLosses.Count >= 2 && mtpLosses[^1] < mtpLosses[0], $"MTP loss did not fall: {string.Join(", ", mtpLosses)}");
        Assert.True(r.Pretrain[^1].Loss < r.Pretrain[0].Loss - 0.3, "pretraining loss did not fall");
        Assert.True(r.Sft.TakeLast(3).Average(s => s.Loss) < r.Sft.Take(3).Average(s => s.Loss) - 0.5, "SFT loss did not fall");
        Assert.Equal(RecipeProfile.Smoke.Grpo.Stage.Steps, r.Grpo.Count);
        foreach (var stage in new[] { "base", "sft", "grpo" }) Assert.NotNull(r.Evaluations[stage]["pass@1"]);
        // The sanity suite per stage, spread over all three operations.
        foreach (var stage in new[] { "base", "sft", "grpo" }) Assert.Equal(RecipeProfile.Smoke.SanityItems, r.Sanity[stage]["items"]!.GetValue<int>());
        Assert.Equal(3, r.Sanity["grpo"]["categories"]!.AsObject().Count);
        Assert.Equal(RecipeProfile.Smoke.SanityItems - (int)Math.Round(r.Sanity["grpo"]["pass@1"]!.GetValue<double>() * RecipeProfile.Smoke.SanityItems), r.SanityFailures.Count);
        foreach (var f in new[] { "config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "generation_config.json" })
            Assert.True(File.Exists(Path.Combine(_dir, "grpo", "model", f)), f);
        Assert.Contains("| **all** |", File.ReadAllText(Path.Combine(_dir, "report.md")), StringComparison.Ordinal);
        Assert.Contains("## Sanity: the one-digit facts", File.ReadAllText(Path.Combine(_dir, "report.md")), StringComparison.Ordinal);

        // A second run finds every stage done and only rebuilds the report.
        var again = TinyRecipe.Run(RecipeProfile.Smoke, _dir, 1234, 1, new StringWriter());
        Assert.Equal(r.Stages.Select(s => s.Steps), again.Stages.Select(s => s.Steps));
    }

    [Fact]
    public void DenseBaselineRunsTheSameRecipe_AndTheReportComparesItPerFlop()
    {
        var quick = RecipeProfile.Smoke with { PretrainSteps = 12, SftSteps = 20, Grpo = RecipeProfile.Smoke.Grpo with { Stage = RecipeProfile.Smoke.Grpo.Stage with { Steps = 1 } } };
        string dense = Path.Combine(_dir, "dense"), moe = Path.Combine(_dir, "moe");
        var d = TinyRecipe.Run(quick with { Arch = "dense" }, dense, 7, 1, new StringWriter());
        Assert.True(d.Sft.TakeLast(3).Average(s => s.Loss) < d.Sft.Take(3).Average(s => s.Loss) - 0.3, "dense SFT loss did not fall");
        Assert.Contains("LlamaForCausalLM", File.ReadAllText(Path.Combine(dense, "grpo", "model", "config.json")), StringComparison.Ordinal);
        Assert.Contains("dense Llama baseline", File.ReadAllText(Path.Combine(dense, "report.md")), StringComparison.Ordinal);

        TinyRecipe.Run(quick, moe, 7, 1, new StringWriter(), baselineDir: dense);
        string report = File.ReadAllText(Path.Combine(moe, "report.md"));
        Assert.Contains("## MoE vs dense at the same active parameters", report, StringComparison.Ordinal);
        Assert.Contains("| dense | LlamaForCausalLM |", report, StringComparison.Ordinal);
        Assert.Contains("| deepseek | DeepseekV3ForCausalLM |", report, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(moe, "moe-vs-dense.png")));
        // Same active width per token: the dense FFN is as wide as the shared plus top-k routed experts.
        var run = RecipeRun.Read(dense, "dense");
        Assert.Equal(d.ActiveParameters, run.ActiveParameters);
        var cfg = SharpSeek.Models.ModelConfig.Load(Path.Combine(dense, "grpo", "model", "config.json"));
        Assert.Equal(d.TotalParameters, d.ActiveParameters + (long)cfg.VocabSize * cfg.HiddenSize); // only the embedding is not active
    }

    [Fact]
    public void GrpoSeedStudy_RunsEverySeedFromTheSftModel_AndReportsTheLiftWithItsSpread()
    {
        var quick = RecipeProfile.Smoke with { PretrainSteps = 4, SftSteps = 6, GrpoSeeds = 3, Grpo = RecipeProfile.Smoke.Grpo with { Stage = RecipeProfile.Smoke.Grpo.Stage with { Steps = 1 } } };
        TinyRecipe.Run(quick, _dir, 3, 1, new StringWriter());
        foreach (string d in new[] { "grpo", "grpo-seed1", "grpo-seed2" }) Assert.True(File.Exists(Path.Combine(_dir, d, "model", "model.safetensors")), d);
        string report = File.ReadAllText(Path.Combine(_dir, "report.md"));
        Assert.Contains("## GRPO lift on the hardest split (3 seeds)", report, StringComparison.Ordinal);
        Assert.Contains("| GRPO | 2003 |", report, StringComparison.Ordinal);
        Assert.Contains("standard deviation over seeds", report, StringComparison.Ordinal);
        // The R1-style sampled pass@1 beside the greedy one, for the SFT model and every seed.
        Assert.Contains("sampled pass@1 (k=2)", report, StringComparison.Ordinal);
        Assert.Contains("Sampled (k=2): mean lift", report, StringComparison.Ordinal);
        foreach (string f in new[] { "eval-hard-sft-k2.json", "eval-hard-grpo0-k2.json", "eval-hard-grpo2-k2.json" })
            Assert.Equal(2, System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(_dir, f)))!["samples"]!.GetValue<int>());
        var lift = new GrpoLift(0.5, [(1, 0.6), (2, 0.7), (3, 0.8)], 10);
        Assert.Equal(0.2, lift.MeanLift, 9);
        Assert.Equal(0.1, lift.LiftStd, 9);
        Assert.All(EvalSuites.Get("test-hard"), i => Assert.Equal("hard", i.Difficulty));
    }

    [Fact]
    public void CpuBudget_CountsProcessorTime_AndTheScheduleFollowsIt()
    {
        var now = new StageState(10, WallSeconds: 600, CpuSeconds: 150, Tokens: 0);
        var wall = new StageOptions { Steps = 100_000, WarmupSteps = 0, MaxMinutes = 10, LearningRate = 1, MinLearningRate = 0 };
        var cpu = wall with { CpuBudget = true };
        Assert.Equal(600, wall.Spent(now));
        Assert.Equal(150, cpu.Spent(now));
        // Ten wall minutes used the whole wall budget (rate at its floor); the CPU budget is a quarter spent.
        Assert.Equal(0, wall.LearningRateAt(10, wall.Spent(now)), 9);
        Assert.Equal(0.5 * (1 + Math.Cos(Math.PI * 0.25)), cpu.LearningRateAt(10, cpu.Spent(now)), 9);
        Assert.True(RecipeProfile.Tiny.CpuBudget);
    }

    [Fact]
    public void EvaluatorScoresAnExportedModelAndWritesPerItemResults()
    {
        var log = new StringWriter();
        var p = RecipeProfile.Smoke with { PretrainSteps = 2, SftSteps = 2, Grpo = RecipeProfile.Smoke.Grpo with { Stage = RecipeProfile.Smoke.Grpo.Stage with { Steps = 1 } } };
        TinyRecipe.Run(p, _dir, 5, 1, log);
        var items = new List<EvalItem> { new("What is 2 + 3?", "5", "addition", "easy"), new("What is 4 * 2?", "8", "multiplication", "easy") };
        using var ev = new Evaluator(Path.Combine(_dir, "sft", "model")) { MaxTokens = 8 };
        var results = ev.Run(items, 3);
        var summary = Evaluator.Summary(results, 3, "m", "d");
        Assert.Equal(2, summary["items"]!.GetValue<int>());
        Assert.NotNull(summary["maj@3"]);
        Assert.NotNull(summary["categories"]!["addition"]);
        Assert.All(results, x => Assert.Equal(3, x.Completions.Count));
        string path = Path.Combine(_dir, "results.jsonl");
        Evaluator.WriteResults(path, results);
        Assert.Equal(2, File.ReadAllLines(path).Length);
        Assert.Equal("5", JsonNode.Parse(File.ReadAllLines(path)[0])!["answer"]!.GetValue<string>());

        // Decoding a group together (GRPO's rollouts, sampled evaluation) gives each sample exactly what decoding it alone gives.
        using var wide = new Evaluator(Path.Combine(_dir, "sft", "model")) { MaxTokens = 40 };
        var prompt = wide.PromptTokens("What is 12 + 7?");
        var samplings = Enumerable.Range(0, 6).Select(i => new SharpSeek.Generation.SamplingOptions { Temperature = 1.5f, Seed = 17 + (ulong)i }).ToList();
        var together = wide.CompleteMany(prompt, samplings);
        Assert.Equal(6, together.Count);
        for (int i = 0; i < samplings.Count; i++) Assert.Equal(wide.Complete(prompt, samplings[i]).Tokens, together[i].Tokens);
        Assert.True(together.Select(t => string.Join(",", t.Tokens)).Distinct().Count() > 1, "the samples should differ, or the test proves little");
        Assert.Contains(together, t => t.Tokens.Length < 40); // some stop early (EOS) while the others go on
    }
}
