namespace SharpSeek.Tokenization;

/// <summary>Builds a <see cref="Tokenizer"/> from <see cref="GgufVocabulary"/> data.</summary>
internal static class GgufTokenizerFactory
{
    private const int TypeControl = 3, TypeUserDefined = 4;

    public static Tokenizer Create(GgufVocabulary v)
    {
        ArgumentNullException.ThrowIfNull(v);
        if (v.TokenTypes is { } tt && tt.Length != v.Tokens.Length)
            throw new ModelFormatException($"GGUF tokenizer: {tt.Length} token types for {v.Tokens.Length} tokens");
        PreTokenizerPatterns.GgufPre pre = PreTokenizerPatterns.LookupGguf(v.Pre)
            ?? throw new ModelFormatException($"GGUF tokenizer: key 'tokenizer.ggml.pre' = '{v.Pre}' is not a pre-tokenizer this engine knows (known: {PreTokenizerPatterns.KnownGgufNames})");

        var vocab = new Dictionary<string, int>(v.Tokens.Length, StringComparer.Ordinal);
        var added = new List<AddedToken>();
        for (int id = 0; id < v.Tokens.Length; id++)
        {
            string tok = v.Tokens[id] ?? throw new ModelFormatException($"GGUF tokenizer: token {id} is null");
            vocab.TryAdd(tok, id);
            int type = v.TokenTypes?[id] ?? 1;
            if (type == TypeControl) added.Add(new AddedToken(id, tok, Special: true));
            else if (type == TypeUserDefined) added.Add(new AddedToken(id, tok, Special: false));
        }
        var merges = new (string, string)[v.Merges.Length];
        for (int i = 0; i < merges.Length; i++)
        {
            string m = v.Merges[i];
            int sp = m.IndexOf(' ', 1);
            if (sp <= 0 || sp == m.Length - 1) throw new ModelFormatException($"GGUF tokenizer: merge #{i} '{m}' is not two tokens separated by a space");
            merges[i] = (m[..sp], m[(sp + 1)..]);
        }
        var model = new BpeModel(vocab, merges, pre.IgnoreMerges);
        string? bos = v.BosId is int b && (uint)b < (uint)v.Tokens.Length ? v.Tokens[b] : null;
        string? eos = v.EosId is int e && (uint)e < (uint)v.Tokens.Length ? v.Tokens[e] : null;
        var config = new TokenizerConfig
        {
            ChatTemplate = v.ChatTemplate,
            BosToken = bos,
            EosToken = eos,
            AddBosToken = v.AddBos ?? true,
            GgufPre = v.Pre,
        };
        return new Tokenizer(model, null, PreTokenizerPatterns.Build(pre.Patterns), added, config: config);
    }
}
