using Microsoft.Extensions.AI;
using OllamaSharp;

namespace SharpSeek.Server.Tests;

/// <summary>OllamaSharp 5.5.2 against the Ollama-compatible routes: tags, chat with thinking, generate.</summary>
public sealed class OllamaSharpTests : IAsyncLifetime
{
    private LiveServer _server = null!;

    public async Task InitializeAsync() => _server = await LiveServer.StartAsync(reasoning: true);
    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Lists_models_and_reports_version()
    {
        using var ollama = new OllamaApiClient(_server.BaseUri, "sharpseek");
        var models = (await ollama.ListLocalModelsAsync()).ToList();
        Assert.Contains(models, m => m.Name == "sharpseek:latest");
        Assert.All(models, m => Assert.True(m.Size > 0));
        Assert.NotNull(await ollama.GetVersionAsync());
        Assert.True(await ollama.IsRunningAsync());
    }

    [Fact]
    public async Task Chat_client_streams_thinking_then_usage()
    {
        using var ollama = new OllamaApiClient(_server.BaseUri, "sharpseek");
        IChatClient client = ollama;
        var updates = new List<ChatResponseUpdate>();
        await foreach (var u in client.GetStreamingResponseAsync([new(ChatRole.User, "hello")], new ChatOptions { MaxOutputTokens = 5, Temperature = 0 }))
            updates.Add(u);
        Assert.NotEmpty(string.Concat(updates.SelectMany(u => u.Contents).OfType<TextReasoningContent>().Select(t => t.Text)));
        var usage = updates.SelectMany(u => u.Contents).OfType<UsageContent>().Single();
        Assert.Equal(5, usage.Details.OutputTokenCount);
        Assert.Equal(ChatFinishReason.Length, updates.Last(u => u.FinishReason is not null).FinishReason);
    }

    [Fact]
    public async Task Generate_streams_a_completion()
    {
        using var ollama = new OllamaApiClient(_server.BaseUri, "sharpseek");
        var text = new System.Text.StringBuilder();
        OllamaSharp.Models.GenerateDoneResponseStream? done = null;
        await foreach (var r in ollama.GenerateAsync(new OllamaSharp.Models.GenerateRequest { Prompt = "Once upon a time", Raw = true, Options = new OllamaSharp.Models.RequestOptions { NumPredict = 4, Temperature = 0 } }))
        {
            text.Append(r!.Response);
            if (r is OllamaSharp.Models.GenerateDoneResponseStream d) done = d;
        }
        Assert.NotNull(done);
        Assert.Equal(4, done!.EvalCount);
        Assert.NotEmpty(text.ToString());
    }
}
