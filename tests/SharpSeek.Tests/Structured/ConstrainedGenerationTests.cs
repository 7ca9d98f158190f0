using System.Text;
using System.Text.Json;
using SharpSeek.Chat;
using SharpSeek.Generation;
using SharpSeek.Serving;
using SharpSeek.Structured;
using SharpSeek.Tests.Support;
using Xunit.Abstractions;

namespace SharpSeek.Tests.Structured;

/// <summary>A random-weight model with DeepSeek-V3's real tokenizer and chat template, loaded once for the class.</summary>
public sealed class RandomDeepSeekModel : IDisposable
{
    private readonly TempDir _dir = new();

    public RandomDeepSeekModel()
    {
        RandomVocabularyModel.Write(_dir.Path, Fixtures.Path("tokenizers", "deepseek-v3"), vocabSize: 129280, eosId: 1);
        Bundle = ModelBundle.Load(_dir.Path);
        Pipeline = new ChatPipeline(Bundle, new SchedulerOptions { MaxActive = 16, MaxQueue = 64 });
    }

    public string Directory => _dir.Path;
    public ModelBundle Bundle { get; }
    public ChatPipeline Pipeline { get; }

    public void Dispose()
    {
        Pipeline.Dispose();
        Bundle.Dispose();
        _dir.Dispose();
    }
}

/// <summary>
/// The check that cannot be fooled: a model whose logits are nearly uniform over DeepSeek-V3's 129k vocabulary, sampled
/// at temperature 1 through the real chat template and scheduler. Every token is a candidate at every step, so only the
/// grammar stands between the sampler and invalid output; JsonSchema.Net 8.0.5 judges every answer.
/// </summary>
public sealed class ConstrainedGenerationTests(RandomDeepSeekModel model, ITestOutputHelper output) : IClassFixture<RandomDeepSeekModel>
{
    private const int Seeds = 50;

    private static PreparedPrompt Prompt(ChatPipeline p, string name) => p.PrepareChat(
        [ChatMessage.System("Reply with JSON only."), ChatMessage.User($"Describe a {name} as JSON.")]);

    private static CompletionOptions Options(OutputGrammar grammar, ulong seed, int maxTokens = 500) => new()
    {
        MaxTokens = maxTokens,
        Sampling = new SamplingOptions { Temperature = 1.0f, Seed = seed },
        Output = grammar,
    };

    [Fact]
    public void The_model_has_nearly_uniform_logits_over_the_whole_vocabulary()
    {
        Assert.Equal(ChatFormat.Jinja, model.Bundle.Template.Format);   // its own template, DeepSeek-V3's
        Assert.Equal(ChatFormat.DeepSeekV3, ChatTemplate.Detect(model.Bundle.Tokenizer.Config.ChatTemplate));
        Assert.Equal(129280, model.Bundle.Model.Config.VocabSize);
        var prompt = Prompt(model.Pipeline, "person");
        var state = model.Bundle.Model.CreateState(256);
        var logits = new float[129280];
        model.Bundle.Model.Forward(state, prompt.Tokens, logits);
        float max = logits.Max(), min = logits.Min();
        // Within e^1.2 of each other: the least likely token is at least a third as likely as the most likely one.
        Assert.True(max - min < 1.2f, $"logit spread {max - min}");
    }

    [Fact]
    public async Task Every_sampled_answer_of_every_schema_parses_and_validates()
    {
        int total = 0, valid = 0;
        var tokens = new List<int>();
        foreach (var (name, schema) in SchemaCases.Bounded)
        {
            var grammar = OutputGrammar.JsonSchema(JsonDocument.Parse(schema).RootElement);
            var prompt = Prompt(model.Pipeline, name);
            var results = await Task.WhenAll(Enumerable.Range(1, Seeds).Select(seed => model.Pipeline.CompleteAsync(prompt, Options(grammar, (ulong)seed))));
            foreach (var r in results)
            {
                total++;
                Assert.True(r.FinishReason == "stop", $"{name}: finish '{r.FinishReason}' after {r.Usage.CompletionTokens} tokens: {r.Content}");
                GrammarKit.AssertValid(schema, r.Content);
                valid++;
                tokens.Add(r.Usage.CompletionTokens);
            }
            output.WriteLine($"{name}: {Seeds}/{Seeds} valid, e.g. {results[0].Content}");
        }
        output.WriteLine($"{valid}/{total} valid; completion tokens mean {tokens.Average():F0}, max {tokens.Max()}");
        Assert.Equal(SchemaCases.Bounded.Count() * Seeds, valid);
        Assert.True(SchemaCases.Bounded.Count() >= 10);
    }

    [Fact]
    public async Task Streamed_deltas_concatenate_to_the_whole_answer_for_the_same_seed()
    {
        var (name, schema) = SchemaCases.All.Single(c => c.Name == "orders");
        var grammar = OutputGrammar.JsonSchema(JsonDocument.Parse(schema).RootElement);
        var prompt = Prompt(model.Pipeline, name);
        for (ulong seed = 1; seed <= 5; seed++)
        {
            var whole = await model.Pipeline.CompleteAsync(prompt, Options(grammar, seed));
            using var stream = model.Pipeline.Start(prompt, Options(grammar, seed));
            var sb = new StringBuilder();
            int chunks = 0;
            await foreach (var c in stream.ReadAsync()) { sb.Append(c.Content); chunks++; }
            Assert.Equal(whole.Content, sb.ToString());
            Assert.True(chunks > 3);
            GrammarKit.AssertValid(schema, whole.Content);
        }
    }

    [Fact]
    public async Task A_bad_schema_fails_before_anything_is_queued()
    {
        var bad = OutputGrammar.JsonSchema(JsonDocument.Parse("""{"type":"object","properties":{"a":{"oneOf":[{"type":"string"}]}}}""").RootElement);
        var e = Assert.Throws<SchemaException>(() => model.Pipeline.Start(Prompt(model.Pipeline, "x"), Options(bad, 1)));
        Assert.Equal("oneOf", e.Keyword);
        Assert.Equal("#/properties/a", e.Path);
        // The pipeline still serves.
        var ok = await model.Pipeline.CompleteAsync(Prompt(model.Pipeline, "x"), Options(OutputGrammar.JsonSchema(JsonDocument.Parse("""{"enum":[1,2]}""").RootElement), 1));
        Assert.Contains(ok.Content, (string[])["1", "2"]);
    }

    [Fact]
    public void A_reasoning_prompt_thinks_freely_then_answers_strictly()
    {
        var v = model.Bundle.Grammars.Vocabulary;
        var tok = model.Bundle.Tokenizer;
        var grammar = model.Bundle.Grammars.Get(OutputGrammar.JsonSchema(JsonDocument.Parse("""{"type":"boolean"}""").RootElement), startsInReasoning: true);
        var c = new GrammarConstraint(grammar);
        // While thinking, nearly everything is allowed, but never the stop token (the answer must still come).
        c.ComputeAllowed();
        Assert.True(c.AllowedCount() > 120_000, $"{c.AllowedCount()} tokens allowed while thinking");
        Assert.False(c.WasAllowed(1));
        foreach (int t in tok.Encode("Let me think: {\"not\": \"json\"} is fine here.</think>\n\n", parseSpecial: false))
        {
            Assert.True(c.IsAllowed(t), $"token {t} ({tok.Decode([t])}) refused while thinking");
            c.Accept(t);
        }
        // Now only the answer: tokens that start "true" or "false".
        c.ComputeAllowed();
        for (int t = 0; t < v.Size; t++)
        {
            if (!c.WasAllowed(t)) continue;
            string text = Encoding.UTF8.GetString(v.Bytes(t));
            Assert.True(text.Length > 0 && ("true".StartsWith(text, StringComparison.Ordinal) || "false".StartsWith(text, StringComparison.Ordinal)), $"'{text}' allowed after </think>");
        }
    }
}
