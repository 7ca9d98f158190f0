using SharpSeek.Models;
using Xunit.Abstractions;

namespace SharpSeek.Tests.Engine;

/// <summary>
/// Logits, per-layer hidden states and expert choices against DeepSeek's official model.py
/// (random-weight tiny checkpoints, float32). Tolerance 1e-4 absolute: two correct float32
/// implementations differ by ~5e-6 here.
/// </summary>
public sealed class DeepSeekGoldenTests(ITestOutputHelper output)
{
    public const float Tolerance = 1e-4f;

    public static TheoryData<string> Names => new(GoldenData.DeepSeekFixtures);

    [Theory, MemberData(nameof(Names))]
    public void DecodeLogitsMatchModelPy(string name)
    {
        using var model = ModelLoader.Load(GoldenData.Dir(name));
        int[] tokens = GoldenData.Tokens(name);
        var expected = GoldenData.Floats(System.IO.Path.Combine(GoldenData.Dir(name), "logits.bin"));
        int v = model.Config.VocabSize, layers = model.Config.NumHiddenLayers, d = model.Config.HiddenSize;
        var state = model.CreateState();
        var recorder = new Recorder(tokens.Length, layers + 2, d);
        state.Observer = recorder;
        var logits = new float[v];
        float worst = 0;
        for (int t = 0; t < tokens.Length; t++)
        {
            model.Forward(state, tokens.AsSpan(t, 1), logits);
            float err = GoldenData.MaxAbsDiff(logits, expected.AsSpan(t * v, v));
            Assert.True(err <= Tolerance, $"{name}: position {t}: max |logit - golden| = {err}");
            worst = Math.Max(worst, err);
        }
        output.WriteLine($"{name} decode: max |logit - golden| = {worst:E2}");
        CheckHidden(name, recorder, tokens.Length, layers, d);
        CheckRouting(name, recorder);
    }

    [Theory, MemberData(nameof(Names))]
    public void PrefillLogitsMatchModelPy(string name)
    {
        using var model = ModelLoader.Load(GoldenData.Dir(name));
        int[] tokens = GoldenData.Tokens(name);
        var expected = GoldenData.Floats(System.IO.Path.Combine(GoldenData.Dir(name), "logits.bin"));
        int v = model.Config.VocabSize, layers = model.Config.NumHiddenLayers, d = model.Config.HiddenSize;
        var state = model.CreateState();
        var recorder = new Recorder(tokens.Length, layers + 2, d);
        state.Observer = recorder;
        var logits = new float[tokens.Length * v];
        model.Forward(state, tokens, logits, allLogits: true);
        float worst = 0;
        for (int t = 0; t < tokens.Length; t++)
        {
            float err = GoldenData.MaxAbsDiff(logits.AsSpan(t * v, v), expected.AsSpan(t * v, v));
            Assert.True(err <= Tolerance, $"{name}: prefill position {t}: max |logit - golden| = {err}");
            worst = Math.Max(worst, err);
        }
        output.WriteLine($"{name} prefill: max |logit - golden| = {worst:E2}");
        CheckHidden(name, recorder, tokens.Length, layers, d);
        CheckRouting(name, recorder);
    }

    [Theory, MemberData(nameof(Names))]
    public void PrefillThenDecodeAndRewindMatchModelPy(string name)
    {
        using var model = ModelLoader.Load(GoldenData.Dir(name));
        int[] tokens = GoldenData.Tokens(name);
        var expected = GoldenData.Floats(System.IO.Path.Combine(GoldenData.Dir(name), "logits.bin"));
        int v = model.Config.VocabSize, split = tokens.Length / 2;
        var state = model.CreateState();
        var logits = new float[v];
        // Prompt in one call, then one token at a time: the usual chat pattern.
        model.Forward(state, tokens.AsSpan(0, split), logits);
        Assert.True(GoldenData.MaxAbsDiff(logits, expected.AsSpan((split - 1) * v, v)) <= Tolerance);
        for (int t = split; t < tokens.Length; t++)
        {
            model.Forward(state, tokens.AsSpan(t, 1), logits);
            Assert.True(GoldenData.MaxAbsDiff(logits, expected.AsSpan(t * v, v)) <= Tolerance, $"{name}: position {t} after a {split}-token prefill");
        }
        // Rewinding drops the tail of the cache; replaying it reproduces the same logits.
        state.Truncate(split);
        model.Forward(state, tokens.AsSpan(split, tokens.Length - split), logits);
        Assert.True(GoldenData.MaxAbsDiff(logits, expected.AsSpan((tokens.Length - 1) * v, v)) <= Tolerance);
    }

    private static void CheckHidden(string name, Recorder recorder, int tokens, int layers, int d)
    {
        var expected = GoldenData.Floats(System.IO.Path.Combine(GoldenData.Dir(name), "hidden.bin"));
        int count = layers + 2;
        for (int i = 0; i < count; i++)
        {
            float err = 0;
            for (int t = 0; t < tokens; t++)
            {
                int off = (t * count + i) * d;
                err = Math.Max(err, GoldenData.MaxAbsDiff(recorder.Hidden.AsSpan(off, d), expected.AsSpan(off, d)));
            }
            string what = i == 0 ? "embedding" : i == count - 1 ? "final norm" : $"block {i - 1} output";
            Assert.True(err <= Tolerance, $"{name}: {what}: max |hidden - golden| = {err}");
        }
    }

    private static void CheckRouting(string name, Recorder recorder)
    {
        foreach (var (layer, steps) in GoldenData.Routing(name))
        {
            for (int t = 0; t < steps.Count; t++)
            {
                Assert.True(recorder.Routing.TryGetValue((layer, t), out var got), $"{name}: no routing recorded for layer {layer} position {t}");
                var want = steps[t];
                Assert.True(want.Experts.Order().SequenceEqual(got.Experts.Order()),
                    $"{name}: layer {layer} position {t}: experts [{string.Join(",", got.Experts)}], golden [{string.Join(",", want.Experts)}]");
                for (int k = 0; k < want.Experts.Length; k++)
                {
                    int j = Array.IndexOf(got.Experts, want.Experts[k]);
                    Assert.True(Math.Abs(got.Weights[j] - want.Weights[k]) <= 1e-5f, $"{name}: layer {layer} position {t}: expert {want.Experts[k]} weight {got.Weights[j]} vs golden {want.Weights[k]}");
                }
            }
        }
    }
}
