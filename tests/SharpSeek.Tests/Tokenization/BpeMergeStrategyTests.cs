using System.Text;
using SharpSeek.Tokenization;

namespace SharpSeek.Tests.Tokenization;

/// <summary>The three BPE merge loops (naive for short pieces, rank buckets and heap for long ones) agree.</summary>
public sealed class BpeMergeStrategyTests
{
    [Theory]
    [InlineData("deepseek-v3")]
    [InlineData("qwen3")]
    public void Strategies_agree_on_random_long_pieces(string name)
    {
        BpeModel model = TokenizerFixtures.Get(name).Model;
        Assert.True(model.Monotonic);
        var rng = new Random(17);
        string[] atoms = ["a", "b", "ab", "the", "ing", " ", "  ", "中", "文", "😀", "1", "23", "é", "\n", "ana"];
        for (int trial = 0; trial < 60; trial++)
        {
            var sb = new StringBuilder();
            int n = rng.Next(1, 400);
            for (int i = 0; i < n; i++) sb.Append(atoms[rng.Next(atoms.Length)]);
            byte[] bytes = Encoding.UTF8.GetBytes(sb.ToString());
            int[] naive = model.EncodeBytesWith(bytes, 0);
            Assert.Equal(naive, model.EncodeBytesWith(bytes, 1));
            Assert.Equal(naive, model.EncodeBytesWith(bytes, 2));
        }
        byte[] run = Encoding.UTF8.GetBytes(new string('a', 5000));
        Assert.Equal(model.EncodeBytesWith(run, 1), model.EncodeBytesWith(run, 2));
    }
}
