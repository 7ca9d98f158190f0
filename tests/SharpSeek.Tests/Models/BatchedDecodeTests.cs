using SharpSeek.Models;
using SharpSeek.Tests.Support;

namespace SharpSeek.Tests.Models;

/// <summary>
/// Batch invariance, bit for bit: a sequence's logits are the same alone (one token at a time) or in any forward step, whatever
/// else the step holds and wherever the sequence sits in it. Steps here are random mixes of decode rows (1 token), speculative
/// verifications (k + 1 tokens with every row's logits, then a random part rejected: the state is truncated and the tokens fed
/// again) and prefill chunks of random length, over five sequences of different lengths, on every fixture model (MLA with and
/// without q-LoRA, FP8, Qwen2 GQA; f32, Q8_0, Q4_0, Q4_K_M; grouped and file layout).
/// </summary>
public sealed class BatchedDecodeTests
{
    public static TheoryData<string> Models => TestModels.Cases;

    [Theory, MemberData(nameof(Models))]
    public void Logits_do_not_depend_on_the_mix_of_the_step(string name)
    {
        using var model = TestModels.Load(name);
        int v = model.Config.VocabSize;
        var rng = new Random(StableSeed.Of(name));
        int context = Math.Min(48, model.Config.MaxPositionEmbeddings);
        int[][] tokens = [.. Enumerable.Range(0, 5).Select(i => Enumerable.Range(0, context - 8 - 5 * i).Select(_ => rng.Next(v)).ToArray())];

        // Alone, one token per forward: the reference every row of every step must equal.
        var solo = new float[tokens.Length][];
        for (int i = 0; i < tokens.Length; i++)
        {
            var s = model.CreateState(context);
            solo[i] = new float[tokens[i].Length * v];
            for (int t = 0; t < tokens[i].Length; t++) model.Forward(s, tokens[i].AsSpan(t, 1), solo[i].AsSpan(t * v, v));
            Assert.Contains(solo[i], x => x != 0);
        }

        var states = tokens.Select(_ => model.CreateState(context)).ToArray();
        var fed = new int[tokens.Length];
        int steps = 0, verified = 0, rejected = 0, mixed = 0;
        while (fed.Where((f, i) => f < tokens[i].Length).Any())
        {
            var order = Enumerable.Range(0, tokens.Length).Where(i => fed[i] < tokens[i].Length && rng.Next(5) > 0).OrderBy(_ => rng.Next()).ToList();
            if (order.Count == 0) continue;
            var segments = new List<Segment>();
            var kinds = new List<(int Seq, int First, int Count, bool All)>();
            foreach (int i in order)
            {
                int left = tokens[i].Length - fed[i];
                int kind = rng.Next(3);
                int n = kind switch { 0 => 1, 1 => Math.Min(left, 2 + rng.Next(4)), _ => Math.Min(left, 1 + rng.Next(12)) };
                bool all = kind == 1 || (kind == 2 && rng.Next(2) == 0);
                var logits = new float[(all ? n : 1) * v];
                segments.Add(new Segment(states[i], tokens[i].AsMemory(fed[i], n)) { Logits = logits });
                kinds.Add((i, fed[i], n, all));
            }
            model.Forward(segments);
            steps++;
            if (kinds.Select(k => k.Count == 1 ? 0 : 1).Distinct().Count() > 1) mixed++;
            for (int j = 0; j < segments.Count; j++)
            {
                var (i, first, n, all) = kinds[j];
                var got = segments[j].Logits.Span;
                for (int r = all ? 0 : n - 1, o = 0; r < n; r++, o++)
                    Assert.True(got.Slice(o * v, v).SequenceEqual(solo[i].AsSpan((first + r) * v, v)),
                        $"{name}: sequence {i} position {first + r} differs in step {steps} (segment {j} of {segments.Count}, {n} tokens)");
                Assert.Equal(first + n, states[i].Length);
                fed[i] = first + n;
                // A verification whose later tokens were rejected: forget them, they are fed again later.
                if (all && n > 1 && rng.Next(3) == 0)
                {
                    int keep = first + 1 + rng.Next(n - 1);
                    states[i].Truncate(keep);
                    fed[i] = keep;
                    rejected++;
                }
                if (all && n > 1) verified++;
            }
        }
        Assert.True(mixed > 0 && verified > 0 && rejected > 0, $"the random steps did not mix kinds ({mixed} mixed, {verified} verified, {rejected} rejected)");
    }

    [Fact]
    public void Bad_steps_are_refused()
    {
        using var model = ModelLoader.Load(Fixtures.Path("llamacpp", "models", "tiny-qwen2-f32.gguf"));
        int v = model.Config.VocabSize;
        var s = model.CreateState(4);
        var t = model.CreateState(4);
        Assert.Throws<ArgumentException>(() => model.Forward([new Segment(s, new[] { 1 }), new Segment(s, new[] { 2 })]));
        Assert.Throws<ArgumentException>(() => model.Forward([new Segment(s, Array.Empty<int>())]));
        Assert.Throws<ArgumentException>(() => model.Forward([new Segment(s, new[] { 1, 2 }) { Logits = new float[v + 1] }]));
        Assert.Throws<SharpSeekException>(() => model.Forward([new Segment(t, new[] { 1 }), new Segment(s, new[] { -1 })]));
        Assert.Throws<SharpSeekException>(() => model.Forward([new Segment(s, new[] { 1, 2, 3, 4, 5 })]));
        // A refused step leaves every sequence as it was.
        Assert.Equal(0, s.Length);
        Assert.Equal(0, t.Length);
    }
}
