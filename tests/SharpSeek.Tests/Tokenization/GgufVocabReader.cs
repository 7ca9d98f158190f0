using System.Text;
using SharpSeek.Tokenization;

namespace SharpSeek.Tests.Tokenization;

/// <summary>
/// Reads just the tokenizer keys of a GGUF v3 header, for tests (the engine's GGUF reader lives elsewhere
/// and the tokenizer deliberately does not depend on it).
/// </summary>
internal static class GgufVocabReader
{
    public static GgufVocabulary Read(string path)
    {
        using var r = new BinaryReader(File.OpenRead(path), Encoding.UTF8);
        if (r.ReadUInt32() != 0x46554747) throw new InvalidDataException($"{path}: not GGUF");
        uint version = r.ReadUInt32();
        if (version < 2) throw new InvalidDataException($"{path}: GGUF v{version}");
        r.ReadUInt64(); // tensors
        ulong kvCount = r.ReadUInt64();
        var kv = new Dictionary<string, object>();
        for (ulong i = 0; i < kvCount; i++)
        {
            string key = Str(r);
            kv[key] = Value(r, r.ReadUInt32());
        }
        string[] tokens = ((object[])kv["tokenizer.ggml.tokens"]).Cast<string>().ToArray();
        string[] merges = kv.TryGetValue("tokenizer.ggml.merges", out object? m) ? ((object[])m).Cast<string>().ToArray() : [];
        int[]? types = kv.TryGetValue("tokenizer.ggml.token_type", out object? t) ? ((object[])t).Select(Convert.ToInt32).ToArray() : null;
        return new GgufVocabulary(tokens, merges)
        {
            TokenTypes = types,
            BosId = kv.TryGetValue("tokenizer.ggml.bos_token_id", out object? b) ? Convert.ToInt32(b) : null,
            EosId = kv.TryGetValue("tokenizer.ggml.eos_token_id", out object? e) ? Convert.ToInt32(e) : null,
            Pre = kv.TryGetValue("tokenizer.ggml.pre", out object? p) ? (string)p : null,
            AddBos = kv.TryGetValue("tokenizer.ggml.add_bos_token", out object? ab) ? (bool)ab : null,
            ChatTemplate = kv.TryGetValue("tokenizer.chat_template", out object? ct) ? (string)ct : null,
        };
    }

    private static string Str(BinaryReader r) => Encoding.UTF8.GetString(r.ReadBytes(checked((int)r.ReadUInt64())));

    private static object Value(BinaryReader r, uint type) => type switch
    {
        0 => r.ReadByte(),
        1 => r.ReadSByte(),
        2 => r.ReadUInt16(),
        3 => r.ReadInt16(),
        4 => r.ReadUInt32(),
        5 => r.ReadInt32(),
        6 => r.ReadSingle(),
        7 => r.ReadByte() != 0,
        8 => Str(r),
        9 => Array(r),
        10 => r.ReadUInt64(),
        11 => r.ReadInt64(),
        12 => r.ReadDouble(),
        _ => throw new InvalidDataException($"GGUF value type {type}"),
    };

    private static object[] Array(BinaryReader r)
    {
        uint type = r.ReadUInt32();
        ulong n = r.ReadUInt64();
        var items = new object[n];
        for (ulong i = 0; i < n; i++) items[i] = Value(r, type);
        return items;
    }
}
