using SharpSeek.Generation;

namespace SharpSeek.Tests.Generation;

public sealed class SamplerTests
{
    private static float[] Logits() => [0.1f, 2.0f, -1.0f, 1.5f, 0.3f, 1.9f, -0.5f, 0.0f];

    [Fact]
    public void GreedyPicksTheArgmax()
    {
        var s = new Sampler(8, SamplingOptions.Greedy);
        Assert.Equal(1, s.Sample(Logits()));
    }

    [Fact]
    public void SameSeedSameSamples()
    {
        var o = new SamplingOptions { Temperature = 1, Seed = 42 };
        var a = new Sampler(8, o);
        var b = new Sampler(8, o);
        var x = Enumerable.Range(0, 50).Select(_ => a.Sample(Logits())).ToArray();
        var y = Enumerable.Range(0, 50).Select(_ => b.Sample(Logits())).ToArray();
        Assert.Equal(x, y);
        Assert.True(x.Distinct().Count() > 2, "temperature 1 should explore");
    }

    [Fact]
    public void TemperatureSamplesFollowTheSoftmax()
    {
        var s = new Sampler(8, new SamplingOptions { Temperature = 0.7f, Seed = 7 });
        var counts = new int[8];
        const int n = 40000;
        for (int i = 0; i < n; i++) counts[s.Sample(Logits())]++;
        var l = Logits();
        double z = l.Sum(v => Math.Exp(v / 0.7));
        for (int i = 0; i < 8; i++)
        {
            double p = Math.Exp(l[i] / 0.7) / z, sd = Math.Sqrt(p * (1 - p) / n);
            Assert.True(Math.Abs(counts[i] / (double)n - p) < 5 * sd + 1e-4, $"token {i}: {counts[i] / (double)n} vs {p}");
        }
    }

    [Fact]
    public void TopKKeepsOnlyTheBest()
    {
        var s = new Sampler(8, new SamplingOptions { Temperature = 5, TopK = 2, Seed = 1 });
        var seen = Enumerable.Range(0, 500).Select(_ => s.Sample(Logits())).ToHashSet();
        Assert.Equal(new HashSet<int> { 1, 5 }, seen);
    }

    [Fact]
    public void TopPKeepsTheSmallestNucleus()
    {
        // Probabilities at T=1: token1 ≈ .32, token5 ≈ .29, token3 ≈ .19; p=0.6 needs tokens 1, 5 (0.61).
        var s = new Sampler(8, new SamplingOptions { Temperature = 1, TopP = 0.6f, Seed = 3 });
        var seen = Enumerable.Range(0, 500).Select(_ => s.Sample(Logits())).ToHashSet();
        Assert.Equal(new HashSet<int> { 1, 5 }, seen);
    }

    [Theory]
    [InlineData(0.5f, 1.0f)]   // a flat distribution: the nucleus holds thousands of tokens, past the first window
    [InlineData(0.9f, 4.0f)]   // a peaked one: the nucleus fits the first window
    public void TopPAloneOnALargeVocabularyDrawsExactlyFromTheNucleus(float topP, float spread)
    {
        const int v = 20_000;
        var rng = new Random(7);
        float[] logits = Enumerable.Range(0, v).Select(_ => (float)(rng.NextDouble() * spread)).ToArray();
        // Reference nucleus by a full sort.
        double[] p = logits.Select(l => Math.Exp(l - logits.Max())).ToArray();
        int[] order = Enumerable.Range(0, v).OrderByDescending(i => logits[i]).ToArray();
        double target = topP * p.Sum(), cum = 0;
        var nucleus = new HashSet<int>();
        foreach (int i in order) { nucleus.Add(i); cum += p[i]; if (cum >= target) break; }

        var s = new Sampler(v, new SamplingOptions { Temperature = 1, TopP = topP, Seed = 11 });
        var rank = order.Select((id, r) => (id, r)).ToDictionary(x => x.id, x => x.r);
        int deepest = 0;
        for (int t = 0; t < 2000; t++)
        {
            int tok = s.Sample((float[])logits.Clone());
            Assert.Contains(tok, nucleus);
            deepest = Math.Max(deepest, rank[tok]);
        }
        // Draws reach deep into a big nucleus (the window grew) and stay inside a small one.
        Assert.True(nucleus.Count < 256 || deepest > 256, $"nucleus {nucleus.Count}, deepest draw at rank {deepest}");
    }

    [Fact]
    public void MinPDropsUnlikelyTokens()
    {
        // min_p 0.5: keep tokens with p ≥ 0.5·p(best): exp(l - 2) ≥ 0.5 → l ≥ 1.307: tokens 1, 3, 5.
        var s = new Sampler(8, new SamplingOptions { Temperature = 1, MinP = 0.5f, Seed = 5 });
        var seen = Enumerable.Range(0, 1000).Select(_ => s.Sample(Logits())).ToHashSet();
        Assert.Equal(new HashSet<int> { 1, 3, 5 }, seen);
    }

    [Fact]
    public void RepetitionPenaltyDemotesSeenTokens()
    {
        var s = new Sampler(8, new SamplingOptions { RepetitionPenalty = 1.5f });
        s.Observe(1);
        // 2.0/1.5 = 1.33 < 1.9: greedy now picks token 5.
        Assert.Equal(5, s.Sample(Logits()));
        s.Observe(2);
        var l = Logits();
        s.Sample(l);
        Assert.Equal(-1.5f, l[2], 5);   // negative logits are multiplied
    }

    [Theory]
    [InlineData(-0.1f, 1f, 0, 0f, 1f, "temperature")]
    [InlineData(1f, 0f, 0, 0f, 1f, "top_p")]
    [InlineData(1f, 1.5f, 0, 0f, 1f, "top_p")]
    [InlineData(1f, 1f, -1, 0f, 1f, "top_k")]
    [InlineData(1f, 1f, 0, 2f, 1f, "min_p")]
    [InlineData(1f, 1f, 0, 0f, 0f, "repetition_penalty")]
    public void BadParametersAreNamed(float t, float p, int k, float minP, float rp, string name)
    {
        var e = Assert.Throws<SharpSeekException>(() => new Sampler(8, new SamplingOptions { Temperature = t, TopP = p, TopK = k, MinP = minP, RepetitionPenalty = rp }));
        Assert.StartsWith(name, e.Message);
    }

    [Theory]
    [InlineData(1e-39f)]
    [InlineData(3e-39f)]
    [InlineData(1e-6f)]
    public void TemperaturesBelowTheFloorAreGreedy(float t)
    {
        // Issue 17.11: 1/T overflowed to infinity and the sampler returned the last vocabulary id for ever.
        var logits = new float[1000];
        var rng = new Random(7);
        for (int i = 0; i < logits.Length; i++) logits[i] = (float)rng.NextDouble() * 10;
        int best = Sampler.ArgMax(logits);
        Assert.NotEqual(logits.Length - 1, best);
        var sampler = new Sampler(logits.Length, new SamplingOptions { Temperature = t, TopP = 0.95f, Seed = 1 });
        for (int i = 0; i < 5; i++) Assert.Equal(best, sampler.Sample((float[])logits.Clone()));
    }

    [Theory]
    [InlineData(0f)]
    [InlineData(0.7f)]
    public void NonFiniteLogitsAreRefusedWithAClearError(float t)
    {
        var sampler = new Sampler(4, new SamplingOptions { Temperature = t, Seed = 1 });
        var e = Assert.Throws<SharpSeekException>(() => sampler.Sample(new[] { float.NaN, float.NaN, float.NaN, float.NaN }));
        Assert.Contains("not finite", e.Message);
        if (t > 0) Assert.Throws<SharpSeekException>(() => sampler.Sample(new[] { 1f, float.PositiveInfinity, 2f, float.PositiveInfinity }));
    }
}
