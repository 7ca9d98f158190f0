namespace SharpSeek.Tokenization;

/// <summary>How a <see cref="PreTokenizerSplit"/> treats its matches (Hugging Face <c>SplitDelimiterBehavior</c>).</summary>
public enum SplitBehavior
{
    /// <summary>Matches and the gaps between them all become pieces.</summary>
    Isolated,
    /// <summary>Matches are dropped; gaps become pieces.</summary>
    Removed,
    /// <summary>Each match is appended to the piece before it.</summary>
    MergedWithPrevious,
    /// <summary>Each match starts a piece that runs to the next match.</summary>
    MergedWithNext,
}

/// <summary>Hugging Face's <c>Split</c> pre-tokenizer over code points: finds every leftmost non-overlapping match of a pattern in each piece.</summary>
public sealed class PreTokenizerSplit(CodePointRegex regex, SplitBehavior behavior = SplitBehavior.Isolated, bool invert = false) : PreTokenizer
{
    /// <summary>The pattern.</summary>
    public CodePointRegex Regex { get; } = regex;

    /// <summary>What happens to matches.</summary>
    public SplitBehavior Behavior { get; } = behavior;

    /// <summary>When set, the gaps play the role of the matches.</summary>
    public bool Invert { get; } = invert;

    /// <inheritdoc/>
    public override void Split(ReadOnlySpan<char> text, List<PreToken> input, List<PreToken> output)
    {
        for (int i = 0; i < input.Count; i++)
        {
            PreToken piece = input[i];
            if (piece.PrefixSpace) throw new SharpSeekException("a Split pre-tokenizer after ByteLevel(add_prefix_space) is not supported");
            ReadOnlySpan<char> span = text.Slice(piece.Start, piece.Length);
            int pos = 0;
            int pendingStart = -1; // start of a piece being merged (MergedWithPrevious/Next)
            while (pos < span.Length)
            {
                if (!Regex.Find(span, pos, out int ms, out int me)) break;
                if (me == ms)
                {
                    // An empty match splits nothing; step over one code point.
                    pos = ms + CodePoint.LengthAt(span, ms);
                    if (ms >= span.Length) break;
                    continue;
                }
                if (ms > pos) Segment(piece.Start, pos, ms, false, output, ref pendingStart);
                Segment(piece.Start, ms, me, true, output, ref pendingStart);
                pos = me;
            }
            if (pos < span.Length) Segment(piece.Start, pos, span.Length, false, output, ref pendingStart);
            if (pendingStart >= 0) output.Add(new PreToken(piece.Start + pendingStart, span.Length - pendingStart));
        }
    }

    private void Segment(int offset, int start, int end, bool isMatch, List<PreToken> output, ref int pendingStart)
    {
        if (Invert) isMatch = !isMatch;
        switch (Behavior)
        {
            case SplitBehavior.Isolated:
                output.Add(new PreToken(offset + start, end - start));
                break;
            case SplitBehavior.Removed:
                if (!isMatch) output.Add(new PreToken(offset + start, end - start));
                break;
            case SplitBehavior.MergedWithPrevious:
                // A gap opens a piece; a match closes it.
                if (pendingStart < 0) pendingStart = start;
                if (isMatch)
                {
                    output.Add(new PreToken(offset + pendingStart, end - pendingStart));
                    pendingStart = -1;
                }
                break;
            case SplitBehavior.MergedWithNext:
                // A match closes the piece before it and opens a new one.
                if (isMatch && pendingStart >= 0)
                {
                    output.Add(new PreToken(offset + pendingStart, start - pendingStart));
                    pendingStart = -1;
                }
                if (pendingStart < 0) pendingStart = start;
                break;
        }
    }
}
