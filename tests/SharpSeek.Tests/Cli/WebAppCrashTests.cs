using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Data.Sqlite;
using SharpSeek.Tests.Support;

namespace SharpSeek.Tests.Cli;

/// <summary>
/// Issue 17.5 with a real <c>sharpseek serve</c> process: the web app saves the assistant's reply before it sends
/// <c>done</c>, so kill -9 right after the browser saw <c>done</c> never loses the reply (it did in 4 of 30 rounds).
/// To see the order without racing the process, the test holds SQLite's write lock once the answer streams: the reply
/// cannot be saved meanwhile, so a <c>done</c> that arrives then, with no reply in the database, is the defect.
/// </summary>
public sealed class WebAppCrashTests : IDisposable
{
    private readonly TempDir _data = new();

    public void Dispose() => _data.Dispose();

    private Task<(SharpSeekProcess, HttpClient)> Serve() =>
        SharpSeekProcess.ServeAsync(["--model", Fixtures.Path("llamacpp", "models", "tiny-ds2-v3-q8_0.gguf"), "--ctx", "256", "--data-dir", _data.Path]);

    [Fact]
    public async Task A_reply_that_reached_done_is_saved_and_survives_kill_9()
    {
        const int rounds = 2;
        var conversations = new List<(string Id, string Reply)>();
        for (int round = 0; round < rounds; round++)
        {
            var (server, http) = await Serve();
            using (server)
            using (http)
            {
                using var created = await http.PostAsync("app/conversations", new StringContent("{\"title\":\"crash\"}", Encoding.UTF8, "application/json"));
                string id = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString()!;
                using var request = new HttpRequestMessage(HttpMethod.Post, $"app/conversations/{id}/messages")
                {
                    Content = new StringContent("{\"content\":\"What is 2 + 3?\"}", Encoding.UTF8, "application/json"),
                };
                using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
                var events = Channel.CreateUnbounded<JsonElement>();
                var reader = Task.Run(async () =>
                {
                    using var lines = new StreamReader(await response.Content.ReadAsStreamAsync());
                    while (await lines.ReadLineAsync() is { } line)
                        if (line.StartsWith("data: ", StringComparison.Ordinal)) await events.Writer.WriteAsync(JsonDocument.Parse(line["data: ".Length..]).RootElement.Clone());
                    events.Writer.TryComplete();
                });

                var reply = new StringBuilder();
                bool Take(JsonElement e)
                {
                    if (e.TryGetProperty("content", out var c)) reply.Append(c.GetString());
                    return e.TryGetProperty("done", out _);
                }
                // The first event means the user's message is committed; from here the reply's save needs the lock.
                bool done = Take(await events.Reader.ReadAsync());
                using (var db = new SqliteConnection($"Data Source={Path.Combine(_data.Path, "conversations.db")};Pooling=False"))
                {
                    db.Open();
                    using (var begin = db.CreateCommand()) { begin.CommandText = "BEGIN IMMEDIATE"; begin.ExecuteNonQuery(); }
                    using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(1.5));
                    try
                    {
                        while (!done) done = Take(await events.Reader.ReadAsync(wait.Token));
                    }
                    catch (OperationCanceledException) { }
                    if (done)
                    {
                        using var count = db.CreateCommand();
                        count.CommandText = "SELECT count(*) FROM messages WHERE conversation = $id AND role = 'assistant'";
                        count.Parameters.AddWithValue("$id", id);
                        Assert.True((long)count.ExecuteScalar()! == 1, "'done' reached the browser before the reply was saved");
                    }
                    using (var rollback = db.CreateCommand()) { rollback.CommandText = "ROLLBACK"; rollback.ExecuteNonQuery(); }
                }
                while (!done) done = Take(await events.Reader.ReadAsync());
                server.KillHard();
                conversations.Add((id, reply.ToString()));
            }
        }

        var (after, client) = await Serve();
        using (after)
        using (client)
        {
            foreach (var (id, reply) in conversations)
            {
                var c = JsonDocument.Parse(await client.GetStringAsync($"app/conversations/{id}")).RootElement;
                var messages = c.GetProperty("messages").EnumerateArray().ToList();
                Assert.True(messages.Count == 2, $"conversation {id}: {messages.Count} messages after kill -9 (the reply was lost)");
                Assert.Equal("assistant", messages[1].GetProperty("role").GetString());
                Assert.Equal(reply, messages[1].GetProperty("content").GetString());
            }
        }
    }
}
