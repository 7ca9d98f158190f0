using SharpSeek.Models;

namespace SharpSeek.Tests.Models;

/// <summary>
/// Attention computes a block of query rows together (GQA: every head of a key/value group for four tokens; MLA: four heads),
/// and a row's positions past its own causal length get weight 0; every product computes each token the same way whatever
/// the call's token count. So a prompt's last logits must not depend on how the prompt was cut into prefill calls: whole, in
/// uneven chunks (blocks that start mid-cache and end short), or one token at a time. Bit for bit, on every fixture model,
/// quantized ones included.
/// </summary>
public sealed class ChunkedPrefillTests
{
    public static TheoryData<string> Models => TestModels.Cases;

    [Theory, MemberData(nameof(Models))]
    public void Last_logits_do_not_depend_on_how_the_prompt_is_split(string file)
    {
        using var model = TestModels.Load(file);
        int v = model.Config.VocabSize;
        var rng = new Random(5);
        int[] prompt = [.. Enumerable.Range(0, 23).Select(_ => rng.Next(v))];

        float[] Run(int[] cuts)
        {
            var s = model.CreateState(64);  // room for the whole prompt in one call
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
