namespace SharpSeek.Tokenization;

/// <summary>A run of input text: either plain text to encode with BPE, or one added token.</summary>
internal readonly record struct TextSegment(int Start, int Length, int TokenId);

/// <summary>Finds added tokens in text, leftmost first and longest at each position.</summary>
internal sealed class AddedTokenMatcher
{
    private readonly Dictionary<char, AddedToken[]> _byFirstChar = [];
    private readonly System.Buffers.SearchValues<char> _firstChars;

    public AddedTokenMatcher(IEnumerable<AddedToken> tokens)
    {
        var lists = new Dictionary<char, List<AddedToken>>();
        foreach (AddedToken t in tokens)
        {
            if (t.Content.Length == 0) continue;
            if (!lists.TryGetValue(t.Content[0], out var list)) lists[t.Content[0]] = list = [];
            list.Add(t);
        }
        foreach (var kv in lists)
        {
            kv.Value.Sort(static (a, b) => b.Content.Length.CompareTo(a.Content.Length));
            _byFirstChar[kv.Key] = kv.Value.ToArray();
        }
        _firstChars = System.Buffers.SearchValues.Create([.. _byFirstChar.Keys]);
    }

    public bool IsEmpty => _byFirstChar.Count == 0;

    /// <summary>
    /// Splits <paramref name="text"/> into plain-text runs and added tokens (special ones only if <paramref name="matchSpecial"/>).
    /// No added token is matched where it would overlap one of the <paramref name="plainRanges"/> (sorted, non-overlapping).
    /// </summary>
    public void Split(string text, bool matchSpecial, List<TextSegment> output, IReadOnlyList<Chat.Jinja.TextRange>? plainRanges = null)
    {
        if (_byFirstChar.Count == 0) { if (text.Length > 0) output.Add(new TextSegment(0, text.Length, -1)); return; }
        int textStart = 0;
        int i = 0;
        while (i < text.Length)
        {
            // Jump to the next character that can start an added token (vectorized).
            int skip = text.AsSpan(i).IndexOfAny(_firstChars);
            if (skip < 0) break;
            i += skip;
            AddedToken? hit = null;
            if (_byFirstChar.TryGetValue(text[i], out AddedToken[]? candidates))
            {
                foreach (AddedToken t in candidates)
                {
                    if (t.Special && !matchSpecial) continue;
                    if (string.CompareOrdinal(text, i, t.Content, 0, t.Content.Length) == 0 && i + t.Content.Length <= text.Length
                        && (plainRanges is null || !Overlaps(plainRanges, i, t.Content.Length))) { hit = t; break; }
                }
            }
            if (hit is null) { i++; continue; }
            int start = i, end = i + hit.Content.Length;
            if (hit.LStrip) while (start > textStart && char.IsWhiteSpace(text[start - 1])) start--;
            if (hit.RStrip) while (end < text.Length && char.IsWhiteSpace(text[end])) end++;
            if (start > textStart) output.Add(new TextSegment(textStart, start - textStart, -1));
            output.Add(new TextSegment(start, end - start, hit.Id));
            i = textStart = end;
        }
        if (textStart < text.Length) output.Add(new TextSegment(textStart, text.Length - textStart, -1));
    }

    private static bool Overlaps(IReadOnlyList<Chat.Jinja.TextRange> ranges, int start, int length)
    {
        int lo = 0, hi = ranges.Count - 1, end = start + length;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            Chat.Jinja.TextRange r = ranges[mid];
            if (r.Start + r.Length <= start) lo = mid + 1;
            else if (r.Start >= end) hi = mid - 1;
            else return true;
        }
        return false;
    }
}
