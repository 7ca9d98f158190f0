using System.Diagnostics;
using System.Globalization;
using SharpSeek.Kernels;
using SharpSeek.Tensors;
using SharpSeek.Threading;

namespace SharpSeek.Bench;

/// <summary>
/// Single-thread speed of each quantized dot path on an L2-resident matrix, in GB/s of weights, row kernels and then the
/// one-token group kernels (<see cref="RowGroups"/>, activations in the form decode gives them); then the multi-token product
/// (prefill) through <see cref="MatMul"/>, tiled GEMM against the per-token kernels, in G multiply-adds per second.
/// </summary>
internal static unsafe class KernelSpeed
{
    public static void Run()
    {
        const int rows = 256, cols = 4096;
        var inv = CultureInfo.InvariantCulture;
        var r = new Random(1);
        var x = Enumerable.Range(0, cols).Select(_ => r.NextSingle() * 2 - 1).ToArray();
        var act = new Q8Activations();
        act.Quantize(x, 1, cols);
        foreach (var type in new[] { DType.Q8_0, DType.Q4_0, DType.Q4_K, DType.Q6_K })
        {
            var bytes = new byte[type.ByteCount((long)rows * cols)];
            RandomBlocks(r, type, bytes);
            fixed (byte* w = bytes)
            {
                foreach (var path in Enum.GetValues<KernelPath>())
                {
                    if (!KernelPaths.IsSupported(path)) continue;
                    float sink = 0;
                    long rowBytes = type.ByteCount(cols);
                    double best = 0;
                    for (int rep = 0; rep < 5; rep++)
                    {
                        var clock = Stopwatch.StartNew();
                        int iters = 0;
                        while (clock.ElapsedMilliseconds < 200)
                        {
                            for (int i = 0; i < rows; i++) sink += QuantDot.Row(path, type, w + i * rowBytes, act.Row(0), cols);
                            iters++;
                        }
                        best = Math.Max(best, (double)iters * bytes.Length / clock.Elapsed.TotalSeconds / 1e9);
                    }
                    Console.WriteLine(string.Create(inv, $"{type,-5} {path,-9} {best,6:0.0} GB/s  {best * 1e9 / rowBytes * cols / 1e9,6:0.0} Gweights/s  ({sink:0})"));
                }
                Groups(type, w, bytes.Length, rows, cols, x);
                Gemm(type, w, bytes.Length, rows, cols);
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

    /// <summary>The one-token group kernels on the same matrix in the 8-row layout; also in ns per 256 values of a row.</summary>
    private static void Groups(DType type, byte* data, long length, int rows, int cols, float[] x)
    {
        var inv = CultureInfo.InvariantCulture;
        var w = new WeightTensor("w", "bench", type, [rows, cols], data, length);
        if (!RowGroups.Supports(w)) return;
        var g = RowGroups.Interleave(w);
        var format = MatMul.ActivationFormat(g, KernelPaths.Current, tiled: false);
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
                    for (int i = 0; i < rows; i += RowGroups.Rows) MatMul.GroupDots(path, type, g.RowPointer(i), act, y, RowGroups.Rows);
                    iters++;
                }
                best = Math.Max(best, (double)iters * length / clock.Elapsed.TotalSeconds / 1e9);
            }
            double weights = best * 1e9 / type.ByteCount(cols) * cols;
            Console.WriteLine(string.Create(inv, $"{type,-5} {path,-9} {best,6:0.0} GB/s  {weights / 1e9,6:0.0} Gweights/s  {256 / weights * 1e9,6:0.00} ns/256  group, {format} ({y[0]:0})"));
        }
        GC.KeepAlive(g);   // the kernels read g's own memory through raw pointers
    }

    /// <summary>rows×cols weights times 64 tokens on one thread, tiled and per-token, for each path that has a tiled kernel.</summary>
    private static void Gemm(DType type, byte* data, long length, int rows, int cols)
    {
        const int tokens = 64;
        var inv = CultureInfo.InvariantCulture;
        var r = new Random(2);
        var x = Enumerable.Range(0, tokens * cols).Select(_ => r.NextSingle() * 2 - 1).ToArray();
        var y = new float[tokens * rows];
        var w = new WeightTensor("w", "bench", type, [rows, cols], data, length);
        using var pool = new WorkerPool(1);
        var savedPath = KernelPaths.Current;
        int savedMin = MatMul.GemmMinTokens;
        try
        {
            foreach (var path in Enum.GetValues<KernelPath>())
            {
                if (!KernelPaths.IsSupported(path) || !QuantGemm.Supports(path, type)) continue;
                KernelPaths.Current = path;
                (double wall, double cpu) tiled = default, perToken = default;
                for (int rep = 0; rep < 5; rep++)
                {
                    MatMul.GemmMinTokens = 2;
                    tiled = Max(tiled, Gmacs(w, x, tokens, y, pool));
                    MatMul.GemmMinTokens = int.MaxValue;
                    perToken = Max(perToken, Gmacs(w, x, tokens, y, pool));
                }
                Console.WriteLine(string.Create(inv,
                    $"{type,-5} {path,-9} GEMM T={tokens}: tiled {tiled.wall,5:0.0} GMAC/s ({tiled.cpu,5:0.0} per CPU-s), per-token {perToken.wall,5:0.0} ({perToken.cpu,5:0.0}), {tiled.cpu / perToken.cpu:0.0}×"));
            }
        }
        finally
        {
            KernelPaths.Current = savedPath;
            MatMul.GemmMinTokens = savedMin;
        }
    }

    private static (double, double) Max((double, double) a, (double, double) b) => (Math.Max(a.Item1, b.Item1), Math.Max(a.Item2, b.Item2));

    /// <summary>G multiply-adds per wall second and per CPU second of this process (the second discounts time the OS gave to other loads).</summary>
    private static (double wall, double cpu) Gmacs(WeightTensor w, float[] x, int tokens, float[] y, WorkerPool pool)
    {
        var process = Process.GetCurrentProcess();
        var cpu0 = process.TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        int iters = 0;
        while (clock.ElapsedMilliseconds < 200)
        {
            MatMul.Compute(w, x, tokens, y, pool: pool);
            iters++;
        }
        double macs = (double)iters * w.Rows * w.Cols * tokens / 1e9;
        process.Refresh();
        return (macs / clock.Elapsed.TotalSeconds, macs / (process.TotalProcessorTime - cpu0).TotalSeconds);
    }
}
