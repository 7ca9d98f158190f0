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
    public void OnTheRecipesMixBatchesAreNearlyFullAndKeepTheLongProblems()
    {
        // The recipe's chat examples through the bundled tokenizer: 60 to 650 tokens, the long ones hard
        // multiplications and expressions. Filling rows in stream order left a fifth of the batch as padding.
        var tokenizer = Tokenization.Tokenizer.FromFile(Path.Combine(SharpSeek.Tests.Fixtures.RepoRoot, "models", "sharpseek-tiny", "tokenizer.json"));
        var template = Chat.ChatTemplate.For(tokenizer);
        long real = 0, capacity = 0, longInStream = 0, allInStream = 0, longPacked = 0, allPacked = 0;
        for (int step = 0; step < 20; step++)
        {
            var stream = TaskGenerator.Sample(TaskSplit.Train, 64, 500 + step).Select(item => SftExample.From(item, tokenizer, template)).ToList();
            var (tokens, _) = SftExample.Pack(stream, 8, 512, Pad);
            real += tokens.Count(t => t != Pad);
            capacity += tokens.Length;
            long taken = 0;
            foreach (var e in stream.Where(e => e.Tokens.Length <= 512))
            {
                if (taken >= tokens.Length) break;
                taken += e.Tokens.Length;
                allInStream += e.Tokens.Length;
                if (e.Tokens.Length > 256) longInStream += e.Tokens.Length;
                bool packed = tokens.AsSpan().IndexOf(e.Tokens.Select(t => (long)t).ToArray()) >= 0;
                if (!packed) continue;
                allPacked += e.Tokens.Length;
                if (e.Tokens.Length > 256) longPacked += e.Tokens.Length;
            }
        }
        double fill = real / (double)capacity;
        Assert.True(fill >= 0.95, $"only {fill:P1} of the batches hold tokens");
        // Examples that do not fit are dropped shortest first, so long problems never lose share.
        Assert.True(longPacked / (double)allPacked >= longInStream / (double)allInStream, $"long problems {longPacked / (double)allPacked:P1} of packed tokens, {longInStream / (double)allInStream:P1} of the stream");
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
