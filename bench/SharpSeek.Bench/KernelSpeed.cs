using System.Diagnostics;
using System.Globalization;
using SharpSeek.Kernels;
using SharpSeek.Tensors;

namespace SharpSeek.Bench;

/// <summary>Single-thread speed of each quantized dot path on an L2-resident matrix, in GB/s of weights.</summary>
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
            r.NextBytes(bytes);
            int bb = type.BlockBytes();
            int scaleAt = type == DType.Q6_K ? 208 : 0;
            for (int o = 0; o < bytes.Length; o += bb) { bytes[o + scaleAt] = 0x00; bytes[o + scaleAt + 1] = 0x20; }
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
            }
        }
    }
}
