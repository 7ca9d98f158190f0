namespace SharpSeek.Structured;

/// <summary>
/// Turns a set of Unicode scalar values into the byte sequences of their UTF-8 encodings, as a few sequences of byte
/// ranges (the standard splitting at encoding-length and continuation-byte boundaries). Surrogates are never encoded.
/// </summary>
public static class Utf8Ranges
{
    /// <summary>The scalar values (U+0000..U+10FFFF without surrogates).</summary>
    public static SymbolSet Scalars { get; } = SymbolSet.FromRanges([(0, 0xD7FF), (0xE000, 0x10FFFF)]);

    /// <summary>An expression matching the UTF-8 encoding of exactly one code point of <paramref name="codePoints"/>.</summary>
    public static GrammarExpr Expr(SymbolSet codePoints)
    {
        var alts = new List<GrammarExpr>();
        foreach (var seq in Sequences(codePoints))
            alts.Add(GrammarExpr.Seq([.. seq.Select(r => GrammarExpr.ByteRange(r.Lo, r.Hi))]));
        return alts.Count == 0 ? GrammarExpr.Nothing : GrammarExpr.Alt([.. alts]);
    }

    /// <summary>Byte-range sequences whose union is the UTF-8 encodings of <paramref name="codePoints"/>.</summary>
    public static List<(int Lo, int Hi)[]> Sequences(SymbolSet codePoints)
    {
        var result = new List<(int, int)[]>();
        var stack = new Stack<(int Lo, int Hi)>();
        foreach (var r in codePoints.Intersect(Scalars).Ranges.Reverse()) stack.Push(r);
        while (stack.Count > 0)
        {
            var (lo, hi) = stack.Pop();
            // Split where the encoded length changes.
            bool split = false;
            foreach (int max in (ReadOnlySpan<int>)[0x7F, 0x7FF, 0xFFFF])
            {
                if (lo <= max && hi > max)
                {
                    stack.Push((max + 1, hi));
                    stack.Push((lo, max));
                    split = true;
                    break;
                }
            }
            if (split) continue;
            if (hi <= 0x7F) { result.Add([(lo, hi)]); continue; }
            int n = hi <= 0x7FF ? 2 : hi <= 0xFFFF ? 3 : 4;
            // Split until every continuation byte below the first differing one spans its whole range.
            for (int i = 1; i < n; i++)
            {
                int m = (1 << (6 * i)) - 1;
                if ((lo & ~m) != (hi & ~m))
                {
                    if ((lo & m) != 0)
                    {
                        stack.Push(((lo | m) + 1, hi));
                        stack.Push((lo, lo | m));
                        split = true;
                        break;
                    }
                    if ((hi & m) != m)
                    {
                        stack.Push((hi & ~m, hi));
                        stack.Push((lo, (hi & ~m) - 1));
                        split = true;
                        break;
                    }
                }
            }
            if (split) continue;
            byte[] a = Encode(lo, n), b = Encode(hi, n);
            var seq = new (int, int)[n];
            for (int i = 0; i < n; i++) seq[i] = (a[i], b[i]);
            result.Add(seq);
        }
        return result;
    }

    private static byte[] Encode(int cp, int n) => n switch
    {
        2 => [(byte)(0xC0 | (cp >> 6)), (byte)(0x80 | (cp & 0x3F))],
        3 => [(byte)(0xE0 | (cp >> 12)), (byte)(0x80 | ((cp >> 6) & 0x3F)), (byte)(0x80 | (cp & 0x3F))],
        _ => [(byte)(0xF0 | (cp >> 18)), (byte)(0x80 | ((cp >> 12) & 0x3F)), (byte)(0x80 | ((cp >> 6) & 0x3F)), (byte)(0x80 | (cp & 0x3F))],
    };
}
