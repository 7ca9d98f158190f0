using System.Collections.Concurrent;
using SharpSeek.Tokenization;

namespace SharpSeek.Tests.Tokenization;

/// <summary>One tokenizer shared by many threads (as a server does) gives the same ids as one thread.</summary>
public sealed class TokenizerConcurrencyTests
{
    [Fact]
    public void Parallel_encodes_match_golden_ids()
    {
        var cases = new List<(string Name, string Text, int[] Ids)>();
        foreach (string name in (string[])["deepseek-v3", "qwen3"])
        {
            int n = TokenizerFixtures.Golden(name).GetProperty("cases").GetArrayLength();
            for (int i = 0; i < n; i++)
            {
                var (text, ids) = TokenizerFixtures.Case(name, i);
                cases.Add((name, text, ids));
            }
        }
        var failures = new ConcurrentBag<string>();
        Parallel.For(0, cases.Count * 8, new ParallelOptions { MaxDegreeOfParallelism = 8 }, k =>
        {
            var (name, text, expected) = cases[k % cases.Count];
            int[] ids = TokenizerFixtures.Get(name).Encode(text);
            if (!ids.AsSpan().SequenceEqual(expected)) failures.Add($"{name}: {GoldenTokenizerTests.Escape(text)}");
        });
        Assert.Empty(failures);
    }
}
