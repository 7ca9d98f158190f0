using System.IO.Hashing;
using System.Runtime.InteropServices;

namespace SharpSeek.Gateway;

/// <summary>
/// Consistent hashing (Karger et al.): each member owns <see cref="PointsPerMember"/> points on a 64-bit ring and a key
/// goes to the first point at or after it. When a member leaves, only the keys it owned move (to the next points); when
/// it comes back, they return, so a replica that restarts gets its conversations back.
/// </summary>
public sealed class ConsistentHashRing
{
    /// <summary>Points per member: with 3 members the largest share is within a few percent of a third.</summary>
    public const int PointsPerMember = 160;

    private readonly ulong[] _points;
    private readonly int[] _owners;

    public ConsistentHashRing(IReadOnlyList<string> members)
    {
        if (members.Count == 0) throw new ArgumentException("a ring needs at least one member", nameof(members));
        Members = members;
        var points = new List<(ulong Point, int Owner)>(members.Count * PointsPerMember);
        for (int m = 0; m < members.Count; m++)
            for (int i = 0; i < PointsPerMember; i++)
                points.Add((XxHash64.HashToUInt64(MemoryMarshal.AsBytes($"{members[m]}#{i}".AsSpan())), m));
        points.Sort((a, b) => a.Point != b.Point ? a.Point.CompareTo(b.Point) : string.CompareOrdinal(members[a.Owner], members[b.Owner]));
        _points = [.. points.Select(p => p.Point)];
        _owners = [.. points.Select(p => p.Owner)];
    }

    public IReadOnlyList<string> Members { get; }

    /// <summary>The index in <see cref="Members"/> of the member that owns <paramref name="key"/>.</summary>
    public int Owner(ulong key)
    {
        int i = Array.BinarySearch(_points, key);
        if (i < 0) i = ~i;
        return _owners[i == _points.Length ? 0 : i];
    }
}
