namespace SharpSeek.Tokenization;

/// <summary>
/// The pre-tokenizer patterns of the tokenizers we support, by name (llama.cpp's GGUF <c>tokenizer.ggml.pre</c>
/// values), so a GGUF vocabulary can be tokenized like its Hugging Face original.
/// </summary>
public static class PreTokenizerPatterns
{
    /// <summary>GPT-2's pattern (Hugging Face ByteLevel <c>use_regex</c>).</summary>
    public const string Gpt2 = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    /// <summary>DeepSeek-V3/R1: three Isolated splits in sequence (digits in threes, CJK/kana runs, the main pattern).</summary>
    public static readonly string[] DeepSeekV3 =
    [
        @"\p{N}{1,3}",
        @"[一-龥぀-ゟ゠-ヿ]+",
        @"[!""#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+",
    ];

    /// <summary>Qwen2/Qwen2.5/Qwen3 and DeepSeek-R1-Distill-Qwen: one split, single digits.</summary>
    public static readonly string[] Qwen2 =
    [
        @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+",
    ];

    /// <summary>
    /// DeepSeek-LLM (V1/V2): the pattern sequence of the original tokenizer.json (as in llama.cpp). The letter class
    /// is written with escapes because several endpoints (U+1F7D, U+1FBE, U+1FD3, U+1FDB, U+2126, U+212A) are
    /// canonical singletons that any NFC-normalizing editor would silently replace.
    /// </summary>
    public static readonly string[] DeepSeekLlm =
    [
        @"[\r\n]",
        "\\s?[A-Za-z\u00B5\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u01BA\u01BC-\u01BF\u01C4-\u0293\u0295-\u02AF\u0370-\u0373\u0376\u0377\u037B-\u037D\u037F\u0386\u0388-\u038A\u038C\u038E-\u03A1\u03A3-\u03F5\u03F7-\u0481\u048A-\u052F\u0531-\u0556\u10A0-\u10C5\u13A0-\u13F5\u13F8-\u13FD\u1C90-\u1CBA\u1CBD-\u1CBF\u1D00-\u1D2B\u1D6B-\u1D77\u1D79-\u1D9A\u1E00-\u1F15\u1F18-\u1F1D\u1F20-\u1F45\u1F48-\u1F4D\u1F50-\u1F57\u1F59\u1F5B\u1F5D\u1F5F-\u1F7D\u1F80-\u1FB4\u1FB6-\u1FBC\u1FBE\u1FC2-\u1FC4\u1FC6-\u1FCC\u1FD0-\u1FD3\u1FD6-\u1FDB\u1FE0-\u1FEC\u1FF2-\u1FF4\u1FF6-\u1FFC\u2102\u2107\u210A-\u2113\u2115\u2119-\u211D\u2124\u2126\u2128\u212A-\u212D\u212F-\u2134\u2139\u213C-\u213F\u2145-\u2149\u214E\u2183\u2184\u2C00-\u2C7B\u2C7E-\u2CE4\u2CEB-\u2CEE\u2CF2\u2CF3\uA640-\uA66D\uA680-\uA69B\uA722-\uA76F\uA771-\uA787\uA78B-\uA78E\uAB70-\uABBF\uFB00-\uFB06\uFB13-\uFB17\uFF21-\uFF3A\uFF41-\uFF5A\U00010400-\U0001044F\U000104B0-\U000104D3\U000104D8-\U000104FB\U00010C80-\U00010CB2\U00010CC0-\U00010CF2\U000118A0-\U000118DF\U0001E900-\U0001E943]+",
        @"\s?[!-/:-~！-／：-～‘-‟　-。]+",
        @"\s+$",
        @"[一-龥ࠀ-一가-퟿]+",
        @"\p{N}+",
    ];

    /// <summary>
    /// Llama-3 (<c>llama-bpe</c>), the tokenizer of DeepSeek-R1-Distill-Llama: contractions in any case, a letter run with
    /// one optional leading non-letter, digits in threes.
    /// </summary>
    public static readonly string[] Llama3 =
    [
        @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+",
    ];

    /// <summary>DeepSeek-Coder (1.3B/6.7B/33B): newlines alone, letter runs, punctuation runs, CJK runs, single digits.</summary>
    public static readonly string[] DeepSeekCoder =
    [
        @"[\r\n]",
        @"\s?\p{L}+",
        @"\s?\p{P}+",
        @"[一-龥ࠀ-一가-퟿]+",
        @"\p{N}",
    ];

    /// <summary>A llama.cpp pre-tokenizer: its Isolated-split patterns and whether whole-vocabulary words skip merging.</summary>
    public sealed record GgufPre(string Name, string[] Patterns, bool IgnoreMerges = false);

    /// <summary>
    /// The llama.cpp pre-tokenizer names this engine reads (<c>tokenizer.ggml.pre</c>), as llama.cpp's <c>llama-vocab.cpp</c>
    /// maps them: the patterns, and <c>ignore_merges</c> for Llama-3 as llama.cpp sets it. <c>gpt2</c> is an alias of
    /// llama.cpp's <c>gpt-2</c>; a file without the key is GPT-2 (llama.cpp's default).
    /// </summary>
    public static IReadOnlyList<GgufPre> KnownGguf { get; } =
    [
        new("deepseek-v3", DeepSeekV3),
        new("deepseek-r1-qwen", Qwen2),
        new("qwen2", Qwen2),
        new("llama-bpe", Llama3, IgnoreMerges: true),
        new("deepseek-llm", DeepSeekLlm),
        new("deepseek-coder", DeepSeekCoder),
        new("gpt-2", [Gpt2]),
    ];

    /// <summary>The known names, for messages.</summary>
    public static string KnownGgufNames => string.Join(", ", KnownGguf.Select(p => p.Name)) + " (and gpt2, an alias of gpt-2)";

    /// <summary>The pre-tokenizer for a llama.cpp name, or null if the name is unknown.</summary>
    public static GgufPre? LookupGguf(string? name)
    {
        if (name is null or "" or "default" or "gpt2") name = "gpt-2";
        foreach (GgufPre p in KnownGguf) if (p.Name == name) return p;
        return null;
    }

    /// <summary>The Isolated-split patterns for a llama.cpp pre-tokenizer name, or null if the name is unknown.</summary>
    public static string[]? ForGgufName(string? name) => LookupGguf(name)?.Patterns;

    /// <summary>Builds the pre-tokenizer for a list of Isolated-split patterns.</summary>
    public static PreTokenizer Build(IReadOnlyList<string> patterns)
    {
        var steps = new PreTokenizer[patterns.Count];
        for (int i = 0; i < steps.Length; i++) steps[i] = new PreTokenizerSplit(CodePointRegex.Compile(patterns[i]));
        return steps.Length == 1 ? steps[0] : new PreTokenizerSequence(steps);
    }
}
