using System.ClientModel;
using OpenAI;
using OpenAI.Chat;

namespace SharpSeek.Server.Tests;

/// <summary>The official OpenAI .NET SDK (2.15.0) against a live server, streaming and not.</summary>
public sealed class OpenAiSdkTests : IAsyncLifetime
{
    private LiveServer _server = null!;

    public async Task InitializeAsync() => _server = await LiveServer.StartAsync();
    public async Task DisposeAsync() => await _server.DisposeAsync();

    private ChatClient Client(string model = "deepseek-chat", string key = "unused") =>
        new(model, new ApiKeyCredential(key), new OpenAIClientOptions { Endpoint = new Uri(_server.BaseUri, "v1/") });

    private static ChatCompletionOptions Greedy(int max) => new() { MaxOutputTokenCount = max, Temperature = 0 };

    [Fact]
    public async Task Non_streaming_completion_has_content_finish_and_usage()
    {
        ChatCompletion c = await Client().CompleteChatAsync([new UserChatMessage("Hello, who are you?")], Greedy(6));
        Assert.Equal(ChatMessageRole.Assistant, c.Role);
        Assert.NotEmpty(c.Content[0].Text);
        Assert.Equal(ChatFinishReason.Length, c.FinishReason);
        Assert.Equal(6, c.Usage.OutputTokenCount);
        Assert.True(c.Usage.InputTokenCount > 0);
        Assert.Equal(c.Usage.InputTokenCount + c.Usage.OutputTokenCount, c.Usage.TotalTokenCount);
        Assert.Equal("deepseek-chat", c.Model);
    }

    [Fact]
    public async Task Streaming_gives_the_same_greedy_text_and_usage_at_the_end()
    {
        var messages = new List<OpenAI.Chat.ChatMessage> { new SystemChatMessage("Be brief."), new UserChatMessage("Count to ten.") };
        ChatCompletion whole = await Client().CompleteChatAsync(messages, Greedy(8));
        var text = new System.Text.StringBuilder();
        ChatFinishReason? finish = null;
        ChatTokenUsage? usage = null;
        await foreach (var u in Client().CompleteChatStreamingAsync(messages, Greedy(8)))
        {
            foreach (var part in u.ContentUpdate) text.Append(part.Text);
            finish ??= u.FinishReason;
            usage ??= u.Usage;
        }
        Assert.Equal(whole.Content[0].Text, text.ToString());
        Assert.Equal(ChatFinishReason.Length, finish);
        Assert.NotNull(usage);
        Assert.Equal(8, usage!.OutputTokenCount);
        Assert.Equal(whole.Usage.InputTokenCount, usage.InputTokenCount);
    }

    [Fact]
    public async Task Prefix_cache_hits_are_reported_as_cached_tokens()
    {
        var system = new SystemChatMessage("You are SharpSeek, a careful assistant. You answer in full sentences and you never make things up. " +
            "When you are unsure you say so, and you keep every answer short, clear and kind.");
        ChatCompletion first = await Client().CompleteChatAsync([system, new UserChatMessage("What is two plus two?")], Greedy(2));
        ChatCompletion second = await Client().CompleteChatAsync([system, new UserChatMessage("And three plus three?")], Greedy(2));
        Assert.Equal(0, first.Usage.InputTokenDetails.CachedTokenCount);
        Assert.True(second.Usage.InputTokenDetails.CachedTokenCount >= 16, $"cached {second.Usage.InputTokenDetails.CachedTokenCount}");
        Assert.Equal(0, second.Usage.InputTokenDetails.CachedTokenCount % 16);
    }

    [Fact]
    public async Task Seeded_sampling_is_reproducible()
    {
        var options = new ChatCompletionOptions { MaxOutputTokenCount = 8, Temperature = 1.0f, TopP = 0.9f };
#pragma warning disable OPENAI001
        options.Seed = 1234;
#pragma warning restore OPENAI001
        ChatCompletion a = await Client().CompleteChatAsync([new UserChatMessage("Tell me a joke")], options);
        ChatCompletion b = await Client().CompleteChatAsync([new UserChatMessage("Tell me a joke")], options);
        Assert.Equal(a.Content[0].Text, b.Content[0].Text);
    }

    [Fact]
    public async Task Stop_sequences_and_logprobs_work()
    {
        ChatCompletion plain = await Client().CompleteChatAsync([new UserChatMessage("hi")], Greedy(8));
        string text = plain.Content[0].Text;
        Assert.True(text.Length >= 3, text);
        string stop = text.Substring(2, 1);
        var options = Greedy(8);
        options.StopSequences.Add(stop);
        ChatCompletion stopped = await Client().CompleteChatAsync([new UserChatMessage("hi")], options);
        Assert.Equal(text[..text.IndexOf(stop, StringComparison.Ordinal)], stopped.Content.Count == 0 ? "" : stopped.Content[0].Text);
        Assert.Equal(ChatFinishReason.Stop, stopped.FinishReason);

        var lp = Greedy(4);
        lp.IncludeLogProbabilities = true;
        lp.TopLogProbabilityCount = 2;
        ChatCompletion withLogprobs = await Client().CompleteChatAsync([new UserChatMessage("hi")], lp);
        Assert.Equal(4, withLogprobs.ContentTokenLogProbabilities.Count);
        Assert.All(withLogprobs.ContentTokenLogProbabilities, t => Assert.Equal(2, t.TopLogProbabilities.Count));
    }

    [Fact]
    public async Task Unknown_model_is_404_in_openai_shape()
    {
        var e = await Assert.ThrowsAsync<ClientResultException>(() => Client("gpt-17").CompleteChatAsync([new UserChatMessage("hi")], Greedy(2)));
        Assert.Equal(404, e.Status);
        Assert.Contains("gpt-17", e.Message);
    }
}
