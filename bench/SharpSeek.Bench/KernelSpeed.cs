using System.Diagnostics;
using System.Globalization;
using SharpSeek.Kernels;
using SharpSeek.Tensors;
using SharpSeek.Threading;

namespace SharpSeek.Bench;

/// <summary>
/// Single-thread speed of the quantized product kernels on an L2-resident matrix: the one-token group kernel of each path (and
/// the two-group kernel where a path has one) in GB/s
/// of weights (<see cref="RowGroups"/>' layout, activations in the type's format), then products through <see cref="MatMul"/>
/// over 1 to 64 tokens, in G multiply-adds per second: what a batched decode step or a prefill chunk costs per token.
/// </summary>
internal static unsafe class KernelSpeed
{
    public static void Run()
    {
        const int rows = 256, cols = 4096;
        var r = new Random(1);
        var x = Enumerable.Range(0, cols).Select(_ => r.NextSingle() * 2 - 1).ToArray();
        foreach (var type in new[] { DType.Q8_0, DType.Q4_0, DType.Q4_K, DType.Q6_K })
        {
            var bytes = new byte[type.ByteCount((long)rows * cols)];
            RandomBlocks(r, type, bytes);
            fixed (byte* w = bytes)
            {
                Groups(type, w, bytes.Length, rows, cols, x);
                Tokens(type, w, bytes.Length, rows, cols);
            }
        }
    }

    /// <summary>Random blocks of <paramref name="type"/> whose fp16 scale (Q6_K's d, every other type's first) is 2^-15, so sums stay finite.</summary>
    internal static void RandomBlocks(Random r, DType type, Span<byte> bytes)
    {
        r.NextBytes(bytes);
        int bb = type.BlockBytes(), scaleAt = type == DType.Q6_K ? 208 : 0;
        for (int o = 0; o + bb <= bytes.Length; o += bb) { bytes[o + scaleAt] = 0x00; bytes[o + scaleAt + 1] = 0x20; }
    }

    /// <summary>The one-token group kernels on the matrix in the 8-row layout; also in ns per 256 values of a row.</summary>
    private static void Groups(DType type, byte* data, long length, int rows, int cols, float[] x)
    {
        var inv = CultureInfo.InvariantCulture;
        var w = new WeightTensor("w", "bench", type, [rows, cols], data, length);
        if (!RowGroups.Supports(w, KernelPaths.Best)) return;
        var g = RowGroups.Interleave(w);
        var format = QuantDot.ActivationFormat(type);
        var act = new Q8Activations();
        act.Quantize(x, 1, cols, format);
        float* y = stackalloc float[RowGroups.Rows];
        foreach (var path in Enum.GetValues<KernelPath>())
        {
            if (!KernelPaths.IsSupported(path)) continue;
            double best = 0;
            for (int rep = 0; rep < 5; rep++)
            {
                var clock = Stopwatch.StartNew();
                int iters = 0;
                while (clock.ElapsedMilliseconds < 200)
                {
                    for (int i = 0; i < rows; i += RowGroups.Rows) QuantDot.Group(path, type, g.RowPointer(i), act, 0, 1, y, RowGroups.Rows);
                    iters++;
                }
                best = Math.Max(best, (double)iters * length / clock.Elapsed.TotalSeconds / 1e9);
            }
            double weights = best * 1e9 / type.ByteCount(cols) * cols;
            Console.WriteLine(string.Create(inv, $"{type,-5} {path,-9} {best,6:0.0} GB/s  {weights / 1e9,6:0.0} Gweights/s  {256 / weights * 1e9,6:0.00} ns/256  group, {format} ({y[0]:0})"));
        }
        float* y16 = stackalloc float[2 * RowGroups.Rows];
        foreach (var path in Enum.GetValues<KernelPath>())
        {
            if (!KernelPaths.IsSupported(path) || !QuantDot.HasPairKernel(path, type)) continue;
            double best = 0;
            for (int rep = 0; rep < 5; rep++)
            {
                var clock = Stopwatch.StartNew();
                int iters = 0;
                while (clock.ElapsedMilliseconds < 200)
                {
                    for (int i = 0; i < rows; i += 2 * RowGroups.Rows) QuantDot.Pair(path, type, g.RowPointer(i), act, 0, 1, y16, 2 * RowGroups.Rows);
                    iters++;
                }
                best = Math.Max(best, (double)iters * length / clock.Elapsed.TotalSeconds / 1e9);
            }
            double weights = best * 1e9 / type.ByteCount(cols) * cols;
            Console.WriteLine(string.Create(inv, $"{type,-5} {path,-9} {best,6:0.0} GB/s  {weights / 1e9,6:0.0} Gweights/s  {256 / weights * 1e9,6:0.00} ns/256  pair of groups ({y16[0]:0})"));
        }
        GC.KeepAlive(g);   // the kernels read g's own memory through raw pointers
    }

    /// <summary>rows×cols weights (grouped) times 1..64 tokens through MatMul on one thread: G multiply-adds per second, and per token against one.</summary>
    private static void Tokens(DType type, byte* data, long length, int rows, int cols)
    {
        var inv = CultureInfo.InvariantCulture;
        var r = new Random(2);
        var file = new WeightTensor("w", "bench", type, [rows, cols], data, length);
        var w = RowGroups.Supports(file, KernelPaths.Best) ? RowGroups.Interleave(file) : file;
        using var pool = new WorkerPool(1);
        var policy = new KernelPolicy { Pool = pool };
        double one = 0;
        foreach (int tokens in new[] { 1, 2, 4, 8, 16, 64 })
        {
            var x = Enumerable.Range(0, tokens * cols).Select(_ => r.NextSingle() * 2 - 1).ToArray();
            var y = new float[tokens * rows];
            (double wall, double cpu) best = default;
            for (int rep = 0; rep < 5; rep++) best = Max(best, Gmacs(policy.For(tokens), w, x, tokens, y));
            if (tokens == 1) one = best.cpu;
            Console.WriteLine(string.Create(inv,
                $"{type,-5} {policy.Path,-9} T={tokens,-2}: {best.wall,5:0.0} GMAC/s ({best.cpu,5:0.0} per CPU-s), a {tokens}-token product costs {tokens * one / best.cpu,4:0.00}× a 1-token one"));
        }
        GC.KeepAlive(w);
    }

    private static (double, double) Max((double, double) a, (double, double) b) => (Math.Max(a.Item1, b.Item1), Math.Max(a.Item2, b.Item2));

    /// <summary>G multiply-adds per wall second and per CPU second of this process (the second discounts time the OS gave to other loads).</summary>
    private static (double wall, double cpu) Gmacs(in KernelContext ctx, WeightTensor w, float[] x, int tokens, float[] y)
    {
        var process = Process.GetCurrentProcess();
        var cpu0 = process.TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        int iters = 0;
        while (clock.ElapsedMilliseconds < 200)
        {
            MatMul.Compute(ctx, w, x, tokens, y);
            iters++;
        }
        double macs = (double)iters * w.Rows * w.Cols * tokens / 1e9;
        process.Refresh();
        return (macs / clock.Elapsed.TotalSeconds, macs / (process.TotalProcessorTime - cpu0).TotalSeconds);
    }
}
