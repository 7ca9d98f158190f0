namespace SharpSeek.Tokenization;

/// <summary>
/// The parts of <c>tokenizer_config.json</c> (or GGUF metadata) the runtime needs: the chat template and the BOS/EOS tokens.
/// </summary>
public sealed record TokenizerConfig
{
    /// <summary>The Jinja chat template text, if any (used to pick a <see cref="Chat.ChatTemplate"/>).</summary>
    public string? ChatTemplate { get; init; }

    /// <summary>The BOS token string, e.g. <c>&lt;｜begin▁of▁sentence｜&gt;</c>.</summary>
    public string? BosToken { get; init; }

    /// <summary>The EOS token string.</summary>
    public string? EosToken { get; init; }

    /// <summary>Whether Python transformers would prepend BOS on encode (<c>add_bos_token</c>), when the post-processor has no template.</summary>
    public bool AddBosToken { get; init; }

    /// <summary>Whether EOS is appended on encode (<c>add_eos_token</c>).</summary>
    public bool AddEosToken { get; init; }

    /// <summary>The llama.cpp pre-tokenizer name when the tokenizer came from GGUF (<c>deepseek-r1-qwen</c> implies R1-Distill's chat format).</summary>
    public string? GgufPre { get; init; }

    /// <summary>The tokenizer class name (e.g. <c>LlamaTokenizerFast</c>, <c>Qwen2Tokenizer</c>).</summary>
    public string? TokenizerClass { get; init; }
}
