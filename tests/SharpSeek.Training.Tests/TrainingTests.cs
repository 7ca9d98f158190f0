using SharpSeek.Training.Checkpoints;
using SharpSeek.Training.Model;
using SharpSeek.Training.Training;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace SharpSeek.Training.Tests;

public sealed class TrainingTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "sharpseek-train-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, true);
    }

    private static TrainingOptions Quick(int steps) => new()
    {
        Steps = steps, BatchSize = 4, SeqLen = 33, WarmupSteps = 10, LearningRate = 1e-2, MinLearningRate = 1e-3,
        EvalEvery = 50, EvalBatches = 2, LogEvery = 10, CheckpointEvery = 0, ShowProgress = false, Threads = 1,
        BiasUpdateSpeed = 1e-2,
    };

    [Fact]
    public void TinyModelLearnsMainAndMtpLossFall()
    {
        var o = Quick(150);
        using var model = Trainer.CreateModel(TinyConfigs.V3, o);
        var trainer = new Trainer(model, TinyConfigs.Corpus(), o, _dir);
        var report = trainer.Run();
        var h = trainer.History;
        double First(Func<StepMetrics, double> f) => h.Take(10).Average(f);
        double Last(Func<StepMetrics, double> f) => h.TakeLast(20).Average(f);
        output.WriteLine($"main {First(m => m.MainLoss):F3} → {Last(m => m.MainLoss):F3}; mtp {First(m => m.MtpLoss!.Value):F3} → {Last(m => m.MtpLoss!.Value):F3}; val {report.FinalValidationLoss:F3}; {report.TokensPerSecond:F0} tok/s; {report.ActiveParameters} active / {report.TotalParameters} params");
        Assert.Equal(150, report.StepsDone);
        Assert.True(Last(m => m.MainLoss) < First(m => m.MainLoss) - 2, "main loss did not fall");
        Assert.True(Last(m => m.MtpLoss!.Value) < First(m => m.MtpLoss!.Value) - 1.5, "MTP loss did not fall");
        Assert.NotNull(report.FinalValidationLoss);
        Assert.True(report.FinalValidationLoss < 2.0, $"validation loss {report.FinalValidationLoss}");
        Assert.True(report.TrainingFlops > 6.0 * report.ActiveParameters * report.Tokens);
        foreach (var f in new[] { "metrics.csv", "metrics.jsonl", "report.json", "report.md", "checkpoint/model.safetensors", "checkpoint/optimizer.bin", "checkpoint/state.json" })
            Assert.True(File.Exists(Path.Combine(_dir, f)), f);
        Assert.StartsWith("step,tokens,lr,loss", File.ReadLines(Path.Combine(_dir, "metrics.csv")).First());
    }

    [Fact]
    public void BiasBalancingReducesExpertLoadDuringTraining()
    {
        // Same skewed start, same data: with bias updates the max/mean expert load falls below the run without them.
        (double First, double Last) Run(double speed, string sub)
        {
            var o = Quick(120) with { BiasUpdateSpeed = speed };
            using var model = Trainer.CreateModel(TinyConfigs.V3, o);
            using (no_grad())
                foreach (var (_, moe) in model.MoeLayers()) moe.Gate.Weight.narrow(0, 0, 2).add_(1.0);
            var trainer = new Trainer(model, TinyConfigs.Corpus(), o, Path.Combine(_dir, sub));
            trainer.Run();
            var h = trainer.History;
            return (h.Take(5).Average(m => m.MaxLoadRatio), h.TakeLast(20).Average(m => m.MaxLoadRatio));
        }
        var balanced = Run(2e-2, "balanced");
        var plain = Run(0, "plain");
        output.WriteLine($"max/mean load with bias updates {balanced.First:F2} → {balanced.Last:F2}; without {plain.First:F2} → {plain.Last:F2}");
        Assert.True(balanced.Last < balanced.First, $"load skew did not fall: {balanced.First:F2} → {balanced.Last:F2}");
        Assert.True(balanced.Last < plain.Last, $"bias balancing ({balanced.Last:F2}) not better than none ({plain.Last:F2})");
    }

    [Fact]
    public void BiasBalancingReducesExpertLoadSkew()
    {
        TorchRuntime.Initialise(1);
        manual_seed(5);
        using var model = new DeepSeekModel(TinyConfigs.V3);
        model.InitialiseWeights();
        var moe = model.MoeLayers().First().Moe;
        using (no_grad())
        {
            // Skew the router: experts 0 and 1 score high for every token.
            moe.Gate.Weight.narrow(0, 0, 2).add_(1.0);
        }
        using var x = randn(4, 32, 32) + 1; // positive mean, so the raised rows win for every token
        double Ratio()
        {
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            moe.ResetLoad();
            moe.Forward(x, new ForwardContext { RecordLoad = true });
            return moe.LoadRatio();
        }
        double before = Ratio();
        for (int i = 0; i < 300; i++)
        {
            Ratio();
            moe.UpdateBias(5e-3);
        }
        double after = Ratio();
        output.WriteLine($"max/mean expert load: {before:F2} → {after:F2}");
        Assert.True(before > 2.0, $"the skewed router should be unbalanced, max/mean {before:F2}");
        Assert.True(after < before / 2, $"bias updates did not balance the load: {before:F2} → {after:F2}");
        Assert.True(after < 2.0, $"max/mean load {after:F2} after balancing");
    }

    [Fact]
    public void ResumedRunEqualsUninterruptedRun()
    {
        var full = Quick(12) with { EvalEvery = 0 };
        using var a = Trainer.CreateModel(TinyConfigs.V3, full);
        new Trainer(a, TinyConfigs.Corpus(500), full, Path.Combine(_dir, "a")).Run();

        using var b = Trainer.CreateModel(TinyConfigs.V3, full);
        new Trainer(b, TinyConfigs.Corpus(500), full, Path.Combine(_dir, "b")).Run();
        // c/d: the same run stopped after 6 steps, then resumed from its checkpoint into a freshly built model.
        using var c = Trainer.CreateModel(TinyConfigs.V3, full);
        var half = full with { StopAfterSteps = 6 };
        var first = new Trainer(c, TinyConfigs.Corpus(500), half, Path.Combine(_dir, "c")).Run();
        Assert.Equal(6, first.StepsDone);
        using var d = Trainer.CreateModel(TinyConfigs.V3, full with { InitStd = 0.05 }); // different start weights: the checkpoint must replace them
        var second = new Trainer(d, TinyConfigs.Corpus(500), full, Path.Combine(_dir, "c")).Run();
        Assert.True(second.Resumed);
        Assert.Equal(12, second.StepsDone);

        var pa = a.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        var pb = b.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var (name, p) in d.named_parameters())
        {
            Assert.True((pa[name] - pb[name]).abs().max().item<float>() == 0, $"two identical runs differ at {name}");
            double diff = (p - pa[name]).abs().max().item<float>();
            Assert.True(diff == 0, $"resumed run differs at {name} by {diff}");
        }
    }

    [Fact]
    public void ExportThenImportReproducesLogitsAndWritesTheHfLayout()
    {
        var o = Quick(1);
        using var model = Trainer.CreateModel(TinyConfigs.V3, o);
        using (no_grad())
            foreach (var (_, moe) in model.MoeLayers()) moe.Gate.Bias!.copy_(randn(8) * 0.1);
        string dir = Path.Combine(_dir, "export");
        HfExport.Save(model, dir);
        foreach (var f in new[] { "config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "generation_config.json" })
            Assert.True(File.Exists(Path.Combine(dir, f)), f);
        using (var st = new SharpSeek.Formats.Safetensors.SafetensorsFile(Path.Combine(dir, "model.safetensors")))
        {
            Assert.Contains("model.layers.1.mlp.gate.e_score_correction_bias", st.Entries.Keys);
            Assert.Contains("model.layers.2.eh_proj.weight", st.Entries.Keys);
            Assert.Contains("model.layers.2.shared_head.head.weight", st.Entries.Keys);
            Assert.Contains("model.layers.2.embed_tokens.weight", st.Entries.Keys);
            Assert.Equal("F32", st.Entries["model.layers.1.mlp.gate.e_score_correction_bias"].DType);
        }
        using var back = HfImport.Load(dir);
        Assert.Equal(model.Config with { EosTokenIds = [] }, back.Config with { EosTokenIds = [] });
        Assert.Equal(model.Config.EosTokenIds, back.Config.EosTokenIds);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var tokens = randint(0, 258, [2, 40]);
        var (l1, h1) = model.Forward(tokens);
        var (l2, _) = back.Forward(tokens);
        Assert.Equal(0, (l1 - l2).abs().max().item<float>());
        Assert.Equal(0, (model.MtpLogits(tokens, h1) - back.MtpLogits(tokens, h1)).abs().max().item<float>());
    }
}
