using SharpSeek.Tensors;

namespace SharpSeek.Models;

/// <summary>
/// Reads one byte of every page of every weight tensor, so the operating system maps the whole model in now, while a
/// progress bar can show it, rather than page by page during the first answer (which would then be seconds slow).
/// </summary>
internal static unsafe class WeightPager
{
    private const long Page = 4096;

    /// <summary>Between reports: small enough for a smooth bar, large enough that reporting costs nothing.</summary>
    private const long ReportEvery = 8L << 20;

    private static long _sink;

    /// <summary>The tensors with bytes, each region once (a tied head or a sliced view shares its bytes).</summary>
    public static List<WeightTensor> Distinct(IEnumerable<WeightTensor> tensors)
    {
        var seen = new HashSet<nint>();
        return [.. tensors.Where(t => t.ByteLength > 0 && seen.Add((nint)t.Data))];
    }

    /// <summary>Half the memory the runtime may use: beyond it, touching everything would only evict what was just read.</summary>
    public static long DefaultMemoryBudget => GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 2;

    /// <summary>
    /// Touches <paramref name="tensors"/> (views of the same bytes count once), reporting bytes done in order, ending at
    /// the total. A model larger than <paramref name="memoryBudget"/> (by default half the machine's memory) is left to
    /// page in on demand: a MoE model that size touches only its active experts per token, and reading all of it
    /// would thrash.
    /// </summary>
    public static void PageIn(IEnumerable<WeightTensor> tensors, IProgress<LoadProgress>? progress, long memoryBudget = -1)
    {
        var distinct = Distinct(tensors);
        long total = distinct.Sum(t => t.ByteLength), done = 0, reported = 0;
        progress?.Report(new LoadProgress(0, total));
        if (total > (memoryBudget < 0 ? DefaultMemoryBudget : memoryBudget))
        {
            progress?.Report(new LoadProgress(total, total));
            return;
        }
        long sum = 0;
        foreach (var t in distinct)
        {
            byte* p = t.Data;
            long n = t.ByteLength;
            for (long start = 0; start < n; start += ReportEvery)
            {
                long end = Math.Min(n, start + ReportEvery);
                for (long o = start; o < end; o += Page) sum += p[o];
                sum += p[end - 1];
                done += end - start;
                if (progress is not null && done - reported >= ReportEvery && done < total)
                {
                    progress.Report(new LoadProgress(done, total));
                    reported = done;
                }
            }
        }
        // The sum is kept so the reads cannot be optimised away.
        Interlocked.Add(ref _sink, sum);
        progress?.Report(new LoadProgress(total, total));
    }
}
