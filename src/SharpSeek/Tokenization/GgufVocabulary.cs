namespace SharpSeek.Tokenization;

/// <summary>
/// A GGUF file's tokenizer metadata as plain data, so the tokenizer does not depend on the GGUF reader:
/// <c>tokenizer.ggml.tokens</c>, <c>tokenizer.ggml.merges</c>, <c>tokenizer.ggml.token_type</c>,
/// <c>tokenizer.ggml.bos_token_id</c>/<c>eos_token_id</c>, <c>tokenizer.ggml.pre</c>, <c>tokenizer.ggml.add_bos_token</c>, <c>tokenizer.chat_template</c>.
/// </summary>
public sealed record GgufVocabulary(string[] Tokens, string[] Merges)
{
    /// <summary>Per-token type: 1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte. Null: all normal.</summary>
    public int[]? TokenTypes { get; init; }

    /// <summary>BOS id.</summary>
    public int? BosId { get; init; }

    /// <summary>EOS id.</summary>
    public int? EosId { get; init; }

    /// <summary>The llama.cpp pre-tokenizer name (<c>deepseek-v3</c>, <c>deepseek-llm</c>, <c>deepseek-r1-qwen</c>, <c>qwen2</c>, ...).</summary>
    public string? Pre { get; init; }

    /// <summary>Whether BOS is added on encode (<c>tokenizer.ggml.add_bos_token</c>); null: llama.cpp's default for BPE (true).</summary>
    public bool? AddBos { get; init; }

    /// <summary>The Jinja chat template, if the file has one.</summary>
    public string? ChatTemplate { get; init; }
}
