using System.Text;
using static SharpSeek.Structured.GrammarExpr;

namespace SharpSeek.Structured;

/// <summary>
/// Free text as grammar: any bytes and added tokens (never stop tokens, never the tokens a grammar names elsewhere), with
/// a marker either excluded or ending it. Built on the Knuth-Morris-Pratt automaton of the marker's bytes, so a marker
/// split across tokens is seen, and the added token of the same text (if the vocabulary has one) counts too.
/// </summary>
public static class TextGrammar
{
    /// <summary>Any text that does not contain <paramref name="marker"/> (a reply before a tool call, say).</summary>
    public static GrammarExpr Without(string marker) => Build(marker, ending: false);

    /// <summary>Any text up to and including the first <paramref name="marker"/> (a reasoning block up to <c>&lt;/think&gt;</c>).</summary>
    public static GrammarExpr Until(string marker) => Build(marker, ending: true);

    private static GrammarExpr Build(string marker, bool ending)
    {
        // Node q = "the last q bytes read are the marker's first q"; node m = the marker was read.
        byte[] tag = Encoding.UTF8.GetBytes(marker);
        int m = tag.Length;
        var fail = new int[m + 1];
        for (int i = 1, k = 0; i < m; i++)
        {
            while (k > 0 && tag[i] != tag[k]) k = fail[k];
            if (tag[i] == tag[k]) k++;
            fail[i + 1] = k;
        }
        int Next(int q, byte b)
        {
            while (q > 0 && tag[q] != b) q = fail[q];
            return tag[q] == b ? q + 1 : 0;
        }
        var edges = new List<(int, GrammarExpr, int)>();
        for (int q = 0; q < m; q++)
        {
            var byTarget = new Dictionary<int, List<(int, int)>>();
            for (int b = 0; b < 256; b++)
            {
                int t = Next(q, (byte)b);
                if (t == m && !ending) continue;
                if (!byTarget.TryGetValue(t, out var list)) byTarget[t] = list = [];
                list.Add((b, b));
            }
            foreach (var (t, ranges) in byTarget) edges.Add((q, Symbols(SymbolSet.FromRanges(ranges)), t));
            edges.Add((q, OtherToken(), 0));
            if (ending) edges.Add((q, Token(marker), m));
        }
        return Graph(m + 1, 0, ending ? [m] : [.. Enumerable.Range(0, m)], edges);
    }
}
