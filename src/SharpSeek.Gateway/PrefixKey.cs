using System.Buffers.Binary;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace SharpSeek.Gateway;

/// <summary>
/// What a request's prefix-cache affinity is decided by: a chained hash over the conversation's leading messages
/// (system and developer messages and the first user message, each hash folding in the one before), so every turn of a
/// conversation, which resends those messages unchanged, gets the same key. A plain <c>prompt</c> (completions,
/// Ollama's generate) is hashed by its first <see cref="PromptChars"/> characters in chained 64-character pieces.
/// Requests without either have no key and go to the least-loaded replica.
/// </summary>
public static class PrefixKey
{
    /// <summary>Messages hashed at most: enough for a system prompt, a developer message and the first question.</summary>
    public const int MaxMessages = 4;

    /// <summary>Characters of a plain prompt hashed.</summary>
    public const int PromptChars = 256;

    private const int PromptPiece = 64;

    /// <summary>The key of a request body, or null when it has no conversation or prompt to key by.</summary>
    public static ulong? Of(JsonElement body)
    {
        if (body.ValueKind != JsonValueKind.Object) return null;
        if (body.TryGetProperty("messages", out var messages) && messages.ValueKind == JsonValueKind.Array && messages.GetArrayLength() > 0)
        {
            ulong h = 0;
            int n = 0;
            foreach (var m in messages.EnumerateArray())
            {
                if (m.ValueKind != JsonValueKind.Object || n == MaxMessages) break;
                string role = m.TryGetProperty("role", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString()! : "";
                h = Chain(h, role, Text(m));
                n++;
                if (role == "user") break;
            }
            return h;
        }
        if (body.TryGetProperty("prompt", out var prompt))
        {
            string text = prompt.ValueKind switch
            {
                JsonValueKind.String => prompt.GetString()!,
                JsonValueKind.Array when prompt.GetArrayLength() > 0 && prompt[0].ValueKind == JsonValueKind.String => prompt[0].GetString()!,
                _ => "",
            };
            if (text.Length == 0) return null;
            ulong h = 0;
            for (int at = 0; at < Math.Min(text.Length, PromptChars); at += PromptPiece)
                h = Chain(h, "prompt", text.Substring(at, Math.Min(PromptPiece, text.Length - at)));
            return h;
        }
        return null;
    }

    /// <summary>A message's text: a string content, or the text parts of a content array in order.</summary>
    private static string Text(JsonElement message)
    {
        if (!message.TryGetProperty("content", out var c)) return "";
        if (c.ValueKind == JsonValueKind.String) return c.GetString()!;
        if (c.ValueKind != JsonValueKind.Array) return "";
        return string.Concat(c.EnumerateArray()
            .Where(p => p.ValueKind == JsonValueKind.Object && p.TryGetProperty("text", out var t) && t.ValueKind == JsonValueKind.String)
            .Select(p => p.GetProperty("text").GetString()));
    }

    /// <summary>hash(previous ‖ role ‖ 0 ‖ text): each link depends on every message before it.</summary>
    internal static ulong Chain(ulong previous, string role, string text)
    {
        var hash = new XxHash64();
        Span<byte> prev = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(prev, previous);
        hash.Append(prev);
        hash.Append(MemoryMarshal.AsBytes(role.AsSpan()));
        hash.Append([0, 0]);
        hash.Append(MemoryMarshal.AsBytes(text.AsSpan()));
        return hash.GetCurrentHashAsUInt64();
    }
}
