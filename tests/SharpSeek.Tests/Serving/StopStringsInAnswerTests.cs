using SharpSeek.Chat;
using SharpSeek.Generation;
using SharpSeek.Serving;

namespace SharpSeek.Tests.Serving;

/// <summary>
/// Stop strings end the answer, not the reasoning: the bundled model reasons in column steps ("… carry0 got5") before
/// "The answer is \boxed{5}.", so a stop string that occurs only in its reasoning must leave both parts whole.
/// </summary>
public sealed class StopStringsInAnswerTests
{
    private static readonly string BundledModel = Path.Combine(Fixtures.RepoRoot, "models", "sharpseek-tiny");

    private static async Task<CompletionResult> AskAsync(ChatPipeline pipeline, params string[] stop)
    {
        var prompt = pipeline.PrepareChat([ChatMessage.User("What is 2 + 3?")]);
        return await pipeline.CompleteAsync(prompt, new CompletionOptions { MaxTokens = 200, Sampling = SamplingOptions.Greedy, Stop = stop });
    }

    [Fact]
    public async Task A_stop_string_in_the_reasoning_does_not_end_the_completion()
    {
        using var pipeline = new ChatPipeline(ModelBundle.Load(BundledModel), ownsBundle: true);
        var plain = await AskAsync(pipeline);
        Assert.Contains("carry", plain.Reasoning, StringComparison.Ordinal);
        Assert.DoesNotContain("carry", plain.Content, StringComparison.Ordinal);
        Assert.Contains(@"\boxed{5}", plain.Content, StringComparison.Ordinal);

        var stopped = await AskAsync(pipeline, "carry");
        Assert.Equal(plain.Reasoning, stopped.Reasoning);
        Assert.Equal(plain.Content, stopped.Content);
        Assert.Equal(plain.FinishReason, stopped.FinishReason);
    }

    [Fact]
    public async Task A_stop_string_in_the_answer_cuts_the_answer_there()
    {
        using var pipeline = new ChatPipeline(ModelBundle.Load(BundledModel), ownsBundle: true);
        var plain = await AskAsync(pipeline);
        var stopped = await AskAsync(pipeline, "boxed", "carry");
        Assert.Equal(plain.Reasoning, stopped.Reasoning);
        Assert.Equal(plain.Content[..plain.Content.IndexOf("boxed", StringComparison.Ordinal)], stopped.Content);
        Assert.Equal("stop", stopped.FinishReason);
        Assert.True(stopped.Usage.CompletionTokens < plain.Usage.CompletionTokens);
    }

    [Fact]
    public async Task Without_a_reasoning_split_stop_strings_apply_to_all_the_text()
    {
        using var pipeline = new ChatPipeline(ModelBundle.Load(BundledModel), ownsBundle: true);
        var prompt = pipeline.PrepareChat([ChatMessage.User("What is 2 + 3?")]);
        var raw = await pipeline.CompleteAsync(prompt, new CompletionOptions { MaxTokens = 200, SplitReasoning = false, Stop = ["carry"] });
        Assert.Equal("", raw.Reasoning);
        Assert.DoesNotContain("carry", raw.Content, StringComparison.Ordinal);
        Assert.DoesNotContain("boxed", raw.Content, StringComparison.Ordinal);
        Assert.Equal("stop", raw.FinishReason);
    }
}
