using System.Text;

namespace SharpSeek.Tokenization;

/// <summary>
/// Unicode Normalization Form C in managed code. The project runs with invariant globalization,
/// where <see cref="string.Normalize()"/> leaves non-ASCII text unchanged, so Qwen's NFC normalizer needs its own.
/// Lone surrogates pass through unchanged.
/// </summary>
public static class UnicodeNfc
{
    private const int SBase = 0xAC00, LBase = 0x1100, VBase = 0x1161, TBase = 0x11A7;
    private const int LCount = 19, VCount = 21, TCount = 28, NCount = VCount * TCount, SCount = LCount * NCount;

    private static readonly Dictionary<int, int[]> Decomp = BuildDecomp();
    private static readonly Dictionary<long, int> Comp = BuildComp();
    private static readonly (int Lo, int Hi, byte Ccc)[] CccRanges = BuildCcc();
    private static readonly ulong[] Unsafe = BuildUnsafe();

    /// <summary>Returns <paramref name="text"/> in NFC (the same instance when it already is, for the common quick case).</summary>
    public static string Normalize(string text)
    {
        // Quick check: text made only of starters that are NFC_QC=Yes (not a combining mark, not a
        // character NFC replaces, not one that can compose with what precedes it) is already NFC.
        int i = 0;
        while (i < text.Length)
        {
            char ch = text[i];
            if (ch < 0x300) { i++; continue; }
            int cp = CodePoint.At(text, i, out int len);
            if ((Unsafe[cp >> 6] >> (cp & 63) & 1) != 0) break;
            i += len;
        }
        if (i == text.Length) return text;

        var cps = new List<int>(text.Length + 8);
        for (int j = 0; j < text.Length;)
        {
            int cp = CodePoint.At(text, j, out int len);
            j += len;
            Decompose(cp, cps);
        }
        Reorder(cps);
        Compose(cps);
        var sb = new StringBuilder(cps.Count);
        foreach (int cp in cps)
        {
            if (cp is >= 0xD800 and <= 0xDFFF) sb.Append((char)cp);
            else sb.Append(char.ConvertFromUtf32(cp));
        }
        string result = sb.ToString();
        return result == text ? text : result;
    }

    /// <summary>The canonical combining class of <paramref name="cp"/>.</summary>
    public static int CombiningClass(int cp)
    {
        if (cp < 0x300) return 0;
        int lo = 0, hi = CccRanges.Length - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >> 1;
            if (cp < CccRanges[mid].Lo) hi = mid - 1;
            else if (cp > CccRanges[mid].Hi) lo = mid + 1;
            else return CccRanges[mid].Ccc;
        }
        return 0;
    }

    private static void Decompose(int cp, List<int> output)
    {
        if (cp is >= SBase and < SBase + SCount)
        {
            int s = cp - SBase;
            output.Add(LBase + s / NCount);
            output.Add(VBase + s % NCount / TCount);
            int t = s % TCount;
            if (t != 0) output.Add(TBase + t);
            return;
        }
        if (cp >= 0xC0 && Decomp.TryGetValue(cp, out int[]? seq)) output.AddRange(seq);
        else output.Add(cp);
    }

    private static void Reorder(List<int> cps)
    {
        // Stable insertion sort of each run of non-starters by combining class.
        for (int i = 1; i < cps.Count; i++)
        {
            int c = CombiningClass(cps[i]);
            if (c == 0) continue;
            int j = i;
            int cur = cps[i];
            while (j > 0)
            {
                int pc = CombiningClass(cps[j - 1]);
                if (pc <= c) break;
                cps[j] = cps[j - 1];
                j--;
            }
            cps[j] = cur;
        }
    }

    private static void Compose(List<int> cps)
    {
        if (cps.Count < 2) return;
        int starterPos = -1; // index (in the output) of the last starter
        int lastCcc = 0;     // class of the last character written after it
        int write = 0;
        for (int read = 0; read < cps.Count; read++)
        {
            int cp = cps[read];
            int ccc = CombiningClass(cp);
            if (starterPos >= 0)
            {
                bool adjacent = write == starterPos + 1;
                bool blocked = !adjacent && (lastCcc == 0 || lastCcc >= ccc);
                if (!blocked)
                {
                    int composed = ComposePair(cps[starterPos], cp);
                    if (composed >= 0) { cps[starterPos] = composed; continue; }
                }
            }
            if (ccc == 0) starterPos = write;
            lastCcc = ccc;
            cps[write++] = cp;
        }
        cps.RemoveRange(write, cps.Count - write);
    }

    private static int ComposePair(int a, int b)
    {
        if (a is >= LBase and < LBase + LCount && b is >= VBase and < VBase + VCount)
            return SBase + ((a - LBase) * VCount + (b - VBase)) * TCount;
        if (a is >= SBase and < SBase + SCount && (a - SBase) % TCount == 0 && b is > TBase and < TBase + TCount)
            return a + (b - TBase);
        return Comp.TryGetValue((long)a << 32 | (uint)b, out int c) ? c : -1;
    }

    private static Dictionary<int, int[]> BuildDecomp()
    {
        var d = new Dictionary<int, int[]>();
        ReadOnlySpan<int> data = UnicodeNfcData.Decompositions;
        for (int i = 0; i < data.Length;)
        {
            int cp = data[i], n = data[i + 1];
            d[cp] = data.Slice(i + 2, n).ToArray();
            i += 2 + n;
        }
        return d;
    }

    private static Dictionary<long, int> BuildComp()
    {
        var d = new Dictionary<long, int>();
        ReadOnlySpan<int> data = UnicodeNfcData.Compositions;
        for (int i = 0; i < data.Length; i += 3) d[(long)data[i] << 32 | (uint)data[i + 1]] = data[i + 2];
        return d;
    }

    // Code points that force the full algorithm: non-zero combining class, NFC_QC=No (decomposable but not a
    // primary composite) and NFC_QC=Maybe (second element of a composition, Hangul vowel and trailing jamo).
    private static ulong[] BuildUnsafe()
    {
        var bits = new ulong[0x110000 / 64];
        static void Set(ulong[] b, int cp) => b[cp >> 6] |= 1UL << (cp & 63);
        foreach (var (lo, hi, _) in BuildCcc()) for (int cp = lo; cp <= hi; cp++) Set(bits, cp);
        var composites = new HashSet<int>();
        ReadOnlySpan<int> comp = UnicodeNfcData.Compositions;
        for (int i = 0; i < comp.Length; i += 3) { Set(bits, comp[i + 1]); composites.Add(comp[i + 2]); }
        ReadOnlySpan<int> dec = UnicodeNfcData.Decompositions;
        for (int i = 0; i < dec.Length;)
        {
            if (!composites.Contains(dec[i])) Set(bits, dec[i]);
            i += 2 + dec[i + 1];
        }
        for (int cp = VBase; cp < VBase + VCount; cp++) Set(bits, cp);
        for (int cp = TBase + 1; cp < TBase + TCount; cp++) Set(bits, cp);
        for (int cp = 0xD800; cp <= 0xDFFF; cp++) Set(bits, cp);
        return bits;
    }

    private static (int, int, byte)[] BuildCcc()
    {
        ReadOnlySpan<int> data = UnicodeNfcData.CombiningClasses;
        var r = new (int, int, byte)[data.Length / 3];
        for (int i = 0; i < r.Length; i++) r[i] = (data[3 * i], data[3 * i + 1], (byte)data[3 * i + 2]);
        return r;
    }
}
