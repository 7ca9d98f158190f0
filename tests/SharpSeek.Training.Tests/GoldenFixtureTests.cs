using System.Text.Json;
using SharpSeek.Formats.Safetensors;
using SharpSeek.Tests;
using SharpSeek.Training.Checkpoints;
using SharpSeek.Training.Model;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace SharpSeek.Training.Tests;

/// <summary>
/// Cross-checks against DeepSeek's own model.py (shared fixtures): (a) the full-sequence causal forward reproduces
/// the golden logits; (b) loss and every parameter gradient match PyTorch autograd through model.py.
/// </summary>
public sealed class GoldenFixtureTests(ITestOutputHelper output)
{
    public static TheoryData<string> Names => new() { "v3-tiny", "v2lite-tiny", "v3-tiny-fp8" };

    private static string Dir(string name) => Fixtures.Path("deepseek", name);

    private static long[] Tokens(string name)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(Dir(name), "tokens.json")));
        return doc.RootElement.GetProperty("tokens").EnumerateArray().Select(e => e.GetInt64()).ToArray();
    }

    private static float[] Floats(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var result = new float[bytes.Length / 4];
        Buffer.BlockCopy(bytes, 0, result, 0, result.Length * 4);
        return result;
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void FullSequenceForwardMatchesGoldenLogits(string name)
    {
        TorchRuntime.Initialise(1);
        using var scope = NewDisposeScope();
        using var model = HfImport.Load(Dir(name));
        long[] tokens = Tokens(name);
        float[] golden = Floats(Path.Combine(Dir(name), "logits.bin"));
        using var _ = no_grad();
        var (logits, _) = model.Forward(tensor(tokens).unsqueeze(0));
        float[] ours = logits.reshape(-1).data<float>().ToArray();
        Assert.Equal(golden.Length, ours.Length);
        double maxDiff = 0;
        for (int i = 0; i < ours.Length; i++) maxDiff = Math.Max(maxDiff, Math.Abs(ours[i] - golden[i]));
        output.WriteLine($"{name}: max |logits − golden| = {maxDiff:E2} over {tokens.Length} positions");
        Assert.True(maxDiff <= 1e-4, $"{name}: max logit deviation {maxDiff:E3} > 1e-4");
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void LossAndGradientsMatchPyTorchAutograd(string name)
    {
        TorchRuntime.Initialise(1);
        using var scope = NewDisposeScope();
        using var model = HfImport.Load(Dir(name));
        using var goldenDoc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(Dir(name), "grads.json")));
        double goldenLoss = goldenDoc.RootElement.GetProperty("loss").GetDouble();

        var loss = model.Loss(tensor(Tokens(name)).unsqueeze(0));
        loss.Total.backward();
        double ours = loss.Total.item<float>();
        output.WriteLine($"{name}: loss {ours:R} golden {goldenLoss:R} |Δ| = {Math.Abs(ours - goldenLoss):E2}");
        Assert.True(Math.Abs(ours - goldenLoss) <= 1e-5, $"{name}: loss {ours} vs golden {goldenLoss}");

        var ourGrads = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.grad);
        using var grads = new SafetensorsFile(Path.Combine(Dir(name), "grads.safetensors"));
        string mtpPrefix = $"model.layers.{model.Config.NumHiddenLayers}.";
        double worstRel = 0, worstAbs = 0;
        string worst = "";
        var failures = new List<string>();
        foreach (var (tensorName, _) in grads.Entries)
        {
            float[] g = grads.GetTensor(tensorName).ToFloat32();
            double gMax = g.Max(Math.Abs);
            float[]? mine = null;
            if (ourGrads.TryGetValue(tensorName, out var grad)) mine = grad?.reshape(-1).data<float>().ToArray();
            else if (!tensorName.StartsWith(mtpPrefix, StringComparison.Ordinal))
            {
                failures.Add($"{tensorName}: not a parameter of the model");
                continue;
            }
            // No gradient (the MTP layer outside this loss, the aliases of the MTP head, the gate bias) means zeros.
            mine ??= new float[g.Length];
            Assert.Equal(g.Length, mine.Length);
            double diff = 0;
            for (int i = 0; i < g.Length; i++) diff = Math.Max(diff, Math.Abs(mine[i] - g[i]));
            if (gMax == 0)
            {
                if (diff != 0) failures.Add($"{tensorName}: golden gradient is zero, ours has max {diff:E2}");
                continue;
            }
            worstAbs = Math.Max(worstAbs, diff);
            double rel = diff / gMax;
            if (rel > worstRel) { worstRel = rel; worst = tensorName; }
            if (rel > 1e-4) failures.Add($"{tensorName}: max|g − golden| / max|golden| = {rel:E2}");
        }
        output.WriteLine($"{name}: {grads.Entries.Count} gradient tensors, worst relative deviation {worstRel:E2} ({worst}), max absolute {worstAbs:E2}");
        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(20)));
    }
}
