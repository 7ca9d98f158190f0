using SharpSeek.Tokenization;

namespace SharpSeek.Serving;

/// <summary>
/// A fill-in-the-middle prompt: the code before the hole, the code after it, then the marker after which the model
/// writes the middle. Both known families put the prefix first and the suffix second (PSM order); their markers differ.
/// </summary>
public sealed record FimFormat(string Name, string PrefixToken, string SuffixToken, string MiddleToken, bool StartsWithBos)
{
    /// <summary>DeepSeek(-Coder, V2, V3): <c>BOS &lt;｜fim▁begin｜&gt;prefix&lt;｜fim▁hole｜&gt;suffix&lt;｜fim▁end｜&gt;</c>.</summary>
    public static FimFormat DeepSeek { get; } = new("deepseek", "<｜fim▁begin｜>", "<｜fim▁hole｜>", "<｜fim▁end｜>", StartsWithBos: true);

    /// <summary>Qwen2.5-Coder: <c>&lt;|fim_prefix|&gt;prefix&lt;|fim_suffix|&gt;suffix&lt;|fim_middle|&gt;</c>; Qwen has no BOS.</summary>
    public static FimFormat Qwen { get; } = new("qwen", "<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>", StartsWithBos: false);

    public static IReadOnlyList<FimFormat> Known { get; } = [DeepSeek, Qwen];

    /// <summary>The format whose three markers are all in the vocabulary; null when the model has none.</summary>
    public static FimFormat? Detect(Tokenizer tokenizer) =>
        Known.FirstOrDefault(f => tokenizer.TryGetId(f.PrefixToken, out _) && tokenizer.TryGetId(f.SuffixToken, out _) && tokenizer.TryGetId(f.MiddleToken, out _));

    /// <summary>
    /// The prompt's tokens. The markers are placed by id, and the two texts are encoded as a raw prompt is (special tokens
    /// written in them count), so the result equals encoding the assembled string.
    /// </summary>
    public int[] Encode(Tokenizer tokenizer, string prefix, string suffix)
    {
        var ids = new List<int>();
        if (StartsWithBos && tokenizer.BosId is int bos) ids.Add(bos);
        ids.Add(Id(tokenizer, PrefixToken));
        ids.AddRange(tokenizer.Encode(prefix, addSpecialTokens: false, parseSpecial: true));
        ids.Add(Id(tokenizer, SuffixToken));
        ids.AddRange(tokenizer.Encode(suffix, addSpecialTokens: false, parseSpecial: true));
        ids.Add(Id(tokenizer, MiddleToken));
        return [.. ids];
    }

    private static int Id(Tokenizer tokenizer, string token) =>
        tokenizer.TryGetId(token, out int id) ? id : throw new SharpSeekException($"the vocabulary has no {token}");
}
