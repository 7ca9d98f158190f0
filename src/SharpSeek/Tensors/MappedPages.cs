using System.Runtime.InteropServices;

namespace SharpSeek.Tensors;

/// <summary>
/// Drops a memory-mapped range's pages from the process once their bytes have been copied elsewhere (a tensor moved into
/// <see cref="Kernels.RowGroups"/>' layout), so resident memory counts the copy and not both. The pages are clean file pages:
/// touching them again just reads the file. Linux only; elsewhere, on older kernels and on any failure, the pages stay until the OS needs them.
/// </summary>
internal static unsafe partial class MappedPages
{
    // MADV_PAGEOUT (Linux 5.4): reclaims clean file pages and never loses data (anonymous memory would have to go to swap, so
    // a tensor that lives in ordinary memory is left as it is), unlike MADV_DONTNEED, which zeroes anonymous pages.
    private const int MadvPageOut = 21;

    public static void Release(byte* start, long length)
    {
        if (!OperatingSystem.IsLinux() || length <= 0) return;
        long page = Environment.SystemPageSize;
        // Whole pages inside the range only: a neighbour's bytes on a shared page stay resident.
        long first = ((long)start + page - 1) / page * page, end = ((long)start + length) / page * page;
        if (end <= first) return;
        try { _ = Madvise((nint)first, (nuint)(end - first), MadvPageOut); }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { }
    }

    [LibraryImport("libc", EntryPoint = "madvise")]
    private static partial int Madvise(nint address, nuint length, int advice);
}
