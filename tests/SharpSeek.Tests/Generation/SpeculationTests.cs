using SharpSeek.Chat;
using SharpSeek.Generation;
using SharpSeek.Models;
using SharpSeek.Serving;
using SharpSeek.Tests.Support;

namespace SharpSeek.Tests.Generation;

/// <summary>
/// Speculative decoding (<c>--speculate mtp|ngram</c>): greedy output equals plain decoding token for token on the bundled model
/// (MTP and prompt lookup) and on a quantized fixture; under load in the scheduler it equals each sequence alone; sampled output
/// follows the model's distribution (the acceptance rule against exact probabilities, and end to end on a 10-token model);
/// constrained sequences speculate through their constraint; bad options are refused naming option and model.
/// </summary>
public sealed class SpeculationTests
{
    private static string Bundled => Path.Combine(Fixtures.RepoRoot, "models", "sharpseek-tiny");

    private static readonly string[] Questions = ["What is 482 + 39?", "What is 17 * 23?", "What is (12 + 8) * 3?", "Who are you?"];

    public static TheoryData<string> Modes => new("mtp:1", "mtp:2", "mtp:4", "ngram:2", "ngram:5");

    [Theory, MemberData(nameof(Modes))]
    public void Greedy_output_is_plain_decodings_on_the_bundled_model(string mode)
    {
        using var bundle = ModelBundle.Load(Bundled);
        var speculation = Speculation.Parse(mode);
        long drafted = 0, accepted = 0;
        foreach (var q in Questions)
        {
            var prompt = bundle.Template.Encode(bundle.Tokenizer, [ChatMessage.User(q)]);
            var plain = new Generator(bundle.Model).Generate(prompt, new GenerationOptions { MaxTokens = 160 }).ToArray();
            var gen = new Generator(bundle.Model);
            var fast = gen.Generate(prompt, new GenerationOptions { MaxTokens = 160, Speculation = speculation }).ToArray();
            Assert.Equal(plain, fast);
            drafted += gen.LastSpeculation.DraftTokens;
            accepted += gen.LastSpeculation.AcceptedTokens;
        }
        Assert.True(drafted > 0 && accepted > 0, $"{mode}: {accepted} of {drafted} drafts accepted");
    }

    [Theory]
    [InlineData("tiny-ds2-v3-q4_0.gguf")]
    [InlineData("tiny-qwen2-q8_0.gguf")]
    public void Greedy_output_is_plain_decodings_with_prompt_lookup_on_quantized_models(string file)
    {
        using var model = ModelLoader.Load(Fixtures.Path("llamacpp", "models", file));
        // A prompt that repeats itself, so lookups find matches (random weights copy little, but some drafts are accepted).
        int[] prompt = [.. Enumerable.Range(0, 40).Select(i => 10 + i % 7)];
        var plain = new Generator(model).Generate(prompt, new GenerationOptions { MaxTokens = 150, IgnoreEos = true }).ToArray();
        var gen = new Generator(model);
        var fast = gen.Generate(prompt, new GenerationOptions { MaxTokens = 150, IgnoreEos = true, Speculation = Speculation.Parse("ngram:4") }).ToArray();
        Assert.Equal(plain, fast);
        Assert.True(gen.LastSpeculation.DraftTokens > 0);
    }

    [Fact]
    public async Task Greedy_outputs_under_load_equal_solo_outputs_with_speculation()
    {
        using var bundle = ModelBundle.Load(Bundled);
        var prompts = Questions.Concat(["What is 5 - 3?", "What is 1000 - 1?"]).Select(q => bundle.Template.Encode(bundle.Tokenizer, [ChatMessage.User(q)])).ToArray();
        var expected = prompts.Select(p => new Generator(bundle.Model).Generate(p, new GenerationOptions { MaxTokens = 80, StopTokens = [.. bundle.StopTokens] }).ToArray()).ToList();
        using var pipeline = new ChatPipeline(bundle, new SchedulerOptions { MaxActive = 4, PrefillChunk = 5, Speculation = Speculation.Parse("mtp:2") });
        var handles = prompts.Select((p, i) => pipeline.Scheduler.Submit(new SequenceRequest(p, 80, SamplingOptions.Greedy)
        {
            StopTokens = bundle.StopTokens,
            Speculation = i % 3 == 2 ? Speculation.Parse("ngram:3") : null,   // sequences of different modes share steps
        })).ToArray();
        for (int i = 0; i < prompts.Length; i++)
        {
            var got = new List<int>();
            await foreach (var t in handles[i].Tokens.ReadAllAsync()) got.Add(t.Token);
            Assert.Equal(expected[i], got);
        }
        Assert.True(pipeline.Scheduler.Metrics.DraftTokens > 0 && pipeline.Scheduler.Metrics.AcceptedTokens > 0);
    }

    /// <summary>
    /// A trained MTP layer drafts the model's own stop token. A draft accepted as the stop token ended the sequence with that
    /// token's row still in the cache, one more than the prompt and the fed output, so <see cref="DecodeSequence.CachedTokens"/>
    /// read past the output and threw; in the server that was the scheduler's hand-over to the prefix cache, on its decode
    /// thread. Every greedy run here must end with the cache holding exactly the prompt and the output, and some must end on
    /// an accepted stop draft (else the case was not exercised).
    /// </summary>
    [Fact]
    public void A_stop_token_accepted_as_a_draft_leaves_the_cache_holding_exactly_the_prompt_and_the_output()
    {
        using var bundle = ModelBundle.Load(Bundled);
        int endedOnStopDraft = 0;
        foreach (var mode in new[] { "mtp:1", "mtp:2" })
            foreach (var q in Questions.Concat(["What is 5 - 3?", "What is 1000 - 1?", "What is 7 * 8?"]))
            {
                var prompt = bundle.Template.Encode(bundle.Tokenizer, [ChatMessage.User(q)]);
                var options = new GenerationOptions { MaxTokens = 300, StopTokens = [.. bundle.StopTokens], Speculation = Speculation.Parse(mode) };
                var seq = new DecodeSequence(bundle.Model, prompt, options, bundle.Model.CreateState(prompt.Length + 310));
                var step = new DecodeStep(bundle.Model);
                int[] drafts = [];
                long accepted = 0;
                while (!seq.IsDone)
                {
                    drafts = seq.Drafts.AsSpan(0, seq.DraftCount).ToArray();
                    accepted = seq.Speculation.AcceptedTokens;
                    step.Run([seq]);
                }
                Assert.Null(seq.Error);
                Assert.Equal(FinishReason.Stop, seq.Finish);
                int stopAt = Array.FindIndex(drafts, bundle.StopTokens.Contains);
                if (stopAt >= 0 && seq.Speculation.AcceptedTokens - accepted == stopAt + 1) endedOnStopDraft++;
                int[] expected = [.. prompt, .. seq.Output];
                Assert.Equal(expected, seq.CachedTokens());
            }
        Assert.True(endedOnStopDraft > 0, "no run ended on an accepted stop draft");
    }

    /// <summary>
    /// The acceptance rule alone: for fixed logits and every draft (likely, unlikely, outside top-k), Verify's tokens over
    /// 200,000 draws follow the sampler's distribution (chi-square, df = candidates − 1, far inside a 1e-6 tail).
    /// </summary>
    [Theory]
    [InlineData(1.0f, 0, 1.0f)]
    [InlineData(0.7f, 3, 1.0f)]
    [InlineData(1.3f, 0, 0.8f)]
    public void Verification_draws_follow_the_sampling_distribution(float temperature, int topK, float topP)
    {
        float[] logits = [1.2f, -0.3f, 0.5f, 2.0f, -1.5f, 0.0f, 0.9f, -0.8f];
        var options = new SamplingOptions { Temperature = temperature, TopK = topK, TopP = topP, Seed = 77 };
        var p = Exact(logits, options);
        foreach (int draft in new[] { 3, 0, 4, 7 })
        {
            var sampler = new Sampler(logits.Length, options);
            var counts = new long[logits.Length];
            const int n = 200_000;
            var row = new float[logits.Length];
            for (int i = 0; i < n; i++)
            {
                logits.CopyTo(row, 0);
                counts[sampler.Verify(row, draft)]++;
            }
            double chi = 0;
            int cells = 0;
            for (int t = 0; t < logits.Length; t++)
            {
                if (p[t] == 0) { Assert.Equal(0, counts[t]); continue; }
                double e = n * p[t];
                chi += (counts[t] - e) * (counts[t] - e) / e;
                cells++;
            }
            // The 1e-6 upper tail of chi-square with up to 7 degrees of freedom is below 40.
            Assert.True(chi < 40, $"T={temperature} top-k={topK} top-p={topP} draft {draft}: chi-square {chi:0.0} over {cells} cells");
        }
    }

    /// <summary>The sampler's distribution in double: temperature, top-k, top-p (smallest prefix reaching p).</summary>
    private static double[] Exact(float[] logits, SamplingOptions o)
    {
        int v = logits.Length;
        var order = Enumerable.Range(0, v).OrderByDescending(i => logits[i]).ToList();
        if (o.TopK > 0) order = order.Take(o.TopK).ToList();
        double max = logits.Max();
        var w = order.ToDictionary(i => i, i => Math.Exp((logits[i] - max) / o.Temperature));
        if (o.TopP < 1)
        {
            double total = w.Values.Sum(), cum = 0;
            var kept = new List<int>();
            foreach (int i in order) { kept.Add(i); cum += w[i]; if (cum >= o.TopP * total) break; }
            w = kept.ToDictionary(i => i, i => w[i]);
        }
        double sum = w.Values.Sum();
        var p = new double[v];
        foreach (var (i, x) in w) p[i] = x / sum;
        return p;
    }

    /// <summary>
    /// End to end on a 10-token model: 3,000 sequences sampled at temperature 1 with prompt-lookup speculation and 3,000 without;
    /// each of the 16 positions' token frequencies agree (two-sample chi-square, df 9, far inside a 1e-6 tail), and thousands of
    /// drafts were accepted and thousands rejected along the way.
    /// </summary>
    [Fact]
    public void Sampled_speculative_output_follows_the_models_distribution()
    {
        using var dir = new TempDir();
        TinyRandomModel.Write(dir.Path, vocab: 10, seed: 3, scale: 2);
        using var model = ModelLoader.Load(dir.Path);
        const int n = 3000, tokens = 16;
        int[] prompt = [2, 5, 2, 5, 2];
        long[,] Run(Speculation speculation, ulong seedBase, out SpeculationStats stats)
        {
            var step = new DecodeStep(model);
            var seqs = Enumerable.Range(0, n).Select(i => new DecodeSequence(model, prompt, new GenerationOptions
            {
                MaxTokens = tokens, IgnoreEos = true, Speculation = speculation, Sampling = new SamplingOptions { Temperature = 1, Seed = seedBase + (ulong)i },
            }, model.CreateState(32))).ToList();
            while (seqs.Any(s => !s.IsDone)) step.Run(seqs);
            var counts = new long[tokens, 10];
            foreach (var s in seqs)
            {
                Assert.Null(s.Error);
                for (int j = 0; j < tokens; j++) counts[j, s.Output[j]]++;
            }
            stats = step.Speculation;
            return counts;
        }
        var plain = Run(Speculation.None, 1, out _);
        var fast = Run(Speculation.Parse("ngram:3"), 1_000_000, out var stats);
        Assert.True(stats.AcceptedTokens > 1000 && stats.AcceptedTokens < stats.DraftTokens - 1000, $"{stats.AcceptedTokens} of {stats.DraftTokens} drafts accepted");
        for (int j = 0; j < tokens; j++)
        {
            double chi = 0;
            for (int t = 0; t < 10; t++)
            {
                double a = plain[j, t], b = fast[j, t];
                if (a + b == 0) continue;
                chi += (a - b) * (a - b) / (a + b);   // equal sample sizes
            }
            // The 1e-6 upper tail of chi-square with 9 degrees of freedom is about 47.
            Assert.True(chi < 47, $"position {j}: chi-square {chi:0.0}");
        }
    }

    [Theory]
    [InlineData("mtp:3")]
    [InlineData("ngram:3")]
    public void Constrained_sequences_speculate_through_the_constraint(string mode)
    {
        using var bundle = ModelBundle.Load(Bundled);
        int stop = bundle.StopTokens.First();
        int[] forced = [.. bundle.Tokenizer.Encode("12+3=15 12+3=15 12+3=15", addSpecialTokens: false)];
        var prompt = bundle.Template.Encode(bundle.Tokenizer, [ChatMessage.User("What is 12 + 3?")]);
        foreach (var sampling in new[] { SamplingOptions.Greedy, new SamplingOptions { Temperature = 1, Seed = 9 } })
        {
            var gen = new Generator(bundle.Model);
            var got = gen.Generate(prompt, new GenerationOptions
            {
                MaxTokens = 100, StopTokens = [stop], Sampling = sampling, Constraint = new TokenConstraintTests.Sequence(forced, stop), Speculation = Speculation.Parse(mode),
            }).ToArray();
            Assert.Equal(forced, got);
            Assert.Equal(FinishReason.Stop, gen.LastFinishReason);
        }
    }

    [Theory]
    [InlineData("ngram:0", "positive integer")]
    [InlineData("ngram:abc", "positive integer")]
    [InlineData("mtp:-2", "positive integer")]
    [InlineData("medusa", "not a speculation mode")]
    public void Bad_speculation_options_are_refused(string value, string message)
    {
        var e = Assert.Throws<SharpSeekException>(() => Speculation.Parse(value));
        Assert.Contains("--speculate", e.Message);
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void Mtp_on_a_model_without_an_mtp_layer_is_refused_naming_option_and_model()
    {
        using var model = ModelLoader.Load(Fixtures.Path("llamacpp", "models", "tiny-qwen2-f32.gguf"));
        var e = Assert.Throws<SharpSeekException>(() => new Generator(model).Generate([1, 2], new GenerationOptions { Speculation = Speculation.Parse("mtp") }));
        Assert.Contains("--speculate mtp", e.Message);
        Assert.Contains("tiny-qwen2-f32.gguf", e.Message);
        Assert.Equal(Speculation.None, Speculation.Parse("none"));
        Assert.Equal(new Speculation(SpeculationKind.Ngram, 7), Speculation.Parse("ngram:7"));
    }
}
