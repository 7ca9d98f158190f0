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

    /// <summary>DeepSeek-LLM (V1/V2): the pattern sequence of the original tokenizer.json (as in llama.cpp).</summary>
    public static readonly string[] DeepSeekLlm =
    [
        @"[\r\n]",
        @"\s?[A-Za-zµÀ-ÖØ-öø-ƺƼ-ƿǄ-ʓʕ-ʯͰ-ͳͶͷͻ-ͽͿΆΈ-ΊΌΎ-ΡΣ-ϵϷ-ҁҊ-ԯԱ-ՖႠ-ჅᎠ-Ᏽᏸ-ᏽᲐ-ᲺᲽ-Ჿᴀ-ᴫᵫ-ᵷᵹ-ᶚḀ-ἕἘ-Ἕἠ-ὅὈ-Ὅὐ-ὗὙὛὝὟ-ώᾀ-ᾴᾶ-ᾼιῂ-ῄῆ-ῌῐ-ΐῖ-Ίῠ-Ῥῲ-ῴῶ-ῼℂℇℊ-ℓℕℙ-ℝℤΩℨK-ℭℯ-ℴℹℼ-ℿⅅ-ⅉⅎↃↄⰀ-ⱻⱾ-ⳤⳫ-ⳮⳲⳳꙀ-ꙭꚀ-ꚛꜢ-ꝯꝱ-ꞇꞋ-ꞎꭰ-ꮿﬀ-ﬆﬓ-ﬗＡ-Ｚａ-ｚ𐐀-𐑏𐒰-𐓓𐓘-𐓻𐲀-𐲲𐳀-𐳲𑢠-𑣟𞤀-𞥃]+",
        @"\s?[!-/:-~！-／：-～‘-‟　-。]+",
        @"\s+$",
        @"[一-龥ࠀ-一가-퟿]+",
        @"\p{N}+",
    ];

    /// <summary>The Isolated-split patterns for a llama.cpp pre-tokenizer name, or null if the name is unknown.</summary>
    public static string[]? ForGgufName(string? name) => name switch
    {
        "deepseek-v3" => DeepSeekV3,
        "deepseek-r1-qwen" or "qwen2" => Qwen2,
        "deepseek-llm" => DeepSeekLlm,
        "gpt2" or "default" or null or "" => [Gpt2],
        _ => null,
    };

    /// <summary>Builds the pre-tokenizer for a list of Isolated-split patterns.</summary>
    public static PreTokenizer Build(IReadOnlyList<string> patterns)
    {
        var steps = new PreTokenizer[patterns.Count];
        for (int i = 0; i < steps.Length; i++) steps[i] = new PreTokenizerSplit(CodePointRegex.Compile(patterns[i]));
        return steps.Length == 1 ? steps[0] : new PreTokenizerSequence(steps);
    }
}
