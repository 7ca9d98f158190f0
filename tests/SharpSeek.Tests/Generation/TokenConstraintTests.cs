using SharpSeek.Chat;
using SharpSeek.Generation;
using SharpSeek.Serving;

namespace SharpSeek.Tests.Generation;

/// <summary>The decode step masks with <see cref="ITokenConstraint"/> before sampling and reports every chosen token to it.</summary>
public sealed class TokenConstraintTests
{
    /// <summary>Allows only the tokens of a cycle, in order, then only the stop token.</summary>
    internal sealed class Sequence(int[] tokens, int stop) : ITokenConstraint
    {
        private int _at;
        public List<int> Accepted { get; } = [];

        public void Mask(Span<float> logits)
        {
            int allowed = _at < tokens.Length ? tokens[_at] : stop;
            for (int i = 0; i < logits.Length; i++)
                if (i != allowed) logits[i] = float.NegativeInfinity;
        }

        public void Accept(int token)
        {
            Assert.Equal(tokens[_at], token);
            Accepted.Add(token);
            _at++;
        }
    }

    private static readonly int[] Forced = [7, 100, 7, 42, 3];

    [Fact]
    public void Generator_samples_only_what_the_constraint_allows_and_stops_when_it_is_done()
    {
        using var bundle = ModelBundle.Load(Fixtures.Path("llamacpp", "models", "tiny-qwen2-f32.gguf"));
        int stop = bundle.StopTokens.First();
        var constraint = new Sequence(Forced, stop);
        var gen = new Generator(bundle.Model);
        var sampling = new SamplingOptions { Temperature = 1, Seed = 5 };
        var got = gen.Generate([1, 2, 3], new GenerationOptions { MaxTokens = 20, Sampling = sampling, StopTokens = [stop], Constraint = constraint }).ToArray();
        Assert.Equal(Forced, got);
        Assert.Equal(Forced, constraint.Accepted);
        Assert.Equal(FinishReason.Stop, gen.LastFinishReason);
    }

    [Fact]
    public async Task Scheduler_samples_only_what_the_constraint_allows_and_keeps_unconstrained_logprobs()
    {
        using var bundle = ModelBundle.Load(Fixtures.Path("llamacpp", "models", "tiny-qwen2-f32.gguf"));
        using var pipeline = new ChatPipeline(bundle);
        int stop = bundle.StopTokens.First();
        var constraint = new Sequence(Forced, stop);
        var request = new SequenceRequest([1, 2, 3], 20, new SamplingOptions { Temperature = 1, Seed = 5 })
        {
            StopTokens = bundle.StopTokens,
            Constraint = constraint,
            TopLogprobs = 0,
        };
        using var handle = pipeline.Scheduler.Submit(request);
        var got = new List<GeneratedToken>();
        await foreach (var t in handle.Tokens.ReadAllAsync()) got.Add(t);
        Assert.Equal(Forced, got.Select(t => t.Token));
        Assert.Equal(FinishReason.Stop, handle.FinishReason);
        // A forced token has probability 1 under the mask; its log-probability is the model's own, below 0.
        Assert.All(got, t => Assert.True(t.Logprob < 0));
    }
}
