using SharpSeek.Tokenization;

namespace SharpSeek.Formats.Gguf;

/// <summary>The tokenizer stored in a GGUF file's <c>tokenizer.ggml.*</c> metadata (gpt2-style byte-level BPE).</summary>
public static class GgufTokenizer
{
    public static Tokenizer Load(string path)
    {
        using var file = new GgufFile(path);
        return Load(file);
    }

    public static Tokenizer Load(GgufFile file)
    {
        var vocabulary = ReadVocabulary(file);
        try { return Tokenizer.FromGgufVocabulary(vocabulary); }
        catch (ModelFormatException e) { throw new ModelFormatException($"{file.FileName}: {e.Message}", e); }
    }

    public static GgufVocabulary ReadVocabulary(GgufFile file)
    {
        string model = file.GetString("tokenizer.ggml.model") ?? "gpt2";
        if (model != "gpt2")
            throw new ModelFormatException(model == "llama"
                ? $"{file.FileName}: key 'tokenizer.ggml.model' = 'llama' is a SentencePiece tokenizer, which is not supported (only byte-level BPE, 'gpt2', is)"
                : $"{file.FileName}: key 'tokenizer.ggml.model' = '{model}' is not supported (only byte-level BPE, 'gpt2', is)");
        var tokens = file.GetArray<string>("tokenizer.ggml.tokens")
            ?? throw new ModelFormatException($"{file.FileName}: missing key 'tokenizer.ggml.tokens'");
        var merges = file.GetArray<string>("tokenizer.ggml.merges")
            ?? throw new ModelFormatException($"{file.FileName}: missing key 'tokenizer.ggml.merges' (required for gpt2 vocabularies)");
        CheckMerges(file, tokens, merges);
        int[]? types = null;
        if (file.TryGetValue("tokenizer.ggml.token_type", out var tt))
        {
            types = tt.Value switch
            {
                int[] a => a,
                uint[] a => Array.ConvertAll(a, v => (int)v),
                _ => throw new ModelFormatException($"{file.FileName}: key 'tokenizer.ggml.token_type' must be an array of integers"),
            };
            if (types.Length != tokens.Length)
                throw new ModelFormatException($"{file.FileName}: key 'tokenizer.ggml.token_type' has {types.Length} entries for {tokens.Length} tokens");
        }
        int? Id(string key)
        {
            long? v = file.GetInteger(key);
            if (v is null) return null;
            if (v < 0 || v >= tokens.Length) throw new ModelFormatException($"{file.FileName}: key '{key}' = {v} is outside the vocabulary (0..{tokens.Length - 1})");
            return (int)v;
        }
        return new GgufVocabulary(tokens, merges)
        {
            TokenTypes = types,
            BosId = Id("tokenizer.ggml.bos_token_id"),
            EosId = Id("tokenizer.ggml.eos_token_id"),
            Pre = file.GetString("tokenizer.ggml.pre"),
            AddBos = file.GetBool("tokenizer.ggml.add_bos_token"),
            ChatTemplate = file.GetString("tokenizer.chat_template"),
        };
    }

    /// <summary>
    /// Each merge is two tokens of the vocabulary joined by one space, split at the first space after the first character
    /// (as llama.cpp reads them): an empty or one-sided entry is refused here, naming the key and element.
    /// </summary>
    private static void CheckMerges(GgufFile file, string[] tokens, string[] merges)
    {
        var known = new HashSet<string>(tokens, StringComparer.Ordinal);
        for (int i = 0; i < merges.Length; i++)
        {
            string m = merges[i];
            int sp = m.Length < 3 ? -1 : m.IndexOf(' ', 1);
            string? problem = sp < 0 || sp == m.Length - 1 ? "is not two tokens separated by a space"
                : !known.Contains(m[..sp]) ? $"names '{m[..sp]}', which is not in tokenizer.ggml.tokens"
                : !known.Contains(m[(sp + 1)..]) ? $"names '{m[(sp + 1)..]}', which is not in tokenizer.ggml.tokens"
                : null;
            if (problem is not null) throw new ModelFormatException($"{file.FileName}: key 'tokenizer.ggml.merges': element {i} '{m}' {problem}");
        }
    }
}
