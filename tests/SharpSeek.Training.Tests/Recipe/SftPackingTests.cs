using SharpSeek.Training.Recipe;

namespace SharpSeek.Training.Tests.Recipe;

public sealed class SftPackingTests
{
    private const int Pad = 1;

    /// <summary>Example j has tokens j·1000 + 2 + i (unique, never the pad) and a random assistant mask.</summary>
    private static List<SftExample> Examples(int count, int minLength, int maxLength, int seed)
    {
        var rng = new Random(seed);
        var list = new List<SftExample>();
        for (int j = 0; j < count; j++)
        {
            int n = rng.Next(minLength, maxLength + 1);
            list.Add(new SftExample(Enumerable.Range(0, n).Select(i => j * 1000 + 2 + i).ToArray(), Enumerable.Range(0, n).Select(_ => rng.Next(2) == 1).ToArray()));
        }
        return list;
    }

    [Fact]
    public void EveryPlacedExampleIsWholeInsideOneRowWithItsMask()
    {
        const int rows = 8, length = 512;
        var examples = Examples(200, 20, 600, 3);
        var (tokens, mask) = SftExample.Pack(examples, rows, length, Pad);
        int placedTokens = 0, placed = 0;
        for (int j = 0; j < examples.Count; j++)
        {
            var e = examples[j];
            int start = Array.IndexOf(tokens, (long)e.Tokens[0]);
            if (start < 0) continue;
            Assert.True(e.Tokens.Length <= length, $"example {j} is longer than a row but was packed");
            Assert.Equal(start / length, (start + e.Tokens.Length - 1) / length);      // one row
            for (int i = 0; i < e.Tokens.Length; i++)
            {
                Assert.Equal(e.Tokens[i], tokens[start + i]);
                Assert.Equal(e.AssistantMask[i] ? 1f : 0f, mask[start + i]);
            }
            placed++;
            placedTokens += e.Tokens.Length;
        }
        Assert.True(placed > 8);
        // Everything else is padding with no loss.
        Assert.Equal(tokens.Length - placedTokens, tokens.Count(t => t == Pad));
        for (int i = 0; i < tokens.Length; i++)
            if (tokens[i] == Pad) Assert.Equal(0f, mask[i]);
    }

    [Fact]
    public void OnTheRecipesMixBatchesAreNearlyFullAndKeepTheStreamsMix()
    {
        // The recipe's chat examples through the bundled tokenizer: 40 to 650 tokens, the shortest the one-digit facts,
        // the long ones hard multiplications and expressions. Filling rows in stream order left a fifth of the batch
        // as padding; dropping what first-fit decreasing could not place halved the share of the one-digit facts.
        var tokenizer = Tokenization.Tokenizer.FromFile(Path.Combine(SharpSeek.Tests.Fixtures.RepoRoot, "models", "sharpseek-tiny", "tokenizer.json"));
        var template = Chat.ChatTemplate.For(tokenizer);
        long real = 0, capacity = 0;
        double streamExamples = 0, streamShort = 0, streamTokens = 0, streamLong = 0, packedExamples = 0, packedShort = 0, packedTokens = 0, packedLong = 0;
        for (int step = 0; step < 40; step++)
        {
            var stream = TaskGenerator.Sample(TaskSplit.Train, 64, 500 + step).Select(item => SftExample.From(item, tokenizer, template)).ToList();
            var (tokens, _) = SftExample.Pack(stream, 8, 512, Pad);
            real += tokens.Count(t => t != Pad);
            capacity += tokens.Length;
            foreach (var e in stream.Where(e => e.Tokens.Length <= 512))
            {
                // The stream's mix: every example it holds, not only those its first batch reads.
                streamExamples++;
                streamTokens += e.Tokens.Length;
                if (e.Tokens.Length <= 64) streamShort++;
                if (e.Tokens.Length > 256) streamLong += e.Tokens.Length;
                if (tokens.AsSpan().IndexOf(e.Tokens.Select(t => (long)t).ToArray()) < 0) continue;
                packedExamples++;
                packedTokens += e.Tokens.Length;
                if (e.Tokens.Length <= 64) packedShort++;
                if (e.Tokens.Length > 256) packedLong += e.Tokens.Length;
            }
        }
        double fill = real / (double)capacity;
        Assert.True(fill >= 0.92, $"only {fill:P1} of the batches hold tokens");
        // Short problems (a share of examples) and long ones (a share of tokens) keep the stream's mix within a tenth of it.
        double shortStream = streamShort / streamExamples, shortPacked = packedShort / packedExamples;
        double longStream = streamLong / streamTokens, longPacked = packedLong / packedTokens;
        Assert.True(shortStream > 0.05, $"the mix should hold short problems, or the test proves little ({shortStream:P1})");
        Assert.True(Math.Abs(shortPacked / shortStream - 1) <= 0.1, $"short problems: {shortPacked:P1} of packed examples, {shortStream:P1} of the stream's");
        Assert.True(Math.Abs(longPacked / longStream - 1) <= 0.1, $"long problems: {longPacked:P1} of packed tokens, {longStream:P1} of the stream's");
    }

    [Fact]
    public void TakesOnlyAsManyExamplesAsTheBatchHolds()
    {
        // The stream is infinite in the recipe: packing must stop reading once the window covers the capacity.
        static IEnumerable<SftExample> Endless()
        {
            for (int j = 0; ; j++) yield return new SftExample([j % 500 + 2, 3, 4], [false, true, true]);
        }
        var (tokens, _) = SftExample.Pack(Endless(), 2, 30, Pad);
        Assert.Equal(60, tokens.Length);
        Assert.Equal(60, tokens.Count(t => t != Pad));
    }

    [Fact]
    public void SameStreamGivesTheSameBatch()
    {
        var a = SftExample.Pack(Examples(100, 10, 300, 9), 4, 256, Pad);
        var b = SftExample.Pack(Examples(100, 10, 300, 9), 4, 256, Pad);
        Assert.Equal(a.Tokens, b.Tokens);
        Assert.Equal(a.Mask, b.Mask);
    }
}
