using System.Text.Json;

namespace SharpSeek.Tests.Engine;

/// <summary>Reads the DeepSeek golden fixtures (produced by DeepSeek's own inference/model.py).</summary>
public static class GoldenData
{
    public static readonly string[] DeepSeekFixtures = ["v3-tiny", "v2lite-tiny", "v3-tiny-fp8"];

    public static string Dir(string name) => Fixtures.Path("deepseek", name);

    public static int[] Tokens(string name)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(System.IO.Path.Combine(Dir(name), "tokens.json")));
        return doc.RootElement.GetProperty("tokens").EnumerateArray().Select(e => e.GetInt32()).ToArray();
    }

    public static float[] Floats(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var result = new float[bytes.Length / 4];
        Buffer.BlockCopy(bytes, 0, result, 0, result.Length * 4);
        return result;
    }

    /// <summary>Per MoE layer, per step: the expert set and weights chosen by the official gate.</summary>
    public static Dictionary<int, List<(int[] Experts, float[] Weights)>> Routing(string name)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(System.IO.Path.Combine(Dir(name), "routing.json")));
        var result = new Dictionary<int, List<(int[], float[])>>();
        foreach (var layer in doc.RootElement.GetProperty("layers").EnumerateObject())
        {
            var steps = new List<(int[], float[])>();
            foreach (var step in layer.Value.EnumerateArray())
                steps.Add((step.GetProperty("experts").EnumerateArray().Select(e => e.GetInt32()).ToArray(),
                           step.GetProperty("weights").EnumerateArray().Select(e => e.GetSingle()).ToArray()));
            result[int.Parse(layer.Name)] = steps;
        }
        return result;
    }

    public static float MaxAbsDiff(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        Assert.Equal(a.Length, b.Length);
        float max = 0;
        for (int i = 0; i < a.Length; i++)
        {
            float d = Math.Abs(a[i] - b[i]);
            if (float.IsNaN(d)) return float.NaN;
            max = Math.Max(max, d);
        }
        return max;
    }
}
