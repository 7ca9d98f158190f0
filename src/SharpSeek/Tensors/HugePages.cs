using System.Runtime.InteropServices;

namespace SharpSeek.Tensors;

/// <summary>
/// Native memory aligned to 2 MiB and, on Linux, advised into transparent huge pages (MADV_HUGEPAGE: with THP in "madvise"
/// mode, a common default, only advised ranges get them). Streaming through memory in 4 KiB pages costs a TLB miss every
/// 4 KiB, and under a hypervisor each miss is a two-level page walk.
/// </summary>
internal static unsafe partial class HugePages
{
    public const long Size = 2L << 20;

    private const int MadvHugePage = 14;

    /// <summary><paramref name="length"/> rounded up to whole huge pages.</summary>
    public static long RoundUp(long length) => (length + Size - 1) / Size * Size;

    /// <summary><paramref name="length"/> bytes (not zeroed); free them with <see cref="Free"/>.</summary>
    public static byte* Allocate(long length)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        byte* p = (byte*)NativeMemory.AlignedAlloc((nuint)length, (nuint)Size);
        if (OperatingSystem.IsLinux())
        {
            try { _ = Madvise((nint)p, (nuint)RoundUp(length), MadvHugePage); }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { }
        }
        return p;
    }

    public static void Free(byte* p) => NativeMemory.AlignedFree(p);

    [LibraryImport("libc", EntryPoint = "madvise")]
    private static partial int Madvise(nint address, nuint length, int advice);
}
