using System.ClientModel;
using Microsoft.Extensions.AI;
using OpenAI;

namespace SharpSeek.Server.Tests;

/// <summary>Microsoft.Extensions.AI.OpenAI 10.11.0: reasoning must surface as <see cref="TextReasoningContent"/>.</summary>
public sealed class ExtensionsAiTests : IAsyncLifetime
{
    private LiveServer _server = null!;

    public async Task InitializeAsync() => _server = await LiveServer.StartAsync(reasoning: true);
    public async Task DisposeAsync() => await _server.DisposeAsync();

    private IChatClient Client() =>
        new OpenAIClient(new ApiKeyCredential("unused"), new OpenAIClientOptions { Endpoint = new Uri(_server.BaseUri, "v1/") })
            .GetChatClient("deepseek-reasoner").AsIChatClient();

    [Fact]
    public async Task Streaming_reasoning_arrives_as_TextReasoningContent_with_usage_and_finish()
    {
        var updates = new List<ChatResponseUpdate>();
        await foreach (var u in Client().GetStreamingResponseAsync([new(ChatRole.User, "Why is the sky blue?")], new ChatOptions { MaxOutputTokens = 6, Temperature = 0 }))
            updates.Add(u);
        var reasoning = string.Concat(updates.SelectMany(u => u.Contents).OfType<TextReasoningContent>().Select(r => r.Text));
        Assert.NotEmpty(reasoning);
        var usage = updates.SelectMany(u => u.Contents).OfType<UsageContent>().Single();
        Assert.Equal(6, usage.Details.OutputTokenCount);
        Assert.True(usage.Details.InputTokenCount > 0);
        Assert.Equal(ChatFinishReason.Length, updates.Select(u => u.FinishReason).Last(f => f is not null));

        // The same request without streaming gives the same reasoning.
        var whole = await Client().GetResponseAsync([new(ChatRole.User, "Why is the sky blue?")], new ChatOptions { MaxOutputTokens = 6, Temperature = 0 });
        Assert.Equal(reasoning, string.Concat(whole.Messages.SelectMany(m => m.Contents).OfType<TextReasoningContent>().Select(r => r.Text)));
        Assert.Equal(6, whole.Usage!.OutputTokenCount);
    }

    [Fact]
    public async Task History_with_reasoning_and_options_is_accepted()
    {
        var history = new List<ChatMessage>
        {
            new(ChatRole.System, "Be brief."),
            new(ChatRole.User, "2+2?"),
            new(ChatRole.Assistant, [new TextReasoningContent("easy"), new TextContent("4")]),
            new(ChatRole.User, "3+3?"),
        };
        var r = await Client().GetResponseAsync(history, new ChatOptions { MaxOutputTokens = 4, Temperature = 0.5f, TopP = 0.9f, Seed = 3, StopSequences = ["\n\n"] });
        Assert.NotNull(r.FinishReason);
        Assert.True(r.Usage!.OutputTokenCount <= 4);
    }
}
