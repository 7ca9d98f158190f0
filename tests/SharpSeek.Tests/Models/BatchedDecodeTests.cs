using SharpSeek.Models;

namespace SharpSeek.Tests.Models;

/// <summary>
/// A batched decode step over several sequences (at different positions) gives each the logits it gets alone, bit for
/// bit: every projection, attention's included, runs once over all rows, and each row's products do not depend on the
/// other rows, while attention reads only the row's own cache. MLA with and without a q low-rank, and dense GQA with biases.
/// </summary>
public sealed class BatchedDecodeTests
{
    [Theory]
    [InlineData("tiny-ds2-v3-f32.gguf")]
    [InlineData("tiny-ds2-lite-f32.gguf")]
    [InlineData("tiny-qwen2-f32.gguf")]
    [InlineData("tiny-ds2-v3-q8_0.gguf")]
    [InlineData("tiny-ds2-lite-q4_0.gguf")]
    [InlineData("tiny-qwen2-q8_0.gguf")]
    public void Batched_logits_equal_per_sequence_logits(string file)
    {
        using var model = ModelLoader.Load(Fixtures.Path("llamacpp", "models", file));
        int v = model.Config.VocabSize;
        var rng = new Random(17);
        int[][] prompts = [.. Enumerable.Range(0, 5).Select(i => Enumerable.Range(0, 1 + i * 3).Select(_ => rng.Next(v)).ToArray())];
        int[] next = [.. prompts.Select(_ => rng.Next(v))];
        var scratch = new float[v];

        // Alone: prompt, then the next token.
        var expected = new float[prompts.Length][];
        foreach (var (p, i) in prompts.Select((p, i) => (p, i)))
        {
            var s = model.CreateState(64, 8);
            model.Forward(s, p, scratch);
            expected[i] = new float[v];
            model.Forward(s, [next[i]], expected[i]);
        }

        // Together: the same prompts, then one batched step; then a second batched step against a second solo step.
        var states = prompts.Select(p => { var s = model.CreateState(64, 8); model.Forward(s, p, scratch); return s; }).ToList();
        var logits = new float[prompts.Length * v];
        model.ForwardDecodeBatch(states, next, logits);
        for (int i = 0; i < prompts.Length; i++)
        {
            Assert.Equal(prompts[i].Length + 1, states[i].Length);
            Assert.Equal(expected[i], logits.AsSpan(i * v, v).ToArray());
        }
        int[] again = [.. next.Select(t => (t + 1) % v)];
        model.ForwardDecodeBatch(states, again, logits);
        for (int i = 0; i < prompts.Length; i++)
        {
            var s = model.CreateState(64, 8);
            model.Forward(s, [.. prompts[i], next[i]], scratch);
            model.Forward(s, [again[i]], scratch);
            Assert.Equal(scratch, logits.AsSpan(i * v, v).ToArray());
        }
    }

    [Fact]
    public void Bad_batches_are_refused()
    {
        using var model = ModelLoader.Load(Fixtures.Path("llamacpp", "models", "tiny-qwen2-f32.gguf"));
        var s = model.CreateState(4, 4);
        var logits = new float[2 * model.Config.VocabSize];
        Assert.Throws<ArgumentException>(() => model.ForwardDecodeBatch([s, s], [1, 2], logits));
        Assert.Throws<ArgumentException>(() => model.ForwardDecodeBatch([s], [1, 2], logits));
        Assert.Throws<SharpSeekException>(() => model.ForwardDecodeBatch([s], [-1], logits));
    }
}
