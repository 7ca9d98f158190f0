namespace SharpSeek.Tokenization;

/// <summary>
/// Hugging Face's <c>ByteLevel</c> pre-tokenizer: optionally splits with GPT-2's pattern and
/// optionally marks pieces for a leading space. (The byte-to-character mapping itself happens in <see cref="BpeModel"/>.)
/// </summary>
public sealed class PreTokenizerByteLevel(bool addPrefixSpace, bool useRegex) : PreTokenizer
{
    private static readonly Lazy<PreTokenizerSplit> Gpt2 = new(() => new PreTokenizerSplit(CodePointRegex.Compile(PreTokenizerPatterns.Gpt2)));

    /// <summary>Whether a piece not starting with a space gets one.</summary>
    public bool AddPrefixSpace { get; } = addPrefixSpace;

    /// <summary>Whether pieces are split with GPT-2's pattern.</summary>
    public bool UseRegex { get; } = useRegex;

    /// <inheritdoc/>
    public override void Split(ReadOnlySpan<char> text, List<PreToken> input, List<PreToken> output)
    {
        if (AddPrefixSpace && UseRegex) throw new SharpSeekException("ByteLevel pre-tokenizer with both add_prefix_space and use_regex is not supported");
        if (UseRegex) { Gpt2.Value.Split(text, input, output); return; }
        if (!AddPrefixSpace) { output.AddRange(input); return; }
        foreach (PreToken p in input)
            output.Add(p with { PrefixSpace = p.Length == 0 || text[p.Start] != ' ' });
    }
}
