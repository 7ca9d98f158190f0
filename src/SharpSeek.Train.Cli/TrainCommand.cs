using System.CommandLine;
using SharpSeek.Tasks;
using SharpSeek.Training.Recipe;
using SharpSeek.Training.Training;

namespace SharpSeek.Cli;

/// <summary>
/// <c>sharpseek-train pretrain --config … --data … --out …</c>, <c>sharpseek-train --recipe tiny [--profile smoke]</c> and
/// <c>sharpseek-train tasks</c> (also reached as <c>sharpseek train …</c>, which runs this tool).
/// </summary>
internal static class TrainCommand
{
    /// <summary>The tool's root: the train command's options, subcommands and action.</summary>
    public static RootCommand CreateRoot()
    {
        var train = Create();
        var root = new RootCommand(train.Description!);
        foreach (var o in train.Options) root.Options.Add(o);
        foreach (var c in train.Subcommands) root.Subcommands.Add(c);
        root.Action = train.Action;
        return root;
    }

    public static Command Create()
    {
        var config = new Option<FileInfo>("--config") { Description = "DeepSeek config.json describing the model to train", Required = true };
        var data = new Option<FileInfo>("--data") { Description = "UTF-8 text corpus (byte tokens)", Required = true };
        var output = new Option<DirectoryInfo>("--out") { Description = "run folder: checkpoint/ (re-run to resume), metrics, report, model/ export", Required = true };
        var threads = new Option<int>("--threads") { Description = "torch intra-op threads", DefaultValueFactory = _ => 1 };
        var maxMinutes = new Option<double>("--max-minutes") { Description = "stop and checkpoint after this many minutes (0 = no limit)" };
        var seed = new Option<long>("--seed") { Description = "seed for initialisation and data order", DefaultValueFactory = _ => 1234 };
        var steps = new Option<int>("--steps") { Description = "optimizer steps", DefaultValueFactory = _ => 300 };
        var batch = new Option<int>("--batch") { Description = "sequences per micro-batch", DefaultValueFactory = _ => 8 };
        var seqLen = new Option<int>("--seq-len") { Description = "tokens per sequence", DefaultValueFactory = _ => 65 };
        var lr = new Option<double>("--lr") { Description = "peak learning rate", DefaultValueFactory = _ => 3e-3 };
        var schedule = new Option<string>("--schedule") { Description = "cosine or wsd", DefaultValueFactory = _ => "cosine" };

        var pretrain = new Command("pretrain", "Pretrain a DeepSeek-architecture model (MLA, DeepSeekMoE, MTP) on a text corpus with TorchSharp.");
        foreach (var o in new Option[] { config, data, output, threads, maxMinutes, seed, steps, batch, seqLen, lr, schedule }) pretrain.Options.Add(o);
        pretrain.SetAction(parse =>
        {
            var options = new TrainingOptions
            {
                Threads = parse.GetValue(threads),
                MaxMinutes = parse.GetValue(maxMinutes),
                Seed = parse.GetValue(seed),
                Steps = parse.GetValue(steps),
                BatchSize = parse.GetValue(batch),
                SeqLen = parse.GetValue(seqLen),
                LearningRate = parse.GetValue(lr),
                MinLearningRate = parse.GetValue(lr) / 10,
                Schedule = parse.GetValue(schedule) ?? "cosine",
            };
            Pretrain.Run(parse.GetValue(config)!.FullName, parse.GetValue(data)!.FullName, parse.GetValue(output)!.FullName, options, Console.Out);
            return 0;
        });
        var train = new Command("train", "Train DeepSeek-architecture models: the reasoning recipe (--recipe tiny) or plain pretraining (train pretrain).");
        train.Subcommands.Add(pretrain);
        train.Subcommands.Add(TasksCommand());
        train.Subcommands.Add(MtpCommand());
        var recipe = new Option<string?>("--recipe") { Description = "run the reasoning recipe: tokenizer → pretrain → SFT → GRPO → eval (recipe: tiny)" };
        var profile = new Option<string>("--profile") { Description = "full (the bundled model, ≤ 60 min on 2 cores) or smoke (every stage in seconds, for CI)", DefaultValueFactory = _ => "full" };
        var recipeOut = new Option<DirectoryInfo>("--out") { Description = "run folder (re-run to resume)", DefaultValueFactory = _ => new DirectoryInfo("runs/recipe-tiny") };
        var recipeThreads = new Option<int>("--threads") { Description = "threads: torch's intra-op threads, and the engine's for rollouts and evaluation (unless SHARPSEEK_THREADS is set); the tiny profile's CPU budgets are sized for 2", DefaultValueFactory = _ => 2 };
        var recipeSeed = new Option<long>("--seed") { Description = "seed of data, initialisation and sampling", DefaultValueFactory = _ => 1234 };
        var arch = new Option<string>("--arch") { Description = "deepseek (MLA + MoE + MTP) or dense (the Llama baseline with the same active parameters)", DefaultValueFactory = _ => "deepseek" };
        arch.AcceptOnlyFromAmong("deepseek", "dense");
        var baseline = new Option<DirectoryInfo?>("--compare-with") { Description = "a finished run of the other architecture (e.g. --arch dense) to compare with in the report card" };
        var sftMinutes = new Option<double?>("--sft-minutes") { Description = "override the profile's SFT budget in minutes (CPU minutes for the tiny profile; the cosine schedule follows it)" };
        var grpoMinutes = new Option<double?>("--grpo-minutes") { Description = "override the profile's GRPO budget in minutes (CPU minutes for the tiny profile)" };
        var grpoLr = new Option<double?>("--grpo-lr") { Description = "override the profile's GRPO learning rate" };
        var grpoDifficulties = new Option<string?>("--grpo-difficulties") { Description = "override the difficulties GRPO draws prompts from: comma-separated easy, medium, hard" };
        var grpoSeeds = new Option<int>("--grpo-seeds") { Description = "run GRPO with this many seeds from the SFT model and report the lift on the hardest split with its spread", DefaultValueFactory = _ => 1 };
        foreach (var o in new Option[] { recipe, profile, recipeOut, recipeThreads, recipeSeed, arch, baseline, sftMinutes, grpoMinutes, grpoLr, grpoDifficulties, grpoSeeds }) train.Options.Add(o);
        train.SetAction(parse =>
        {
            string? name = parse.GetValue(recipe);
            if (name is null) throw new SharpSeekException("give --recipe tiny, or a subcommand (pretrain, tasks); see --help");
            if (name != "tiny") throw new SharpSeekException($"unknown recipe '{name}' (tiny)");
            var p = RecipeProfile.Get(parse.GetValue(profile) switch { "full" => "tiny", var x => x ?? "tiny" }) with { Arch = parse.GetValue(arch) ?? "deepseek" };
            if (parse.GetValue(sftMinutes) is double sm) p = p with { SftMinutes = sm };
            if (parse.GetValue(grpoMinutes) is double gm) p = p with { GrpoMinutes = gm };
            if (parse.GetValue(grpoSeeds) is < 1 or > 20) throw new SharpSeekException("--grpo-seeds must be between 1 and 20");
            p = p with { GrpoSeeds = parse.GetValue(grpoSeeds) };
            if (parse.GetValue(grpoLr) is double glr) p = p with { Grpo = p.Grpo with { Stage = p.Grpo.Stage with { LearningRate = glr, MinLearningRate = glr } } };
            if (parse.GetValue(grpoDifficulties) is { } gd)
            {
                var levels = gd.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                if (levels.Length == 0 || levels.Any(l => !TaskGenerator.Difficulties.Contains(l)))
                    throw new SharpSeekException($"--grpo-difficulties: '{gd}' is not a comma-separated list of {string.Join(", ", TaskGenerator.Difficulties)}");
                p = p with { Grpo = p.Grpo with { Difficulties = levels } };
            }
            int threads = parse.GetValue(recipeThreads);
            if (threads < 1) throw new SharpSeekException($"--threads must be ≥ 1, is {threads}");
            // The engine's process-wide pool is sized on first use. Left at one thread per core, its idle worker would
            // spin between the tiny model's kernels and spend the stage's CPU budget (a third of GRPO's) on nothing.
            if (Environment.GetEnvironmentVariable("SHARPSEEK_THREADS") is null)
                Environment.SetEnvironmentVariable("SHARPSEEK_THREADS", threads.ToString(System.Globalization.CultureInfo.InvariantCulture));
            TinyRecipe.Run(p, parse.GetValue(recipeOut)!.FullName, parse.GetValue(recipeSeed), threads, Console.Out, parse.GetValue(baseline)?.FullName);
            return 0;
        });
        return train;
    }

    /// <summary>
    /// <c>sharpseek train mtp --model DIR --out DIR [--minutes 6] [--seed 1234]</c>: the recipe's MTP stage on an existing model —
    /// the MTP layer alone trained on the recipe's SFT data with the main model frozen; writes <c>out/model</c>.
    /// </summary>
    private static Command MtpCommand()
    {
        var model = new Option<DirectoryInfo>("--model") { Description = "a DeepSeek model directory of the recipe (config.json, model.safetensors, tokenizer)", Required = true };
        var output = new Option<DirectoryInfo>("--out") { Description = "run folder (checkpoint/, metrics.csv, model/); re-run to resume", Required = true };
        var minutes = new Option<double>("--minutes") { Description = "budget in CPU minutes of this process", DefaultValueFactory = _ => RecipeProfile.Tiny.MtpMinutes };
        var seed = new Option<long>("--seed") { Description = "seed of the data order", DefaultValueFactory = _ => 1234 };
        var threads = new Option<int>("--threads") { Description = "torch intra-op threads", DefaultValueFactory = _ => 2 };
        var cmd = new Command("mtp", "Train a model's MTP layer alone (the main model frozen) on the recipe's SFT data, so --speculate mtp drafts well.")
            { model, output, minutes, seed, threads };
        cmd.SetAction(parse =>
        {
            string dir = parse.GetValue(model)!.FullName, outDir = parse.GetValue(output)!.FullName;
            SharpSeek.Training.TorchRuntime.Initialise(parse.GetValue(threads));
            var tokenizer = SharpSeek.Tokenization.Tokenizer.FromFile(dir);
            using var m = SharpSeek.Training.Checkpoints.HfImport.Load(dir);
            var p = RecipeProfile.Tiny with { MtpMinutes = parse.GetValue(minutes) };
            TinyRecipe.RunMtp(p, m, tokenizer, dir, parse.GetValue(seed), outDir, CostModel.For(m, p.SftLength), Console.Out);
            Console.Out.WriteLine($"model: {Path.Combine(outDir, "model")}");
            return 0;
        });
        return cmd;
    }

    /// <summary><c>sharpseek train tasks --split test --count N [--category C] [--out FILE]</c>: writes generated problems as JSONL (prompt, answer, category, difficulty, completion).</summary>
    private static Command TasksCommand()
    {
        var split = new Option<string>("--split") { Description = "train, validation or test", DefaultValueFactory = _ => "test" };
        var count = new Option<int>("--count") { Description = "number of problems", DefaultValueFactory = _ => 20 };
        var category = new Option<string?>("--category") { Description = "addition, subtraction, multiplication or expression (default: all)" };
        var seed = new Option<long>("--seed") { Description = "generator seed", DefaultValueFactory = _ => 1 };
        var output = new Option<string?>("--out") { Description = "JSONL file (default: stdout)" };
        var completions = new Option<bool>("--completions") { Description = "include the worked completion" };
        var cmd = new Command("tasks", "Generate held-out or training arithmetic problems as JSONL (the format sharpseek eval --data reads).")
            { split, count, category, seed, output, completions };
        cmd.SetAction(parse =>
        {
            var s = parse.GetValue(split) switch
            {
                "train" => TaskSplit.Train, "validation" or "val" => TaskSplit.Validation, "test" => TaskSplit.Test,
                var x => throw new SharpSeekException($"unknown split '{x}' (train, validation, test)"),
            };
            string[]? cats = parse.GetValue(category) is { } c ? [c] : null;
            if (cats is not null && !TaskGenerator.Categories.Contains(cats[0])) throw new SharpSeekException($"unknown category '{cats[0]}'");
            var items = TaskGenerator.Sample(s, parse.GetValue(count), parse.GetValue(seed), cats);
            using var w = parse.GetValue(output) is { } path ? new StreamWriter(path) : new StreamWriter(Console.OpenStandardOutput());
            bool withCompletion = parse.GetValue(completions);
            foreach (var i in items)
            {
                var o = new Dictionary<string, string> { ["prompt"] = i.Prompt, ["answer"] = i.Answer, ["category"] = i.Category, ["difficulty"] = i.Difficulty };
                if (withCompletion) o["completion"] = i.Completion;
                w.WriteLine(System.Text.Json.JsonSerializer.Serialize(o, new System.Text.Json.JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
            }
            return 0;
        });
        return cmd;
    }
}
