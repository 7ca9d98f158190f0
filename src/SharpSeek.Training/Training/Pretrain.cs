using SharpSeek.Models;
using SharpSeek.Training.Checkpoints;
using SharpSeek.Training.Data;

namespace SharpSeek.Training.Training;

/// <summary>
/// <c>sharpseek train pretrain</c>: trains a model described by a DeepSeek <c>config.json</c> on a UTF-8 text
/// corpus (byte tokens), checkpointing into <c>OUT/checkpoint</c> (re-running the command resumes) and exporting
/// the result to <c>OUT/model</c> in the Hugging Face layout the engine loads.
/// </summary>
public static class Pretrain
{
    public static TrainingReport Run(string configPath, string dataPath, string outDir, TrainingOptions options, TextWriter log)
    {
        var cfg = ModelConfig.Load(configPath);
        if (cfg.Family != ModelFamily.DeepSeek) throw new SharpSeekException($"{Path.GetFileName(configPath)}: the trainer builds DeepSeek-V2/V3 models, not {cfg.Architecture}");
        if (cfg.VocabSize < ByteTokenizer.VocabSize) throw new SharpSeekException($"{Path.GetFileName(configPath)}: vocab_size {cfg.VocabSize} is below the byte tokenizer's {ByteTokenizer.VocabSize}");
        if (!File.Exists(dataPath)) throw new SharpSeekException($"{dataPath}: data file not found");
        cfg = cfg with { BosTokenId = ByteTokenizer.Bos, EosTokenIds = [ByteTokenizer.Eos] };
        var data = TokenData.FromTextFile(dataPath);
        using var model = Trainer.CreateModel(cfg, options);
        var report = new Trainer(model, data, options, outDir).Run();
        string export = Path.Combine(outDir, "model");
        HfExport.Save(model, export);
        log.WriteLine($"trained {report.StepsDone} steps, {report.Tokens:N0} tokens in {report.WallSeconds:F1} s ({report.TokensPerSecond:F0} tokens/s); " +
                      $"loss {report.FinalLoss:F4}, validation {report.FinalValidationLoss:F4}; cost ${report.CostDollars:F4} at ${report.PricePerCoreHour}/core-hour");
        log.WriteLine($"model exported to {export}; report in {Path.Combine(outDir, "report.md")}");
        return report;
    }
}
