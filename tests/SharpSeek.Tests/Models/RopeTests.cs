using System.Text.Json;
using SharpSeek.Models;
using SharpSeek.Tests.Engine;

namespace SharpSeek.Tests.Models;

public sealed class RopeTests
{
    public static TheoryData<string> Names => new(GoldenData.DeepSeekFixtures);

    [Theory, MemberData(nameof(Names))]
    public void YarnInverseFrequenciesAndSoftmaxScaleMatchModelPy(string name)
    {
        var config = ModelConfig.Load(System.IO.Path.Combine(GoldenData.Dir(name), "config.json"));
        using var meta = JsonDocument.Parse(File.ReadAllBytes(System.IO.Path.Combine(GoldenData.Dir(name), "meta.json")));
        var expected = meta.RootElement.GetProperty("rope_inv_freq").EnumerateArray().Select(e => e.GetSingle()).ToArray();
        var rope = new Rope(config.QkRopeHeadDim, config.RopeTheta, config.RopeScaling, null, config.RopeLayout);
        Assert.Equal(expected.Length, rope.InverseFrequencies.Length);
        for (int j = 0; j < expected.Length; j++)
            Assert.True(Math.Abs(expected[j] - rope.InverseFrequencies[j]) <= 1e-7 * Math.Abs(expected[j]) + 1e-12, $"j={j}: {rope.InverseFrequencies[j]} vs {expected[j]}");
        double scale = Math.Pow(config.QkHeadDim, -0.5) * Math.Pow(Rope.SoftmaxMscale(config.RopeScaling), 2);
        Assert.Equal(meta.RootElement.GetProperty("softmax_scale").GetDouble(), scale, 1e-9);
    }

    [Fact]
    public void WithoutScalingFrequenciesArePlainAndNoMscale()
    {
        var rope = new Rope(8, 10000, null, null, RopeLayout.Interleaved);
        for (int j = 0; j < 4; j++) Assert.Equal(Math.Pow(10000, -2.0 * j / 8), rope.InverseFrequencies[j], 1e-7 * Math.Pow(10000, -2.0 * j / 8));
        Assert.Equal(1, Rope.SoftmaxMscale(null));
        Assert.Equal(1f, rope.AttentionFactor);
    }

    [Fact]
    public void Llama3ScalingFollowsItsDefinition()
    {
        // Llama-3.1 settings: factor 8, low 1, high 4, original context 8192, head dim 128, theta 500000.
        var s = new RopeScaling { Type = "llama3", Factor = 8, LowFreqFactor = 1, HighFreqFactor = 4, OriginalMaxPositionEmbeddings = 8192 };
        var rope = new Rope(128, 500000, s, null, RopeLayout.HalfSplit);
        for (int j = 0; j < 64; j++)
        {
            double f = (float)Math.Pow(500000, -2.0 * j / 128), wavelen = 2 * Math.PI / f;
            double expected = wavelen < 8192 / 4.0 ? f : wavelen > 8192 ? f / 8 : double.NaN;
            if (double.IsNaN(expected)) { Assert.InRange(rope.InverseFrequencies[j], f / 8 * 0.999, f * 1.001); continue; }
            Assert.Equal(expected, rope.InverseFrequencies[j], 1e-6 * f);
        }
        // Highest frequency untouched, lowest divided by the factor.
        Assert.Equal(1f, rope.InverseFrequencies[0]);
    }

    [Fact]
    public void RotationPreservesNormAndLayoutsPairDifferently()
    {
        var x = new float[] { 1, 2, 3, 4 };
        var y = (float[])x.Clone();
        var cos = new float[] { MathF.Cos(0.3f), MathF.Cos(0.7f) };
        var sin = new float[] { MathF.Sin(0.3f), MathF.Sin(0.7f) };
        new Rope(4, 10000, null, null, RopeLayout.Interleaved).Apply(x, cos, sin);
        new Rope(4, 10000, null, null, RopeLayout.HalfSplit).Apply(y, cos, sin);
        // Interleaved rotates (1,2) by 0.3 and (3,4) by 0.7; half-split rotates (1,3) by 0.3 and (2,4) by 0.7.
        Assert.Equal(1 * cos[0] - 2 * sin[0], x[0], 5);
        Assert.Equal(1 * sin[0] + 2 * cos[0], x[1], 5);
        Assert.Equal(1 * cos[0] - 3 * sin[0], y[0], 5);
        Assert.Equal(3 * cos[0] + 1 * sin[0], y[2], 5);
        Assert.Equal(30f, x.Sum(v => v * v), 4);
        Assert.Equal(30f, y.Sum(v => v * v), 4);
    }
}
