namespace SharpSeek.Structured;

/// <summary>
/// A set of grammar symbols as sorted, disjoint, non-adjacent inclusive ranges. Symbols 0..255 are bytes; symbols from
/// <see cref="Grammar.FirstTokenSymbol"/> up stand for added tokens (see <see cref="Grammar"/>), so a grammar can ask
/// for a special token like <c>&lt;｜tool▁calls▁begin｜&gt;</c> as one symbol.
/// </summary>
public sealed class SymbolSet : IEquatable<SymbolSet>
{
    private readonly (int Lo, int Hi)[] _ranges;

    private SymbolSet((int Lo, int Hi)[] ranges) => _ranges = ranges;

    public static SymbolSet Empty { get; } = new([]);

    /// <summary>Every byte.</summary>
    public static SymbolSet AnyByte { get; } = Range(0, 255);

    public IReadOnlyList<(int Lo, int Hi)> Ranges => _ranges;

    public bool IsEmpty => _ranges.Length == 0;

    public static SymbolSet Of(int symbol) => new([(symbol, symbol)]);

    public static SymbolSet Range(int lo, int hi) => lo > hi ? Empty : new([(lo, hi)]);

    /// <summary>A set from any ranges (unsorted, overlapping or empty ones allowed).</summary>
    public static SymbolSet FromRanges(IEnumerable<(int Lo, int Hi)> ranges)
    {
        var list = ranges.Where(r => r.Lo <= r.Hi).OrderBy(r => r.Lo).ToList();
        var merged = new List<(int Lo, int Hi)>(list.Count);
        foreach (var r in list)
        {
            if (merged.Count > 0 && r.Lo <= merged[^1].Hi + 1)
                merged[^1] = (merged[^1].Lo, Math.Max(merged[^1].Hi, r.Hi));
            else merged.Add(r);
        }
        return new([.. merged]);
    }

    public bool Contains(int symbol)
    {
        int lo = 0, hi = _ranges.Length - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >> 1;
            if (symbol < _ranges[mid].Lo) hi = mid - 1;
            else if (symbol > _ranges[mid].Hi) lo = mid + 1;
            else return true;
        }
        return false;
    }

    public SymbolSet Union(SymbolSet other) => FromRanges(_ranges.Concat(other._ranges));

    /// <summary>The symbols of [<paramref name="lo"/>, <paramref name="hi"/>] not in this set.</summary>
    public SymbolSet Complement(int lo, int hi)
    {
        var result = new List<(int, int)>();
        int next = lo;
        foreach (var (a, b) in _ranges)
        {
            if (b < lo || a > hi) continue;
            if (a > next) result.Add((next, a - 1));
            next = Math.Max(next, b + 1);
        }
        if (next <= hi) result.Add((next, hi));
        return new([.. result]);
    }

    public SymbolSet Minus(SymbolSet other)
    {
        if (_ranges.Length == 0) return this;
        return Intersect(other.Complement(_ranges[0].Lo, _ranges[^1].Hi));
    }

    public SymbolSet Intersect(SymbolSet other)
    {
        var result = new List<(int, int)>();
        int i = 0, j = 0;
        while (i < _ranges.Length && j < other._ranges.Length)
        {
            int lo = Math.Max(_ranges[i].Lo, other._ranges[j].Lo), hi = Math.Min(_ranges[i].Hi, other._ranges[j].Hi);
            if (lo <= hi) result.Add((lo, hi));
            if (_ranges[i].Hi < other._ranges[j].Hi) i++; else j++;
        }
        return new([.. result]);
    }

    public bool Equals(SymbolSet? other) => other is not null && _ranges.AsSpan().SequenceEqual(other._ranges);

    public override bool Equals(object? obj) => Equals(obj as SymbolSet);

    public override int GetHashCode()
    {
        var h = new HashCode();
        foreach (var r in _ranges) { h.Add(r.Lo); h.Add(r.Hi); }
        return h.ToHashCode();
    }

    public override string ToString() =>
        "[" + string.Join(",", _ranges.Select(r => r.Lo == r.Hi ? Show(r.Lo) : Show(r.Lo) + "-" + Show(r.Hi))) + "]";

    private static string Show(int s) => s is >= 0x21 and < 0x7F ? ((char)s).ToString() : s < 256 ? $"\\x{s:X2}" : $"<{s}>";
}
