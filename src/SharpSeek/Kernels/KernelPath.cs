using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace SharpSeek.Kernels;

/// <summary>Instruction-set paths of the quantized dot kernels, fastest last.</summary>
public enum KernelPath
{
    /// <summary>Plain C#: the reference every other path is tested against.</summary>
    Scalar,
    /// <summary>256-bit <c>vpmaddubsw</c> + <c>vpmaddwd</c>.</summary>
    Avx2,
    /// <summary>512-bit <c>vpmaddubsw</c> + <c>vpmaddwd</c>, two 32-value blocks per instruction.</summary>
    Avx512BW,
    /// <summary>
    /// <c>vpdpbusd</c> (u8×s8 → s32 in one instruction). .NET 10 exposes it at 256 bits (<see cref="AvxVnni"/>, which the JIT
    /// EVEX-encodes on AVX-512 VNNI CPUs); the 512-bit form is only reachable through AVX10, which this hardware lacks.
    /// </summary>
    Vnni,
}

/// <summary>The path the quantized kernels use; tests switch it to run every path against <see cref="KernelPath.Scalar"/>.</summary>
public static class KernelPaths
{
    /// <summary>Best path this CPU supports.</summary>
    public static KernelPath Best { get; } =
        AvxVnni.IsSupported && Avx2.IsSupported ? KernelPath.Vnni
        : Avx512BW.IsSupported && Vector512.IsHardwareAccelerated ? KernelPath.Avx512BW
        : Avx2.IsSupported ? KernelPath.Avx2
        : KernelPath.Scalar;

    /// <summary>Current path (process-wide; tests set it and restore it).</summary>
    public static KernelPath Current { get; internal set; } = Best;

    public static bool IsSupported(KernelPath path) => path switch
    {
        KernelPath.Scalar => true,
        KernelPath.Avx2 => Avx2.IsSupported,
        KernelPath.Avx512BW => Avx512BW.IsSupported && Vector512.IsHardwareAccelerated,
        KernelPath.Vnni => AvxVnni.IsSupported && Avx2.IsSupported,
        _ => false,
    };
}
