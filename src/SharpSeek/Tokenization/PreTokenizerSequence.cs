namespace SharpSeek.Tokenization;

/// <summary>Hugging Face's <c>Sequence</c> pre-tokenizer: each step re-splits every piece of the previous one.</summary>
public sealed class PreTokenizerSequence(IReadOnlyList<PreTokenizer> steps) : PreTokenizer
{
    /// <summary>The steps, in order.</summary>
    public IReadOnlyList<PreTokenizer> Steps { get; } = steps;

    [ThreadStatic] private static List<PreToken>? t_a;
    [ThreadStatic] private static List<PreToken>? t_b;

    /// <inheritdoc/>
    public override void Split(ReadOnlySpan<char> text, List<PreToken> input, List<PreToken> output)
    {
        if (Steps.Count == 0) { output.AddRange(input); return; }
        if (Steps.Count == 1) { Steps[0].Split(text, input, output); return; }
        // Nested sequences would share these buffers, so take them out while we use them.
        List<PreToken> a = t_a ?? [];
        List<PreToken> b = t_b ?? [];
        t_a = t_b = null;
        try
        {
            a.Clear();
            Steps[0].Split(text, input, a);
            for (int i = 1; i < Steps.Count - 1; i++)
            {
                b.Clear();
                Steps[i].Split(text, a, b);
                (a, b) = (b, a);
            }
            Steps[^1].Split(text, a, output);
        }
        finally
        {
            a.Clear();
            b.Clear();
            // A huge text's pieces are not kept alive for the life of the thread.
            t_a = a.Capacity <= 1 << 16 ? a : null;
            t_b = b.Capacity <= 1 << 16 ? b : null;
        }
    }
}
