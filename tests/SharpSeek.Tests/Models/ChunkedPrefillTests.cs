using SharpSeek.Models;

namespace SharpSeek.Tests.Models;

/// <summary>
/// Attention computes a block of query rows together (GQA: every head of a key/value group for four tokens; MLA: four heads),
/// and a row's positions past its own causal length get weight 0. So a prompt's last logits must not depend on how the
/// prompt was cut into prefill calls: whole, in uneven chunks (blocks that start mid-cache and end short), or one token at a
/// time. Bit for bit, on float weights (each token's projections then do not depend on the other tokens in the call).
/// </summary>
public sealed class ChunkedPrefillTests
{
    [Theory]
    [InlineData("tiny-qwen2-f32.gguf")]
    [InlineData("tiny-ds2-v3-f32.gguf")]
    [InlineData("tiny-ds2-lite-f32.gguf")]
    public void Last_logits_do_not_depend_on_how_the_prompt_is_split(string file)
    {
        using var model = ModelLoader.Load(Fixtures.Path("llamacpp", "models", file));
        int v = model.Config.VocabSize;
        var rng = new Random(5);
        int[] prompt = [.. Enumerable.Range(0, 23).Select(_ => rng.Next(v))];

        float[] Run(int[] cuts)
        {
            var s = model.CreateState(64, prompt.Length);  // room for the whole prompt in one call
            var logits = new float[v];
            int at = 0;
            foreach (int n in cuts) { model.Forward(s, prompt.AsSpan(at, n), logits); at += n; }
            Assert.Equal(prompt.Length, at);
            return logits;
        }

        var whole = Run([23]);
        Assert.Contains(whole, x => x != 0);
        Assert.Equal(whole, Run([3, 6, 1, 9, 4]));
        Assert.Equal(whole, Run([.. Enumerable.Repeat(1, 23)]));
    }
}
