using SharpSeek.Models;
using SharpSeek.Serving;

namespace SharpSeek.Tests.Models;

/// <summary>Loading for serving pages every weight in and reports it: monotone bytes done, ending at the total.</summary>
public sealed class LoadProgressTests
{
    /// <summary>Keeps reports in arrival order on the reporting thread (Progress&lt;T&gt; would post them elsewhere).</summary>
    private sealed class Recorder : IProgress<LoadProgress>
    {
        public List<LoadProgress> Reports { get; } = [];
        public void Report(LoadProgress value) => Reports.Add(value);
    }

    [Theory]
    [InlineData("tiny-qwen2-f32.gguf")]
    [InlineData("tiny-ds2-v3-q8_0.gguf")]
    public void Progress_is_monotone_and_reaches_the_weight_bytes(string file)
    {
        string path = Fixtures.Path("llamacpp", "models", file);
        var recorder = new Recorder();
        using var model = ModelLoader.Load(path, recorder);

        var r = recorder.Reports;
        Assert.True(r.Count >= 2, $"only {r.Count} reports");
        long total = model.WeightBytes;
        // The weights are nearly all of a GGUF file; the rest is metadata and the vocabulary.
        Assert.InRange(total, new FileInfo(path).Length / 2, new FileInfo(path).Length);
        Assert.All(r, p => Assert.Equal(total, p.BytesTotal));
        Assert.Equal(0, r[0].BytesDone);
        Assert.Equal(total, r[^1].BytesDone);
        Assert.Equal(1.0, r[^1].Fraction);
        for (int i = 1; i < r.Count; i++) Assert.True(r[i].BytesDone >= r[i - 1].BytesDone, $"report {i} went back: {r[i - 1].BytesDone} → {r[i].BytesDone}");
    }

    [Fact]
    public void A_model_larger_than_the_memory_budget_is_left_to_page_in_on_demand()
    {
        using var model = ModelLoader.Load(Fixtures.Path("llamacpp", "models", "tiny-qwen2-f32.gguf"));
        var recorder = new Recorder();
        model.PageIn(recorder, memoryBudget: model.WeightBytes - 1);
        Assert.Equal([new LoadProgress(0, model.WeightBytes), new LoadProgress(model.WeightBytes, model.WeightBytes)], recorder.Reports);
        var all = new Recorder();
        model.PageIn(all, memoryBudget: model.WeightBytes);
        Assert.True(all.Reports.Count >= 2);
    }

    [Fact]
    public void The_bundle_loader_passes_progress_through_and_the_model_still_answers()
    {
        var recorder = new Recorder();
        using var bundle = ModelBundle.Load(Fixtures.Path("llamacpp", "models", "tiny-qwen2-f32.gguf"), progress: recorder);
        Assert.Equal(bundle.Model.WeightBytes, recorder.Reports[^1].BytesDone);

        // Paging in must not disturb the weights: same logits as a model opened without it.
        using var plain = ModelLoader.Load(Fixtures.Path("llamacpp", "models", "tiny-qwen2-f32.gguf"));
        var a = new float[plain.Config.VocabSize];
        var b = new float[plain.Config.VocabSize];
        bundle.Model.Forward(bundle.Model.CreateState(16), [1, 2, 3], a);
        plain.Forward(plain.CreateState(16), [1, 2, 3], b);
        Assert.Equal(b, a);
    }
}
