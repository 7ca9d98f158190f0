using SharpSeek.Kernels;

namespace SharpSeek.Tests.Support;

/// <summary>A theory about one kernel path, reported as skipped (with the reason) on a CPU that cannot run the path.</summary>
public sealed class PathTheoryAttribute : TheoryAttribute
{
    public PathTheoryAttribute(KernelPath path)
    {
        if (!KernelPaths.IsSupported(path)) Skip = $"this CPU cannot run the {path} kernel path";
    }
}
