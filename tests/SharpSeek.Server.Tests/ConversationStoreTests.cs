using SharpSeek.Server.WebApp;

namespace SharpSeek.Server.Tests;

/// <summary>What the web app saves comes back character for character, after the store is closed and opened again.</summary>
public sealed class ConversationStoreTests : IDisposable
{
    private readonly string _data = Directory.CreateTempSubdirectory("store-").FullName;

    public void Dispose() => Directory.Delete(_data, recursive: true);

    [Theory]
    [InlineData("plain text")]
    [InlineData("a NUL \0 in the middle and one at the end\0")]
    [InlineData("\0")]
    [InlineData("emoji 🙂, CJK 深度求索, combining e\u0301, replacement \uFFFD")]
    public void Messages_round_trip_exactly(string text)
    {
        string id;
        using (var store = new ConversationStore(_data))
        {
            id = store.Create("t").Id;
            store.Add(id, "user", text);
            store.Add(id, "assistant", text, reasoning: "thought " + text);
            store.Add(id, "assistant", "no reasoning");
        }
        using var reopened = new ConversationStore(_data);
        var messages = reopened.Messages(id);
        Assert.Equal([text, text, "no reasoning"], messages.Select(m => m.Content));
        Assert.Equal([null, "thought " + text, null], messages.Select(m => m.Reasoning));
    }
}

/// <summary>The conversation API gives back what the store holds, NUL characters included.</summary>
public sealed class ConversationApiTests : IDisposable
{
    private readonly string _data = Directory.CreateTempSubdirectory("store-api-").FullName;

    public void Dispose() => Directory.Delete(_data, recursive: true);

    [Fact]
    public async Task A_saved_message_with_a_nul_reads_back_whole()
    {
        const string text = "r2ou\"\0\uFFFD\u0010 in j an";
        string id;
        using (var store = new ConversationStore(_data))
        {
            id = store.Create("t").Id;
            store.Add(id, "user", "q");
            store.Add(id, "assistant", text);
        }
        await using var server = await LiveServer.StartAsync(dataDirectory: _data);
        var c = System.Text.Json.JsonDocument.Parse(await server.Http.GetStringAsync($"app/conversations/{id}")).RootElement;
        Assert.Equal(text, c.GetProperty("messages")[1].GetProperty("content").GetString());
    }
}
