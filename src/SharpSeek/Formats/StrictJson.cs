using System.Text.Json;
using System.Text.Unicode;

namespace SharpSeek.Formats;

/// <summary>
/// Checks JSON text before anything reads values from it: System.Text.Json parses invalid UTF-8 inside strings and
/// escapes of lone surrogates (<c>"\ud800"</c>) without complaint and only fails later, when a string is read, with an
/// <see cref="InvalidOperationException"/>. One pass over the bytes finds those, and optionally keys that appear twice in
/// one object (a safetensors header must not have them), so callers can refuse the input with a message instead.
/// </summary>
public static class StrictJson
{
    /// <summary>Why <paramref name="json"/> cannot be read safely, or null when it can (syntax errors are left to the parser).</summary>
    public static string? Problem(ReadOnlySpan<byte> json, bool rejectDuplicateKeys)
    {
        if (!Utf8.IsValid(json))
        {
            int at = FirstInvalidUtf8(json);
            return $"invalid UTF-8 at byte {at}";
        }
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 64, CommentHandling = JsonCommentHandling.Disallow });
        var keys = rejectDuplicateKeys ? new Stack<HashSet<string>>() : null;
        try
        {
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.StartObject:
                        keys?.Push(new HashSet<string>(StringComparer.Ordinal));
                        break;
                    case JsonTokenType.EndObject:
                        keys?.Pop();
                        break;
                    case JsonTokenType.PropertyName:
                    case JsonTokenType.String:
                        bool name = reader.TokenType == JsonTokenType.PropertyName;
                        if (!reader.ValueIsEscaped && !(name && keys is not null)) break;
                        string text;
                        try { text = reader.GetString()!; }
                        catch (InvalidOperationException) { return $"a string at byte {reader.TokenStartIndex} escapes a lone surrogate (not valid Unicode)"; }
                        if (name && keys is not null && !keys.Peek().Add(text)) return $"key '{text}' appears twice in one object (byte {reader.TokenStartIndex})";
                        break;
                }
            }
        }
        catch (JsonException)
        {
            // Syntax errors: the parser that follows reports them with its own position.
        }
        return null;
    }

    private static int FirstInvalidUtf8(ReadOnlySpan<byte> bytes)
    {
        int at = 0;
        while (at < bytes.Length)
        {
            var status = System.Text.Rune.DecodeFromUtf8(bytes[at..], out _, out int consumed);
            if (status != System.Buffers.OperationStatus.Done) return at;
            at += consumed;
        }
        return at;
    }
}
