using SharpSeek.Tensors;

namespace SharpSeek.Tests.Tensors;

/// <summary>The weight arena: aligned, disjoint, writable ranges that stay valid while their owner is referenced.</summary>
public sealed unsafe class WeightArenaTests
{
    [Fact]
    public void SmallRequestsShareABlockAndLargeOnesGetTheirOwn()
    {
        var arena = new WeightArena(blockBytes: 4 << 20);
        var sizes = new long[] { 0, 1, 63, 64, 65, 1000, 300_000, 2 << 20, 5 << 20, 17 };
        var ranges = new List<(long Start, long Length, object Owner)>();
        foreach (long n in sizes)
        {
            byte* p = arena.Allocate(n, out var owner);
            Assert.Equal(0, (long)p % 64);
            new Span<byte>(p, (int)n).Fill((byte)(n % 251));
            ranges.Add(((long)p, n, owner));
        }
        for (int i = 0; i < ranges.Count; i++)
            for (int j = 0; j < i; j++)
            {
                var (a, b) = (ranges[i], ranges[j]);
                Assert.True(a.Start + Math.Max(a.Length, 1) <= b.Start || b.Start + Math.Max(b.Length, 1) <= a.Start, $"ranges {i} and {j} overlap");
            }
        // Up to 1 MiB (a quarter of a block) shares the first block; 2 and 5 MiB each get one of their own.
        Assert.Same(ranges[0].Owner, ranges[5].Owner);
        Assert.Same(ranges[0].Owner, ranges[6].Owner);
        Assert.NotSame(ranges[0].Owner, ranges[7].Owner);
        Assert.NotSame(ranges[7].Owner, ranges[8].Owner);
        Assert.Same(ranges[0].Owner, ranges[9].Owner);

        GC.Collect();
        GC.WaitForPendingFinalizers();
        foreach (var (start, length, _) in ranges)
            Assert.True(new ReadOnlySpan<byte>((byte*)start, (int)length).IndexOfAnyExcept((byte)(length % 251)) < 0);
        GC.KeepAlive(ranges);
    }

    [Fact]
    public void NegativeSizesAreRefused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new WeightArena().Allocate(-1, out _));
        Assert.Throws<ArgumentOutOfRangeException>(() => new WeightArena(-5));
    }
}
