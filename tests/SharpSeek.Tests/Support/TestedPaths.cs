using SharpSeek.Kernels;

namespace SharpSeek.Tests.Support;

/// <summary>
/// The kernel paths this CPU runs, for theories over paths: a path the CPU lacks gets no case at all, rather than a case that
/// returns early and reports a pass it never earned.
/// </summary>
internal static class TestedPaths
{
    public static KernelPath[] All { get; } = Enum.GetValues<KernelPath>().Where(KernelPaths.IsSupported).ToArray();
}
