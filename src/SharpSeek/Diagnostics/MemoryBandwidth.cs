using System.Diagnostics;
using System.Runtime.Intrinsics;
using SharpSeek.Tensors;

namespace SharpSeek.Diagnostics;

/// <summary>
/// Read bandwidth of main memory as this process sees it: several threads sum disjoint parts of an array much larger
/// than the caches, in the huge pages the in-memory weights live in (<see cref="HugePages"/>). On a shared machine it moves by
/// 2× within minutes, so it is measured in the same run as the numbers it bounds.
/// </summary>
public static unsafe class MemoryBandwidth
{
    /// <summary>Best of <paramref name="passes"/> passes over <paramref name="bytes"/> bytes with <paramref name="threads"/> threads, in GB/s (10⁹).</summary>
    public static double MeasureReadGBps(int threads, long bytes = 1L << 30, int passes = 3)
    {
        long n = bytes / sizeof(float);
        float* data = (float*)HugePages.Allocate(n * sizeof(float));
        try
        {
            // Touch every page so the kernel maps them before timing.
            Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
            {
                long a = n * t / threads, b = n * (t + 1) / threads;
                new Span<float>(data + a, checked((int)(b - a))).Fill(1f);
            });
            return BestPass(data, n, threads, passes);
        }
        finally { HugePages.Free((byte*)data); }
    }

    private static double BestPass(float* data, long n, int threads, int passes)
    {
        long bytes = n * sizeof(float);
        double best = 0;
        float sink = 0;
        for (int p = 0; p < passes; p++)
        {
            var sums = new float[threads];
            var clock = Stopwatch.StartNew();
            var workers = new Thread[threads];
            for (int t = 0; t < threads; t++)
            {
                int id = t;
                workers[t] = new Thread(() => sums[id] = Sum(data, n * id / threads, n * (id + 1) / threads));
                workers[t].Start();
            }
            foreach (var w in workers) w.Join();
            double s = clock.Elapsed.TotalSeconds;
            sink += sums.Sum();
            best = Math.Max(best, bytes / s / 1e9);
        }
        GC.KeepAlive(sink);
        return best;
    }

    private static float Sum(float* p, long from, long to)
    {
        var a0 = Vector256<float>.Zero;
        var a1 = Vector256<float>.Zero;
        var a2 = Vector256<float>.Zero;
        var a3 = Vector256<float>.Zero;
        long i = from;
        for (; i + 32 <= to; i += 32)
        {
            a0 += Vector256.Load(p + i);
            a1 += Vector256.Load(p + i + 8);
            a2 += Vector256.Load(p + i + 16);
            a3 += Vector256.Load(p + i + 24);
        }
        float s = Vector256.Sum(a0 + a1 + a2 + a3);
        for (; i < to; i++) s += p[i];
        return s;
    }
}
