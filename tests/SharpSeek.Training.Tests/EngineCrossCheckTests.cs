using SharpSeek.Models;
using SharpSeek.Training.Checkpoints;
using SharpSeek.Training.Training;
using static TorchSharp.torch;

namespace SharpSeek.Training.Tests;

/// <summary>Issue 5 cross-check (c): a model exported by the trainer runs in the C# engine and gives the same logits as TorchSharp.</summary>
public sealed class EngineCrossCheckTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "sharpseek-xcheck-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public void ExportedModelRunsInTheEngineWithTheSameLogits()
    {
        TorchRuntime.Initialise(threads: 1);
        var options = new TrainingOptions { Seed = 11 };
        using var model = Trainer.CreateModel(TinyConfigs.V3, options);
        using (no_grad())
            foreach (var (_, moe) in model.MoeLayers()) moe.Gate.Bias!.copy_(randn(8) * 0.1);
        HfExport.Save(model, _dir);

        int[] ids = Enumerable.Range(0, 48).Select(i => (i * 37 + 11) % 258).ToArray();
        float[] expected;
        using (var scope = NewDisposeScope())
        using (no_grad())
        {
            var (logits, _) = model.Forward(tensor(ids.Select(i => (long)i).ToArray()).reshape(1, ids.Length));
            expected = logits.reshape(-1).data<float>().ToArray();
        }

        using var engine = ModelLoader.Load(_dir);
        int v = engine.Config.VocabSize;
        var prefill = new float[ids.Length * v];
        engine.Forward(engine.CreateState(), ids, prefill, allLogits: true);
        var decode = new float[ids.Length * v];
        var state = engine.CreateState();
        for (int t = 0; t < ids.Length; t++) engine.Forward(state, ids.AsSpan(t, 1), decode.AsSpan(t * v, v));

        float maxPrefill = 0, maxDecode = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            maxPrefill = Math.Max(maxPrefill, Math.Abs(prefill[i] - expected[i]));
            maxDecode = Math.Max(maxDecode, Math.Abs(decode[i] - expected[i]));
        }
        Assert.True(maxPrefill <= 1e-4f, $"engine prefill vs TorchSharp: max |Δlogit| = {maxPrefill}");
        Assert.True(maxDecode <= 1e-4f, $"engine decode vs TorchSharp: max |Δlogit| = {maxDecode}");
        Assert.Equal(1, engine.MtpModuleCount);
    }

    [Fact]
    public void DenseBaselineExportsAsLlamaAndRunsInTheEngineWithTheSameLogits()
    {
        TorchRuntime.Initialise(threads: 1);
        var cfg = (SharpSeek.Training.Recipe.RecipeProfile.Smoke with { Arch = "dense" }).ModelConfig();
        Assert.Equal("LlamaForCausalLM", cfg.Architecture);
        using var model = Trainer.CreateModel(cfg, new TrainingOptions { Seed = 5, InitStd = 0.1 });
        Assert.Empty(model.MoeLayers());
        HfExport.Save(model, _dir, byteTokenizer: false);

        int[] ids = Enumerable.Range(0, 40).Select(i => (i * 53 + 7) % cfg.VocabSize).ToArray();
        float[] expected;
        using (var scope = NewDisposeScope())
        using (no_grad())
        {
            var (logits, _) = model.Forward(tensor(ids.Select(i => (long)i).ToArray()).reshape(1, ids.Length));
            expected = logits.reshape(-1).data<float>().ToArray();
        }
        using var engine = ModelLoader.Load(_dir);
        Assert.Equal(ModelFamily.Dense, engine.Config.Family);
        int v = engine.Config.VocabSize;
        var decode = new float[ids.Length * v];
        var state = engine.CreateState();
        for (int t = 0; t < ids.Length; t++) engine.Forward(state, ids.AsSpan(t, 1), decode.AsSpan(t * v, v));
        float max = 0;
        for (int i = 0; i < expected.Length; i++) max = Math.Max(max, Math.Abs(decode[i] - expected[i]));
        Assert.True(max <= 1e-4f, $"engine decode vs TorchSharp (dense): max |Δlogit| = {max}");
        // The check means something only if the logits are not flat.
        Assert.True(expected.Max() - expected.Min() > 0.5f);
    }

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
