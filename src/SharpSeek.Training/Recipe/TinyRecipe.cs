using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using SharpSeek.Chat;
using SharpSeek.Tokenization;
using SharpSeek.Training.Checkpoints;
using SharpSeek.Training.Data;
using SharpSeek.Training.Model;
using SharpSeek.Training.Training;

namespace SharpSeek.Training.Recipe;

/// <summary>
/// Everything a recipe run produced: per-stage costs, the loss curves, the evaluations on the held-out test split and
/// on the sanity suite (per stage; <see cref="SanityFailures"/>: the final model's wrong answers there, prompt and answer given).
/// </summary>
public sealed record RecipeResult(
    RecipeProfile Profile, List<StageReport> Stages, IReadOnlyList<StepMetrics> Pretrain, IReadOnlyList<SftStep> Sft, IReadOnlyList<GrpoStep> Grpo,
    Dictionary<string, JsonObject> Evaluations, string FinalModel, long TotalParameters, long ActiveParameters)
{
    public Dictionary<string, JsonObject> Sanity { get; init; } = [];
    public IReadOnlyList<(string Prompt, string Expected, string? Given)> SanityFailures { get; init; } = [];
}

/// <summary>
/// <c>sharpseek train --recipe tiny</c>: tokenizer → pretraining → SFT → GRPO → evaluation of every stage on the
/// held-out test split. Each stage writes its exported model and a <c>done.json</c> into its own folder; re-running
/// the command skips finished stages and resumes an interrupted one from its checkpoint.
/// </summary>
public static class TinyRecipe
{
    /// <param name="baselineDir">A finished run of another architecture (e.g. <c>--arch dense</c>) to compare with in the report card.</param>
    public static RecipeResult Run(RecipeProfile p, string outDir, long seed, int threads, TextWriter log, string? baselineDir = null)
    {
        TorchRuntime.Initialise(threads);
        Directory.CreateDirectory(outDir);
        var stages = new List<StageReport>();
        string tokDir = Path.Combine(outDir, "tokenizer");

        // 1. Tokenizer.
        var clock = Stopwatch.StartNew();
        Tokenizer tokenizer;
        if (File.Exists(Path.Combine(tokDir, "tokenizer_config.json"))) tokenizer = Tokenizer.FromFile(tokDir);
        else
        {
            log.WriteLine($"[tokenizer] training byte-level BPE, vocabulary {p.VocabSize}");
            var corpus = TaskGenerator.Sample(TaskSplit.Train, p.TokenizerItems, seed + 11, null, p.Difficulties, p.IdentityShare);
            tokenizer = RecipeTokenizer.Train(corpus, p.VocabSize, tokDir);
        }
        stages.Add(new StageReport("tokenizer", clock.Elapsed.TotalSeconds, clock.Elapsed.TotalSeconds, 0, 0, 0));
        var template = ChatTemplate.For(tokenizer);
        var cfg = p.ModelConfig() with { VocabSize = Math.Max(p.VocabSize, tokenizer.VocabSize) };

        // 2. Pretraining on worked solutions and direct answers.
        string preDir = Path.Combine(outDir, "pretrain"), preModel = Path.Combine(preDir, "model");
        var preOptions = new TrainingOptions
        {
            Steps = p.PretrainSteps, BatchSize = p.PretrainBatch, SeqLen = p.PretrainSeqLen, LearningRate = 3e-3, MinLearningRate = 3e-4, WarmupSteps = Math.Min(30, p.PretrainSteps / 5),
            Seed = seed, Threads = threads, MaxMinutes = p.PretrainMinutes, CpuBudget = p.CpuBudget, EvalEvery = Math.Max(10, p.PretrainSteps / 10), EvalBatches = 2, LogEvery = 5,
            CheckpointEvery = 100, ShowProgress = false, MtpWeight = 0.3,
        };
        IReadOnlyList<StepMetrics> preHistory = ReadPretrainHistory(preDir);
        DeepSeekModel model;
        if (!File.Exists(Path.Combine(preDir, "done.json")))
        {
            log.WriteLine($"[pretrain] {p.PretrainSteps} steps × {p.PretrainBatch}×{p.PretrainSeqLen} tokens");
            model = Trainer.CreateModel(cfg, preOptions);
            var data = PretrainCorpus(p, tokenizer, seed);
            var trainer = new Trainer(model, data, preOptions, preDir);
            var report = trainer.Run();
            preHistory = ReadPretrainHistory(preDir);
            Export(model, preModel, tokDir);
            WriteDone(preDir, new StageReport("pretrain", report.WallSeconds, report.CpuSeconds, report.Tokens, report.TrainingFlops, report.StepsDone));
            log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {report.StepsDone} steps, loss {report.FinalLoss:F4}, {report.WallSeconds:F0} s"));
        }
        else model = HfImport.Load(preModel);
        stages.Add(ReadDone(preDir));
        var cost = CostModel.For(model, p.SftLength);

        // 3. SFT on chat-formatted conversations, loss on assistant tokens only.
        string sftDir = Path.Combine(outDir, "sft"), sftModel = Path.Combine(sftDir, "model");
        var sftHistory = new List<SftStep>();
        if (!File.Exists(Path.Combine(sftDir, "done.json")))
        {
            log.WriteLine($"[sft] {p.SftSteps} steps × {p.SftRows}×{p.SftLength} packed tokens");
            int pad = tokenizer.EosId ?? 1;
            (long[], float[]) Batch(int step, TaskSplit split, long s) =>
                SftExample.Pack(Stream(split, s + step * 7919L, p, tokenizer, template), p.SftRows, p.SftLength, pad);
            var options = new StageOptions
            {
                Steps = p.SftSteps, LearningRate = p.SftLearningRate, MinLearningRate = p.SftLearningRate / 20, WarmupSteps = Math.Min(50, p.SftSteps / 10),
                Seed = seed, MaxMinutes = p.SftMinutes, CpuBudget = p.CpuBudget, MtpWeight = 0, // MTP is a pretraining objective (DeepSeek-V3); skipping it here saves a fifth of the SFT compute
                CheckpointEvery = 100, LogEvery = 10,
            };
            // 16 validation rows whatever the batch's row count, so validation losses stay comparable across profiles.
            var validation = Enumerable.Range(0, Math.Max(1, 16 / p.SftRows)).Select(i => Batch(i, TaskSplit.Validation, seed + 99)).ToList();
            var sft = new SftTrainer(model, options, sftDir, step => Batch(step, TaskSplit.Train, seed + 1), p.SftRows, p.SftLength)
            {
                Validation = validation, EvalEvery = Math.Clamp(p.SftSteps / 20, 2, 100),
            };
            var st = sft.Run(log);
            Export(model, sftModel, tokDir);
            WriteDone(sftDir, new StageReport("sft", st.WallSeconds, st.CpuSeconds, st.Tokens, cost.TrainingFlops(st.Tokens), st.Step));
        }
        else
        {
            model.Dispose();
            model = HfImport.Load(sftModel);
        }
        sftHistory.AddRange(ReadSftHistory(sftDir));
        stages.Add(ReadDone(sftDir));

        // 4. GRPO from the SFT model against the frozen SFT reference.
        string grpoDir = Path.Combine(outDir, "grpo"), grpoModel = Path.Combine(grpoDir, "model");
        if (!File.Exists(Path.Combine(grpoDir, "done.json"))) RunGrpo(p, model, sftModel, tokenizer, tokDir, seed, grpoDir, cost, log);
        stages.Add(ReadDone(grpoDir));
        model.Dispose();

        // 5. The MTP layer on the final model (the main model frozen, so its answers do not change): SFT leaves MTP out to save a
        // fifth of its compute, which leaves the layer pretraining made stale by the end; this stage makes it draft well for
        // --speculate mtp.
        string mtpDir = Path.Combine(outDir, "mtp"), finalDir = grpoModel;
        if (cfg.NumNextnPredictLayers > 0)
        {
            if (!File.Exists(Path.Combine(mtpDir, "done.json")))
            {
                using var final = HfImport.Load(grpoModel);
                RunMtp(p, final, tokenizer, tokDir, seed, mtpDir, cost, log);
            }
            stages.Add(ReadDone(mtpDir));
            finalDir = Path.Combine(mtpDir, "model");
        }

        // 6. Evaluation of every stage on the held-out test split, and on the one-digit facts (trained on, not held out).
        var evals = new Dictionary<string, JsonObject>();
        var sanity = new Dictionary<string, JsonObject>();
        var items = EvalSuites.Get(p.EvalSuite).Take(p.EvalItems).ToList();
        var sanityAll = EvalSuites.Sanity();
        int nSanity = Math.Clamp(p.SanityItems, 0, sanityAll.Count);
        var sanityItems = Enumerable.Range(0, nSanity).Select(i => sanityAll[i * sanityAll.Count / nSanity]).ToList();
        foreach (var (stage, dir) in new[] { ("base", preModel), ("sft", sftModel), ("grpo", grpoModel) })
        {
            evals[stage] = Evaluate(dir, items, Path.Combine(outDir, $"eval-{stage}"), "suite:" + p.EvalSuite, "test problems", p.EvalMaxTokens, log);
            if (sanityItems.Count > 0)
                sanity[stage] = Evaluate(dir, sanityItems, Path.Combine(outDir, $"eval-{stage}-sanity"), "suite:sanity", "one-digit facts", p.EvalMaxTokens, log);
        }
        using var finalModel = HfImport.Load(finalDir);
        var fc = CostModel.For(finalModel, p.SftLength);
        var result = new RecipeResult(p, stages, preHistory, sftHistory, ReadGrpoHistory(grpoDir), evals, finalDir, fc.TotalParameters, fc.ActiveParameters)
        {
            Sanity = sanity,
            SanityFailures = sanityItems.Count > 0 ? Evaluator.ReadFailures(Path.Combine(outDir, "eval-grpo-sanity.jsonl")) : [],
        };
        string extra = "";
        if (p.GrpoSeeds > 1)
        {
            var (greedy, sampled) = GrpoSeedStudy.Run(p, outDir, seed, p.GrpoSeeds, tokenizer, tokDir, p.HardEvalItems, p.HardEvalSamples, log);
            extra += GrpoSeedStudy.Section(greedy, sampled);
        }
        if (baselineDir is not null)
            extra += ArchComparison.Section([RecipeRun.From(result, p.Arch, cfg.Architecture), RecipeRun.Read(baselineDir, Path.GetFileName(Path.TrimEndingDirectorySeparator(baselineDir)))], outDir);
        ReportCard.Write(result, outDir, extra.Length > 0 ? extra : null);
        log.WriteLine($"report card: {Path.Combine(outDir, "report.md")}");
        return result;
    }

    /// <summary>
    /// Greedy evaluation of the model in <paramref name="dir"/> on <paramref name="items"/>: the summary goes to
    /// <c>{path}.json</c>, the per-item results to <c>{path}.jsonl</c>; an existing summary is read back instead (a re-run
    /// only rebuilds the report).
    /// </summary>
    private static JsonObject Evaluate(string dir, List<EvalItem> items, string path, string data, string what, int maxTokens, TextWriter log)
    {
        if (!File.Exists(path + ".json"))
        {
            var t0 = Stopwatch.StartNew();
            using var ev = new Evaluator(dir) { MaxTokens = maxTokens };
            var results = ev.Run(items, 1);
            Evaluator.WriteResults(path + ".jsonl", results);
            var summary = Evaluator.Summary(results, 1, dir, data);
            File.WriteAllText(path + ".json", summary.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[eval] {Path.GetFileName(path)}: pass@1 {summary["pass@1"]} on {items.Count} {what} ({t0.Elapsed.TotalSeconds:F0} s)"));
        }
        return JsonNode.Parse(File.ReadAllText(path + ".json"))!.AsObject();
    }

    /// <summary>
    /// GRPO of <paramref name="policy"/> (the SFT model) against the frozen SFT model at <paramref name="sftModel"/>, with
    /// <paramref name="seed"/>; exports to <c>dir/model</c> and writes <c>done.json</c>.
    /// </summary>
    internal static void RunGrpo(RecipeProfile p, DeepSeekModel policy, string sftModel, Tokenizer tokenizer, string tokDir, long seed, string dir, CostModel cost, TextWriter log)
    {
        var g = p.Grpo with { Stage = p.Grpo.Stage with { Seed = seed, MaxMinutes = p.GrpoMinutes, CpuBudget = p.CpuBudget } };
        log.WriteLine($"[grpo] seed {seed}: {g.Stage.Steps} steps × {g.PromptsPerStep} prompts × G={g.GroupSize}, β={g.Beta}, ε={g.ClipEpsilon}{(g.DrGrpo ? ", Dr. GRPO" : "")}");
        using var reference = HfImport.Load(sftModel);
        foreach (var prm in reference.parameters()) prm.requires_grad = false;
        var st = new GrpoTrainer(policy, reference, tokenizer, tokDir, g, dir).Run(log);
        Export(policy, Path.Combine(dir, "model"), tokDir);
        // Per trained token: forward + backward of the policy per update (3 forward-equivalents of 2·N each), the reference's
        // forward, and the old policy's when there is more than one update; the engine's rollouts are not counted.
        double forwards = 3.0 * g.InnerSteps + 1 + (g.InnerSteps > 1 ? 1 : 0);
        WriteDone(dir, new StageReport("grpo", st.WallSeconds, st.CpuSeconds, st.Tokens, cost.TrainingFlops(st.Tokens) * forwards / 3, st.Step));
    }

    /// <summary>
    /// Trains <paramref name="model"/>'s MTP layer alone (every other parameter frozen, MoE biases left as they are) on the SFT
    /// data, its loss the MTP head's masked cross-entropy on assistant tokens; exports to <c>dir/model</c> and writes
    /// <c>done.json</c>. The main model's weights are exported unchanged.
    /// </summary>
    public static void RunMtp(RecipeProfile p, DeepSeekModel model, Tokenizer tokenizer, string tokDir, long seed, string dir, CostModel cost, TextWriter log)
    {
        if (model.Mtp is null) throw new SharpSeekException("the model has no MTP layer (num_nextn_predict_layers = 0)");
        string prefix = $"model.layers.{model.Config.NumHiddenLayers}.";
        foreach (var (name, prm) in model.named_parameters()) prm.requires_grad = name.StartsWith(prefix, StringComparison.Ordinal);
        var template = ChatTemplate.For(tokenizer);
        int pad = tokenizer.EosId ?? 1;
        string budget = p.MtpMinutes > 0 ? $"{p.MtpMinutes} min" : $"{p.MtpSteps} steps";
        log.WriteLine($"[mtp] the MTP layer alone, {budget} × {p.SftRows}×{p.SftLength} packed tokens per step");
        var options = new StageOptions
        {
            Steps = p.MtpSteps, LearningRate = p.MtpLearningRate, MinLearningRate = p.MtpLearningRate / 10, WarmupSteps = Math.Min(20, p.MtpSteps / 3),
            Seed = seed, MaxMinutes = p.MtpMinutes, CpuBudget = p.CpuBudget, MtpWeight = 1, BiasUpdateSpeed = 0, BalanceAlpha = 0,
            CheckpointEvery = 100, LogEvery = 10,
        };
        var trainer = new SftTrainer(model, options, dir, step => SftExample.Pack(Stream(TaskSplit.Train, seed + 3 + step * 7919L, p, tokenizer, template), p.SftRows, p.SftLength, pad),
            p.SftRows, p.SftLength);
        var st = trainer.Run(log);
        foreach (var prm in model.parameters()) prm.requires_grad = true;
        Export(model, Path.Combine(dir, "model"), tokDir);
        // Per token: the main model's forward (2·N) and the MTP layer's forward and backward, about a quarter of that again.
        WriteDone(dir, new StageReport("mtp", st.WallSeconds, st.CpuSeconds, st.Tokens, cost.TrainingFlops(st.Tokens) / 3 * 1.25, st.Step));
    }

    /// <summary>The model export plus the recipe's tokenizer files (with the chat template).</summary>
    public static void Export(DeepSeekModel model, string dir, string tokenizerDir)
    {
        HfExport.Save(model, dir, byteTokenizer: false);
        foreach (var f in new[] { "tokenizer.json", "tokenizer_config.json" }) File.Copy(Path.Combine(tokenizerDir, f), Path.Combine(dir, f), true);
    }

    /// <summary>An endless stream of chat examples of one split (seeded), for packing.</summary>
    private static IEnumerable<SftExample> Stream(TaskSplit split, long seed, RecipeProfile p, Tokenizer tokenizer, ChatTemplate template)
    {
        for (long chunk = 0; ; chunk++)
            foreach (var item in TaskGenerator.Sample(split, 16, seed * 31 + chunk, null, p.Difficulties, split == TaskSplit.Train ? p.IdentityShare : 0))
                yield return SftExample.From(item, tokenizer, template);
    }

    /// <summary>Pretraining text: worked solutions as plain documents, direct answers ("482 + 39 = 521") and one-digit fact drills.</summary>
    private static TokenData PretrainCorpus(RecipeProfile p, Tokenizer tokenizer, long seed)
    {
        int bos = tokenizer.BosId ?? 0, eos = tokenizer.EosId ?? 1;
        long budget = (long)p.PretrainSteps * p.PretrainBatch * p.PretrainSeqLen;
        List<int> Build(TaskSplit split, long target, long s)
        {
            var tokens = new List<int>();
            var rng = new Random((int)s);
            for (long chunk = 0; tokens.Count < target; chunk++)
                foreach (var item in TaskGenerator.Sample(split, 64, s + chunk, null, p.Difficulties))
                {
                    double u = rng.NextDouble();
                    string text = u < p.PretrainDrillShare ? FactDrill.Document(rng, 24)
                        : u < p.PretrainDrillShare + (1 - p.PretrainDrillShare) / 3 ? item.Prompt + "\n" + item.Answer + "\n"
                        : item.Prompt + "\n" + item.Reasoning + "\nAnswer: " + item.Answer + "\n";
                    tokens.Add(bos);
                    tokenizer.Encode(text, tokens, parseSpecial: false);
                    tokens.Add(eos);
                }
            return tokens;
        }
        // Fresh problems for at most a few epochs' worth of windows: enough that nothing is memorised.
        var train = Build(TaskSplit.Train, Math.Min(budget / 2 + 4 * p.PretrainSeqLen, 3_000_000), seed + 5);
        var val = Build(TaskSplit.Validation, 8 * p.PretrainSeqLen * p.PretrainBatch, seed + 6);
        return new TokenData(train.ToArray(), val.ToArray());
    }

    private static void WriteDone(string dir, StageReport r) => File.WriteAllText(Path.Combine(dir, "done.json"), JsonSerializer.Serialize(r));

    internal static StageReport ReadDone(string dir) => JsonSerializer.Deserialize<StageReport>(File.ReadAllText(Path.Combine(dir, "done.json")))!;

    private static List<StepMetrics> ReadPretrainHistory(string dir)
    {
        string path = Path.Combine(dir, "metrics.jsonl");
        if (!File.Exists(path)) return [];
        var opts = new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
        return File.ReadLines(path).Where(l => l.Length > 0).Select(l => JsonSerializer.Deserialize<StepMetrics>(l, opts)!).ToList();
    }

    private static IEnumerable<double[]> Csv(string path) => !File.Exists(path) ? [] :
        File.ReadLines(path).Skip(1).Where(l => l.Length > 0).Select(l => l.Split(',').Select(f => f.Length == 0 ? double.NaN : double.Parse(f, CultureInfo.InvariantCulture)).ToArray());

    internal static List<SftStep> ReadSftHistory(string dir) =>
        Csv(Path.Combine(dir, "metrics.csv")).Select(f => new SftStep((int)f[0], f[1], f[2], double.IsNaN(f[3]) ? null : f[3], f[4], f[5], f[6], double.IsNaN(f[7]) ? null : f[7])).ToList();

    private static List<GrpoStep> ReadGrpoHistory(string dir) =>
        Csv(Path.Combine(dir, "metrics.csv")).Select(f => new GrpoStep((int)f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7],
            f.Length > 9 ? (long)f[8] : 0, f.Length > 9 ? f[9] : 0)).ToList();
}
