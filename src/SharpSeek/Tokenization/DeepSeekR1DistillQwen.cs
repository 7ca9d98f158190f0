namespace SharpSeek.Tokenization;

/// <summary>
/// DeepSeek-R1-Distill-Qwen's tokenizer: the Qwen2 base vocabulary, merges, NFC and pre-tokenizer
/// (ids 0..151642) with DeepSeek's added tokens from 151643 and a post-processor that prepends
/// <c>&lt;｜begin▁of▁sentence｜&gt;</c> = 151646.
/// </summary>
public static class DeepSeekR1DistillQwen
{
    /// <summary>The added tokens of the R1-Distill-Qwen release (id, content, special).</summary>
    public static IReadOnlyList<AddedToken> AddedTokens { get; } =
    [
        new(151643, "<｜end▁of▁sentence｜>", true),
        new(151644, "<｜User｜>", false),
        new(151645, "<｜Assistant｜>", false),
        new(151646, "<｜begin▁of▁sentence｜>", true),
        new(151647, "<|EOT|>", false),
        new(151648, "<think>", false),
        new(151649, "</think>", false),
        new(151650, "<|quad_start|>", true),
        new(151651, "<|quad_end|>", true),
        new(151652, "<|vision_start|>", true),
        new(151653, "<|vision_end|>", true),
        new(151654, "<|vision_pad|>", true),
        new(151655, "<|image_pad|>", true),
        new(151656, "<|video_pad|>", true),
        new(151657, "<tool_call>", false),
        new(151658, "</tool_call>", false),
        new(151659, "<|fim_prefix|>", false),
        new(151660, "<|fim_middle|>", false),
        new(151661, "<|fim_suffix|>", false),
        new(151662, "<|fim_pad|>", false),
        new(151663, "<|repo_name|>", false),
        new(151664, "<|file_sep|>", false),
    ];

    /// <summary>The BOS id its post-processor prepends.</summary>
    public const int BosId = 151646;

    /// <summary>Builds the R1-Distill tokenizer from a Qwen2/Qwen2.5/Qwen3 tokenizer (whose base ids 0..151642 it keeps).</summary>
    /// <exception cref="SharpSeekException">the base vocabulary is not Qwen-sized.</exception>
    public static Tokenizer FromQwenTokenizer(Tokenizer qwen)
    {
        ArgumentNullException.ThrowIfNull(qwen);
        if (qwen.Model.IdToToken.Count != 151643)
            throw new SharpSeekException($"expected a Qwen2 base vocabulary of 151643 tokens, got {qwen.Model.IdToToken.Count}");
        var config = new TokenizerConfig
        {
            BosToken = "<｜begin▁of▁sentence｜>",
            EosToken = "<｜end▁of▁sentence｜>",
            AddBosToken = true,
            ChatTemplate = null,
            TokenizerClass = "LlamaTokenizerFast",
        };
        return qwen.WithAddedTokens(AddedTokens, [BosId], config);
    }
}
