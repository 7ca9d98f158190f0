using Microsoft.Data.Sqlite;

namespace SharpSeek.Server.WebApp;

/// <summary>A stored conversation message.</summary>
public sealed record StoredMessage(long Id, string Role, string Content, string? Reasoning, DateTimeOffset Created);

/// <summary>A conversation's header.</summary>
public sealed record StoredConversation(string Id, string Title, DateTimeOffset Created, DateTimeOffset Updated);

/// <summary>
/// The web app's conversations in SQLite (WAL, so reads never wait for a write). One connection per call: SQLite
/// connections are cheap and not thread-safe. Without a directory the database lives in memory for the server's lifetime.
/// Text that people or the model wrote (titles, messages, reasoning) is bound as UTF-8 bytes and cast to TEXT in SQL, never
/// as a .NET string: Microsoft.Data.Sqlite 10 (over SQLitePCLRaw 2.1) hands SQLite a string whose UTF-8 form is over 512
/// bytes as NUL-terminated text (measured: 512 bytes kept whole, 513 cut), so such a reply was kept only up to its first
/// U+0000, which a random or confused model does write.
/// </summary>
public sealed class ConversationStore : IDisposable
{
    private readonly string _connectionString;
    private readonly SqliteConnection? _keepAlive;

    public ConversationStore(string? directory)
    {
        if (directory is null)
        {
            _connectionString = $"Data Source=webapp-{Guid.NewGuid():N};Mode=Memory;Cache=Shared";
            _keepAlive = new SqliteConnection(_connectionString);
            _keepAlive.Open();
        }
        else
        {
            Directory.CreateDirectory(directory);
            _connectionString = new SqliteConnectionStringBuilder { DataSource = Path.Combine(directory, "conversations.db"), Pooling = true }.ToString();
        }
        using var c = Open();
        Exec(c, directory is null ? "" : "PRAGMA journal_mode=WAL;");
        Exec(c, """
            CREATE TABLE IF NOT EXISTS conversations (id TEXT PRIMARY KEY, title TEXT NOT NULL, created INTEGER NOT NULL, updated INTEGER NOT NULL);
            CREATE TABLE IF NOT EXISTS messages (id INTEGER PRIMARY KEY AUTOINCREMENT, conversation TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
                role TEXT NOT NULL, content TEXT NOT NULL, reasoning TEXT, created INTEGER NOT NULL);
            CREATE INDEX IF NOT EXISTS messages_by_conversation ON messages(conversation, id);
            """);
    }

    private SqliteConnection Open()
    {
        var c = new SqliteConnection(_connectionString);
        c.Open();
        Exec(c, "PRAGMA foreign_keys=ON;");
        return c;
    }

    private static void Exec(SqliteConnection c, string sql, params (string Name, object? Value)[] args)
    {
        if (sql.Length == 0) return;
        using var cmd = Command(c, sql, args);
        cmd.ExecuteNonQuery();
    }

    private static SqliteCommand Command(SqliteConnection c, string sql, params (string Name, object? Value)[] args)
    {
        var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        foreach (var (name, value) in args) cmd.Parameters.AddWithValue(name, value ?? DBNull.Value);
        return cmd;
    }

    private static long Now => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    /// <summary>A value for a <c>CAST($p AS TEXT)</c> parameter: the text's UTF-8 bytes, every character kept (see the class).</summary>
    private static byte[]? Text(string? text) => text is null ? null : System.Text.Encoding.UTF8.GetBytes(text);

    public StoredConversation Create(string title)
    {
        string id = Guid.NewGuid().ToString("N")[..16];
        long now = Now;
        using var c = Open();
        Exec(c, "INSERT INTO conversations(id, title, created, updated) VALUES ($id, CAST($t AS TEXT), $n, $n)", ("$id", id), ("$t", Text(title)), ("$n", now));
        return new StoredConversation(id, title, DateTimeOffset.FromUnixTimeMilliseconds(now), DateTimeOffset.FromUnixTimeMilliseconds(now));
    }

    public IReadOnlyList<StoredConversation> List()
    {
        using var c = Open();
        using var cmd = Command(c, "SELECT id, title, created, updated FROM conversations ORDER BY updated DESC");
        using var r = cmd.ExecuteReader();
        var list = new List<StoredConversation>();
        while (r.Read()) list.Add(new StoredConversation(r.GetString(0), r.GetString(1), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(2)), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(3))));
        return list;
    }

    public StoredConversation? Get(string id) => List().FirstOrDefault(x => x.Id == id);

    public IReadOnlyList<StoredMessage> Messages(string id)
    {
        using var c = Open();
        using var cmd = Command(c, "SELECT id, role, content, reasoning, created FROM messages WHERE conversation = $id ORDER BY id", ("$id", id));
        using var r = cmd.ExecuteReader();
        var list = new List<StoredMessage>();
        while (r.Read()) list.Add(new StoredMessage(r.GetInt64(0), r.GetString(1), r.GetString(2), r.IsDBNull(3) ? null : r.GetString(3), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(4))));
        return list;
    }

    public void Add(string id, string role, string content, string? reasoning = null)
    {
        long now = Now;
        using var c = Open();
        using var tx = c.BeginTransaction();
        Exec(c, "INSERT INTO messages(conversation, role, content, reasoning, created) VALUES ($id, $r, CAST($c AS TEXT), CAST($re AS TEXT), $n)",
            ("$id", id), ("$r", role), ("$c", Text(content)), ("$re", Text(reasoning)), ("$n", now));
        Exec(c, "UPDATE conversations SET updated = $n WHERE id = $id", ("$id", id), ("$n", now));
        tx.Commit();
    }

    /// <summary>
    /// Deletes the messages of conversation <paramref name="id"/> from message <paramref name="fromMessage"/> on (it included),
    /// for an edited question or a regenerated answer; returns how many went.
    /// </summary>
    public int Truncate(string id, long fromMessage)
    {
        using var c = Open();
        using var cmd = Command(c, "DELETE FROM messages WHERE conversation = $id AND id >= $from", ("$id", id), ("$from", fromMessage));
        return cmd.ExecuteNonQuery();
    }

    public bool Rename(string id, string title)
    {
        using var c = Open();
        using var cmd = Command(c, "UPDATE conversations SET title = CAST($t AS TEXT) WHERE id = $id", ("$id", id), ("$t", Text(title)));
        return cmd.ExecuteNonQuery() == 1;
    }

    public bool Delete(string id)
    {
        using var c = Open();
        using var cmd = Command(c, "DELETE FROM conversations WHERE id = $id", ("$id", id));
        return cmd.ExecuteNonQuery() == 1;
    }

    public void Dispose()
    {
        _keepAlive?.Dispose();
        SqliteConnection.ClearAllPools();
    }
}
