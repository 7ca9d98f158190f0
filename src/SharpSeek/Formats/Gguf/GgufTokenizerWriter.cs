using SharpSeek.Tokenization;

namespace SharpSeek.Formats.Gguf;

/// <summary>
/// Writes a byte-level BPE tokenizer as GGUF <c>tokenizer.ggml.*</c> metadata (the keys llama.cpp's converter writes),
/// so a converted file carries its own tokenizer and chat template. The pre-tokenizer is stored only by name, so
/// the name is chosen by trying llama.cpp's known ones and keeping the first whose tokenizer encodes a set of
/// probe texts exactly as the source tokenizer does; if none does, conversion stops rather than write a file
/// that tokenizes differently.
/// </summary>
public static class GgufTokenizerWriter
{
    private const int TypeNormal = 1, TypeControl = 3, TypeUserDefined = 4;

    /// <summary>llama.cpp pre-tokenizer names this engine reads, most specific first (deepseek-r1-qwen is qwen2's patterns under another name).</summary>
    private static readonly string[] KnownPre = ["deepseek-v3", "qwen2", "llama-bpe", "deepseek-llm", "deepseek-coder", "gpt-2"];

    /// <summary>Texts whose pre-tokenization differs between the known pre-tokenizers (digit runs, CJK, contractions, whitespace, emoji).</summary>
    private static readonly string[] Probes =
    [
        "Hello world! It's 2026; 12345 + 678 = 13023.",
        "  two  spaces,\tа tab\n\nand\r\nlines   ",
        "你好，世界。日本語のテキストと한국어 텍스트",
        "don't I'll we've THEY'RE you'D",
        "emoji 😀👍🏽 and ℕ𝕆ℝ𝕄𝔸𝕃 text",
        "x=1+2*3; y==z || a<=b && c>=d // 3.14159",
        "Ünïcödé façade naïve café — 'quotes' «guillemets»",
        "<think>\nstep 1: 7*8=56\n</think>\n\\boxed{56}",
        "a,b;c!d?e:f \"q\" (p) [x] {y} <z> 3333333 — «»",
    ];

    /// <summary>Adds the tokenizer's metadata; <paramref name="vocabSize"/> is the model's, padded with <c>[PADn]</c> tokens as llama.cpp does.</summary>
    /// <exception cref="ModelFormatException">the tokenizer has more tokens than the model, or its pre-tokenizer has no llama.cpp name.</exception>
    public static string Write(GgufWriter w, Tokenizer tokenizer, int vocabSize, string source)
    {
        if (tokenizer.VocabSize > vocabSize)
            throw new ModelFormatException($"{source}: the tokenizer has {tokenizer.VocabSize} tokens but the model's vocab_size is {vocabSize}");
        var tokens = new string[vocabSize];
        var types = new int[vocabSize];
        for (int id = 0; id < vocabSize; id++)
        {
            string? t = tokenizer.IdToToken(id);
            tokens[id] = t ?? $"[PAD{id}]";
            types[id] = t is null ? TypeUserDefined : tokenizer.IsSpecial(id) ? TypeControl : tokenizer.IsAddedToken(id) ? TypeUserDefined : TypeNormal;
        }
        string[] merges = tokenizer.Model.MergesByRank().Select(m => m.Left + " " + m.Right).ToArray();
        string pre = DetectPre(tokenizer, tokens, merges, types, source);

        w.Set("tokenizer.ggml.model", "gpt2").Set("tokenizer.ggml.pre", pre)
         .Set("tokenizer.ggml.tokens", GgufValue.Array(tokens))
         .Set("tokenizer.ggml.token_type", GgufValue.Array(types))
         .Set("tokenizer.ggml.merges", GgufValue.Array(merges))
         .Set("tokenizer.ggml.add_bos_token", tokenizer.Config.AddBosToken);
        if (tokenizer.BosId is int bos) w.Set("tokenizer.ggml.bos_token_id", (uint)bos);
        if (tokenizer.EosId is int eos) w.Set("tokenizer.ggml.eos_token_id", (uint)eos);
        if (tokenizer.Config.ChatTemplate is { Length: > 0 } template) w.Set("tokenizer.chat_template", template);
        return pre;
    }

    private static string DetectPre(Tokenizer tokenizer, string[] tokens, string[] merges, int[] types, string source)
    {
        // Splits first: a vocabulary without multi-digit or multi-ideograph tokens encodes alike under several
        // pre-tokenizers, but llama.cpp applies the name's own splitting, which must be the source's.
        var wantSplits = Probes.Select(p => tokenizer.PreTokenizer.Split(p)).ToArray();
        var wantIds = Probes.Select(p => tokenizer.Encode(p, parseSpecial: false)).ToArray();
        foreach (string pre in KnownPre)
        {
            var splitter = PreTokenizerPatterns.Build(PreTokenizerPatterns.ForGgufName(pre)!);
            if (!Probes.Select((p, i) => splitter.Split(p).SequenceEqual(wantSplits[i])).All(ok => ok)) continue;
            var candidate = Tokenizer.FromGgufVocabulary(new GgufVocabulary(tokens, merges) { TokenTypes = types, Pre = pre });
            if (candidate.Model.IgnoreMerges != tokenizer.Model.IgnoreMerges) continue;
            if (Probes.Select((p, i) => candidate.Encode(p, parseSpecial: false).AsSpan().SequenceEqual(wantIds[i])).All(ok => ok)) return pre;
        }
        throw new ModelFormatException($"{source}: the tokenizer's pre-tokenizer matches none of llama.cpp's that this engine reads ({string.Join(", ", KnownPre)}); the GGUF would tokenize differently");
    }
}
