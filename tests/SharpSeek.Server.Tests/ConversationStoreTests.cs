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

    /// <summary>
    /// Long texts with a NUL: a .NET string over 512 UTF-8 bytes, bound as a string parameter, reaches SQLite NUL-terminated,
    /// which cut a saved reply at its first U+0000 (a random-weight model writes one now and then). Titles, replies and
    /// reasoning all keep it.
    /// </summary>
    public static TheoryData<string> LongTextsWithNul => new()
    {
        new string('a', 300) + "\0" + new string('b', 300),
        string.Concat(Enumerable.Repeat("ų深🙂", 60)) + "\0 the rest \0",
        "\0" + new string('x', 5000),
    };

    [Theory]
    [MemberData(nameof(LongTextsWithNul))]
    public void Long_texts_keep_their_nul_characters(string text)
    {
        string id;
        using (var store = new ConversationStore(_data))
        {
            id = store.Create(text).Id;
            store.Add(id, "user", text);
            store.Add(id, "assistant", text, reasoning: text + "!");
        }
        using var reopened = new ConversationStore(_data);
        var messages = reopened.Messages(id);
        Assert.Equal([text, text], messages.Select(m => m.Content));
        Assert.Equal([null, text + "!"], messages.Select(m => m.Reasoning));
        Assert.Equal(text, reopened.Get(id)!.Title);
        Assert.True(reopened.Rename(id, "renamed " + text));
        Assert.Equal("renamed " + text, reopened.Get(id)!.Title);
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
