using System.Diagnostics;
using System.Globalization;
using System.Runtime.Intrinsics;
using SharpSeek.Kernels;
using SharpSeek.Tensors;

namespace SharpSeek.Bench;

/// <summary>
/// The one-token group kernels on one thread over a matrix far larger than the caches (what a decode step does), next to a
/// plain 512-bit read of the same bytes: in the huge pages the model's weights live in (<see cref="WeightArena"/>) and in a
/// pinned managed array (4 KiB pages), to show what the page size is worth.
/// </summary>
internal static unsafe class StreamSpeed
{
    public static void Run(long megabytes)
    {
        var inv = CultureInfo.InvariantCulture;
        const int cols = 4096;
        float* y = stackalloc float[RowGroups.Rows];
        Console.WriteLine($"one thread, {KernelPaths.Best} path, {megabytes} MB per matrix, best of 3 passes");
        foreach (var type in new[] { DType.Q4_K, DType.Q6_K, DType.Q4_0, DType.Q8_0 })
        {
            long rowBytes = type.ByteCount(cols);
            long rows = megabytes * 1_000_000 / rowBytes / RowGroups.Rows * RowGroups.Rows;
            long length = rows * rowBytes;
            var file = GC.AllocateUninitializedArray<byte>(checked((int)length), pinned: true);
            var r = new Random(1);
            KernelSpeed.RandomBlocks(r, type, file);
            WeightTensor grouped;
            fixed (byte* p = file) grouped = RowGroups.Interleave(new WeightTensor("w", "bench", type, [rows, cols], p, length));
            var small = GC.AllocateUninitializedArray<byte>(checked((int)length), pinned: true);
            fixed (byte* s = small) Buffer.MemoryCopy(grouped.Data, s, length, length);
            file = null;
            // Whether the kernel granted huge pages (it may fall back to small ones when memory is fragmented).
            if (File.Exists("/proc/self/smaps_rollup"))
                Console.WriteLine($"{type}: process {File.ReadLines("/proc/self/smaps_rollup").FirstOrDefault(l => l.StartsWith("AnonHugePages", StringComparison.Ordinal))}");

            var x = Enumerable.Range(0, cols).Select(_ => r.NextSingle() * 2 - 1).ToArray();
            var act = new Q8Activations();
            act.Quantize(x, 1, cols, QuantDot.ActivationFormat(type));
            // Warm-up on the first 64 groups, long enough for tiered compilation to install the optimized kernel: a cold
            // kernel ran at a quarter of its speed through every timed pass of a 100 MB matrix.
            var warm = Stopwatch.StartNew();
            while (warm.ElapsedMilliseconds < 500)
                for (long i = 0; i < Math.Min(rows, 64 * RowGroups.Rows); i += RowGroups.Rows)
                    QuantDot.Group(KernelPaths.Best, type, grouped.Data + i * rowBytes, act, 0, 1, y, RowGroups.Rows);
            fixed (byte* s = small)
            {
                foreach (var (name, data) in new[] { ("huge pages", (nint)grouped.Data), ("4 KiB pages", (nint)s) })
                {
                    double kernel = 0, read = 0;
                    for (int rep = 0; rep < 3; rep++)
                    {
                        var clock = Stopwatch.StartNew();
                        for (long i = 0; i < rows; i += RowGroups.Rows)
                            QuantDot.Group(KernelPaths.Best, type, (byte*)data + i * rowBytes, act, 0, 1, y, RowGroups.Rows);
                        kernel = Math.Max(kernel, length / clock.Elapsed.TotalSeconds / 1e9);
                        clock.Restart();
                        var acc = Vector512<byte>.Zero;
                        for (long o = 0; o + 256 <= length; o += 256)
                        {
                            byte* q = (byte*)data + o;
                            acc ^= Vector512.Load(q) ^ Vector512.Load(q + 64) ^ Vector512.Load(q + 128) ^ Vector512.Load(q + 192);
                        }
                        read = Math.Max(read, length / clock.Elapsed.TotalSeconds / 1e9);
                        y[0] += acc[0];
                    }
                    Console.WriteLine(string.Create(inv,
                        $"{type,-5} {name,-11}: group kernel {kernel,5:0.0} GB/s, plain read {read,5:0.0} GB/s, kernel/read {kernel / read:P0}  ({y[0]:0})"));
                }
            }
            GC.KeepAlive(grouped);
        }
    }
}
