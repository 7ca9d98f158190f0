using System.CommandLine;
using SharpSeek.Training.Training;

namespace SharpSeek.Cli;

/// <summary><c>sharpseek train pretrain --config … --data … --out …</c>.</summary>
internal static class TrainCommand
{
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
        var train = new Command("train", "Train DeepSeek-architecture models.");
        train.Subcommands.Add(pretrain);
        return train;
    }
}
