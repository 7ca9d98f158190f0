using SharpSeek.Chat;
using SharpSeek.Generation;
using SharpSeek.Serving;

namespace SharpSeek.Tests.Serving;

public sealed class SchedulerTests
{
    private static readonly string Qwen = Fixtures.Path("llamacpp", "models", "tiny-qwen2-f32.gguf");
    private static readonly string DeepSeek = Fixtures.Path("llamacpp", "models", "tiny-ds2-v3-f32.gguf");

    [Theory]
    [InlineData("tiny-qwen2-f32.gguf")]
    [InlineData("tiny-ds2-v3-f32.gguf")]
    [InlineData("tiny-ds2-lite-q8_0.gguf")]
    public void Bundle_loads_model_tokenizer_and_template_from_gguf(string file)
    {
        using var bundle = ModelBundle.Load(Fixtures.Path("llamacpp", "models", file));
        Assert.Equal(Path.GetFileNameWithoutExtension(file), bundle.Name);
        Assert.NotEmpty(bundle.StopTokens);
        int[] ids = bundle.Template.Encode(bundle.Tokenizer, [ChatMessage.User("hello")]);
        Assert.NotEmpty(ids);
    }

    [Fact]
    public async Task Scheduled_greedy_output_equals_the_plain_generator()
    {
        using var bundle = ModelBundle.Load(Qwen);
        using var pipeline = new ChatPipeline(bundle);
        var prompt = pipeline.PrepareChat([ChatMessage.User("Tell me a story about a cat.")]);
        var expected = new Generator(bundle.Model).Generate(prompt.Tokens, new GenerationOptions { MaxTokens = 12, StopTokens = [.. bundle.StopTokens] }).ToArray();

        using var handle = pipeline.Scheduler.Submit(new SequenceRequest(prompt.Tokens, 12, SamplingOptions.Greedy) { StopTokens = bundle.StopTokens });
        var got = new List<int>();
        await foreach (var t in handle.Tokens.ReadAllAsync()) got.Add(t.Token);
        Assert.Equal(expected, got);
    }

    [Fact]
    public async Task Concurrent_sequences_give_the_same_tokens_as_each_alone()
    {
        using var bundle = ModelBundle.Load(DeepSeek);
        string[] questions = ["one", "two two", "three three three", "a much longer question about many things", "five", "six"];
        var prompts = questions.Select(q => bundle.Template.Encode(bundle.Tokenizer, [ChatMessage.User(q)])).ToArray();
        var sampling = new SamplingOptions { Temperature = 0.9f, TopP = 0.95f, Seed = 42 };

        using var alone = new ChatPipeline(bundle, new SchedulerOptions { MaxActive = 1, PrefixCacheEntries = 0 });
        var expected = new List<int[]>();
        foreach (var p in prompts) expected.Add(await Collect(alone.Scheduler.Submit(new SequenceRequest(p, 10, sampling))));

        using var together = new ChatPipeline(bundle, new SchedulerOptions { MaxActive = 4, PrefillChunk = 3 });
        var tasks = prompts.Select(p => Collect(together.Scheduler.Submit(new SequenceRequest(p, 10, sampling)))).ToArray();
        var got = await Task.WhenAll(tasks);
        for (int i = 0; i < prompts.Length; i++) Assert.Equal(expected[i], got[i]);
        Assert.Equal(0, together.Scheduler.Metrics.ActiveSequences);
    }

    [Fact]
    public async Task Prefix_cache_reuses_whole_blocks_and_output_is_unchanged()
    {
        using var bundle = ModelBundle.Load(DeepSeek);
        using var pipeline = new ChatPipeline(bundle, new SchedulerOptions { BlockSize = 4 });
        var system = ChatMessage.System("You are a helpful assistant who answers every question with care and precision.");
        var first = pipeline.PrepareChat([system, ChatMessage.User("first question")]);
        var second = pipeline.PrepareChat([system, ChatMessage.User("second question")]);
        var a = await pipeline.CompleteAsync(first, new CompletionOptions { MaxTokens = 5 });
        Assert.Equal(0, a.Usage.CachedTokens);

        var b = await pipeline.CompleteAsync(second, new CompletionOptions { MaxTokens = 5 });
        int common = first.Tokens.AsSpan().CommonPrefixLength(second.Tokens);
        Assert.Equal(common / 4 * 4, b.Usage.CachedTokens);
        Assert.True(b.Usage.CachedTokens > 0);

        using var cold = new ChatPipeline(bundle, new SchedulerOptions { PrefixCacheEntries = 0 });
        var c = await cold.CompleteAsync(second, new CompletionOptions { MaxTokens = 5 });
        Assert.Equal(c.Reasoning + c.Content, b.Reasoning + b.Content);
        Assert.Equal(b.Usage.CachedTokens, pipeline.Scheduler.Metrics.PrefixCacheHitTokens);
    }

    [Fact]
    public async Task Cancelled_sequence_leaves_at_the_next_step()
    {
        using var bundle = ModelBundle.Load(Qwen);
        using var pipeline = new ChatPipeline(bundle);
        var prompt = pipeline.PrepareChat([ChatMessage.User("hi")]);
        using var handle = pipeline.Scheduler.Submit(new SequenceRequest(prompt.Tokens, 100_000, SamplingOptions.Greedy));
        await handle.Tokens.ReadAsync();
        handle.Cancel();
        // The channel completes once the scheduler drops the sequence; drain what was produced before that.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await foreach (var _ in handle.Tokens.ReadAllAsync(timeout.Token)) { }
        for (int i = 0; i < 100 && pipeline.Scheduler.Metrics.ActiveSequences > 0; i++) await Task.Delay(10);
        Assert.Equal(0, pipeline.Scheduler.Metrics.ActiveSequences);
        Assert.Equal(1, pipeline.Scheduler.Metrics.Cancelled);
    }

    [Fact]
    public void Full_queue_refuses_new_sequences()
    {
        using var bundle = ModelBundle.Load(Qwen);
        using var pipeline = new ChatPipeline(bundle, new SchedulerOptions { MaxActive = 1, MaxQueue = 2 });
        var prompt = pipeline.PrepareChat([ChatMessage.User("hi")]);
        var handles = new List<SequenceHandle>();
        Assert.Throws<QueueFullException>(() =>
        {
            for (int i = 0; i < 10; i++) handles.Add(pipeline.Scheduler.Submit(new SequenceRequest(prompt.Tokens, 100_000, SamplingOptions.Greedy)));
        });
        Assert.InRange(handles.Count, 2, 3);
        Assert.True(pipeline.Scheduler.Metrics.Rejected >= 1);
        foreach (var h in handles) h.Cancel();
    }

    [Fact]
    public void Bad_requests_fail_before_queueing()
    {
        using var bundle = ModelBundle.Load(Qwen);
        using var pipeline = new ChatPipeline(bundle, new SchedulerOptions { ContextSize = 16 });
        Assert.Throws<SharpSeekException>(() => pipeline.Scheduler.Submit(new SequenceRequest(new int[20], 1, SamplingOptions.Greedy)));
        Assert.Throws<SharpSeekException>(() => pipeline.Scheduler.Submit(new SequenceRequest([1], 1, new SamplingOptions { Temperature = -1 })));
        Assert.Throws<SharpSeekException>(() => pipeline.Scheduler.Submit(new SequenceRequest([], 1, SamplingOptions.Greedy)));
    }

    [Fact]
    public async Task Logprobs_are_of_the_model_distribution()
    {
        using var bundle = ModelBundle.Load(Qwen);
        using var pipeline = new ChatPipeline(bundle);
        var prompt = pipeline.PrepareChat([ChatMessage.User("hi")]);
        var r = await pipeline.CompleteAsync(prompt, new CompletionOptions { MaxTokens = 4, TopLogprobs = 3 });
        Assert.NotNull(r.Logprobs);
        Assert.Equal(r.Usage.CompletionTokens, r.Logprobs!.Count);
        foreach (var t in r.Logprobs)
        {
            Assert.Equal(3, t.Top.Count);
            Assert.True(t.Logprob <= 0);
            Assert.Equal(t.Top[0].Logprob, t.Logprob, 4);   // greedy picks the most likely
            Assert.True(t.Top[0].Logprob >= t.Top[1].Logprob && t.Top[1].Logprob >= t.Top[2].Logprob);
        }
    }

    private static async Task<int[]> Collect(SequenceHandle handle)
    {
        var list = new List<int>();
        await foreach (var t in handle.Tokens.ReadAllAsync()) list.Add(t.Token);
        return [.. list];
    }
}

/// <summary>
/// A sequence that fails inside a batched step fails alone with its error, and the sequences it shared steps with continue
/// with unchanged outputs: one whose prompt holds a token with a NaN embedding (the MoE gate then has no expert to pick and
/// throws inside the forward), one whose constraint throws while sampling.
/// </summary>
public sealed class SchedulerFailureTests
{
    private const int Poisoned = 77;

    private sealed class Throwing : ITokenConstraint
    {
        public void Mask(Span<float> logits) => throw new InvalidOperationException("constraint broke");
        public void Accept(int token) { }
    }

    [Fact]
    public async Task A_sequence_that_fails_in_a_batched_step_fails_alone()
    {
        using var dir = new SharpSeek.Tests.Support.TempDir().CopyFrom(Engine.GoldenData.Dir("v2lite-tiny"), "config.json", "model.safetensors");
        var tensors = SharpSeek.Tests.Support.TestSafetensors.Read(dir.File("model.safetensors"));
        var embed = tensors.Single(t => t.Name == "model.embed_tokens.weight");
        int d = (int)embed.Shape[1];
        var data = (byte[])embed.Data.Clone();
        for (int j = 0; j < d; j++) BitConverter.TryWriteBytes(data.AsSpan((Poisoned * d + j) * 4), float.NaN);
        tensors[tensors.IndexOf(embed)] = embed with { Data = data };
        SharpSeek.Tests.Support.TestSafetensors.Write(dir.File("model.safetensors"), tensors);
        using var model = SharpSeek.Models.ModelLoader.Load(dir.Path);

        int[][] prompts = [[0, 5, 6, 7], [0, 5, Poisoned, 7], [0, 9, 8], [0, 11, 12, 13, 14]];
        var options = new GenerationOptions { MaxTokens = 10, IgnoreEos = true };
        var alone = new[] { 0, 2 }.ToDictionary(i => i, i => new Generator(model).Generate(prompts[i], options).ToArray());
        Assert.All(alone.Values, a => Assert.Equal(10, a.Length));

        using var scheduler = new Scheduler(model, new SchedulerOptions { MaxActive = 4, PrefixCacheEntries = 0 });
        var handles = prompts.Select((p, i) => scheduler.Submit(new SequenceRequest(p, 10, SamplingOptions.Greedy)
        {
            Constraint = i == 3 ? new Throwing() : null,
        })).ToArray();
        foreach (int i in new[] { 0, 2 })
        {
            var got = new List<int>();
            await foreach (var t in handles[i].Tokens.ReadAllAsync()) got.Add(t.Token);
            Assert.Equal(alone[i], got);
        }
        // The gate's own error (issue 17 point 6), not a failure of the batch around it.
        var nan = await Assert.ThrowsAsync<SharpSeekException>(async () => { await foreach (var _ in handles[1].Tokens.ReadAllAsync()) { } });
        Assert.Contains("router's scores are not finite", nan.Message);
        var broke = await Assert.ThrowsAsync<InvalidOperationException>(async () => { await foreach (var _ in handles[3].Tokens.ReadAllAsync()) { } });
        Assert.Equal("constraint broke", broke.Message);
        Assert.Equal(2, scheduler.Metrics.Completed);
    }
}
