using SharpSeek.Generation;
using SharpSeek.Models;
using SharpSeek.Tests.Engine;

namespace SharpSeek.Tests.Generation;

public sealed class GeneratorTests
{
    private static Transformer Load() => ModelLoader.Load(GoldenData.Dir("v3-tiny"));

    [Fact]
    public void GreedyGenerationFollowsTheArgmaxOfTheLogits()
    {
        using var model = Load();
        int[] prompt = [0, 56, 47, 86];
        var generated = new Generator(model).Generate(prompt, new GenerationOptions { MaxTokens = 12, IgnoreEos = true }).ToArray();
        Assert.Equal(12, generated.Length);
        // Re-derive each token from a full prefill of the sequence so far.
        var seq = prompt.ToList();
        int v = model.Config.VocabSize;
        foreach (int token in generated)
        {
            var logits = new float[v];
            model.Forward(model.CreateState(), seq.ToArray(), logits);
            Assert.Equal(Sampler.ArgMax(logits), token);
            seq.Add(token);
        }
    }

    [Fact]
    public void StopsAtStopTokensAndReportsWhy()
    {
        using var model = Load();
        int[] prompt = [0, 56, 47, 86];
        var gen = new Generator(model);
        var free = gen.Generate(prompt, new GenerationOptions { MaxTokens = 8, IgnoreEos = true }).ToArray();
        Assert.Equal(FinishReason.Length, gen.LastFinishReason);
        var stopped = gen.Generate(prompt, new GenerationOptions { MaxTokens = 8, IgnoreEos = true, StopTokens = [free[3]] }).ToArray();
        Assert.Equal(FinishReason.Stop, gen.LastFinishReason);
        Assert.Equal(free[..Array.IndexOf(free, free[3])], stopped);
    }

    [Fact]
    public void SeededSamplingIsReproducible()
    {
        using var model = Load();
        var options = new GenerationOptions { MaxTokens = 16, IgnoreEos = true, Sampling = new SamplingOptions { Temperature = 1, TopP = 0.95f, TopK = 50, Seed = 1234 } };
        var gen = new Generator(model);
        var a = gen.Generate([0, 5], options).ToArray();
        var b = gen.Generate([0, 5], options).ToArray();
        Assert.Equal(a, b);
    }

    [Fact]
    public void DecodeStepsAllocateNothing()
    {
        foreach (var name in new[] { "v3-tiny", "v2lite-tiny" })
        {
            using var model = ModelLoader.Load(GoldenData.Dir(name));
            var state = model.CreateState(256);
            var logits = new float[model.Config.VocabSize];
            var one = new int[1];
            var sampler = new Sampler(model.Config.VocabSize, new SamplingOptions { Temperature = 0.8f, TopK = 20, TopP = 0.9f, Seed = 1 });
            model.Forward(state, [0, 1, 2, 3], logits);
            // Warm up so the cache has grown past the measured steps and every path is compiled. Per-worker scratch (attention
            // scores, sized by the length) grows the first time a worker needs more, and which worker runs which item varies
            // from step to step; under load the calling thread once met a size in the measured steps that it had not met in a
            // single warm-up pass (3,064 bytes). Several passes over the measured lengths let every worker meet every size.
            for (int pass = 0; pass < 5; pass++)
            {
                state.Truncate(4);
                for (int i = 0; i < 40; i++) { one[0] = sampler.Sample(logits); model.Forward(state, one, logits); }
            }
            state.Truncate(4);
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 30; i++) { one[0] = sampler.Sample(logits); model.Forward(state, one, logits); }
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.True(allocated == 0, $"{name}: {allocated} bytes allocated in 30 decode steps");
        }
    }
}
