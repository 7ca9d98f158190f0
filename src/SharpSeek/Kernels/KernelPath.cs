using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace SharpSeek.Kernels;

/// <summary>Instruction-set paths of the quantized dot kernels, fastest last.</summary>
public enum KernelPath
{
    /// <summary>Plain C#: the reference every other path is tested against (bit for bit: the float steps are the same).</summary>
    Scalar,
    /// <summary>256-bit <c>vpmaddubsw</c> + <c>vpmaddwd</c>.</summary>
    Avx2,
    /// <summary>AVX-512BW CPUs: the 256-bit kernels of <see cref="Avx2"/> (with the 32 vector registers the JIT then uses).</summary>
    Avx512BW,
    /// <summary>
    /// <c>vpdpbusd</c> (u8×s8 → s32 in one instruction). .NET 10 exposes it only as <see cref="AvxVnni"/> (256 bits), which
    /// reports supported where the CPU has AVX-VNNI (Sapphire Rapids, Alder Lake, Zen 5); the JIT then EVEX-encodes it. A CPU
    /// with AVX-512 VNNI but not AVX-VNNI (Zen 4, Ice Lake) gets no VNNI path at all and runs <see cref="Avx512BW"/>; the
    /// 512-bit form is only reachable through AVX10.
    /// </summary>
    Vnni,
    /// <summary>
    /// CPUs with AVX-VNNI and AVX-512 that .NET runs at full width (Zen 5; Sapphire Rapids has both too, not measured): the
    /// <see cref="Vnni"/> kernels, except that Q4_0 and Q4_K products of more than 16 tokens take 16 rows per 512-bit
    /// <c>vpmaddubsw</c> kernel (QuantDot.Pairs*.cs, <see cref="KernelContext.PairsGroups"/>), 1.4× the 256-bit
    /// <c>vpdpbusd</c> kernels on 8 rows there.
    /// </summary>
    Avx512,
}

/// <summary>What this CPU supports.</summary>
public static class KernelPaths
{
    /// <summary>Best path this CPU supports.</summary>
    public static KernelPath Best { get; } =
        IsSupported(KernelPath.Avx512) ? KernelPath.Avx512
        : AvxVnni.IsSupported && Avx2.IsSupported ? KernelPath.Vnni
        : Avx512BW.IsSupported && Vector512.IsHardwareAccelerated ? KernelPath.Avx512BW
        : Avx2.IsSupported ? KernelPath.Avx2
        : KernelPath.Scalar;

    public static bool IsSupported(KernelPath path) => path switch
    {
        KernelPath.Scalar => true,
        KernelPath.Avx2 => Avx2.IsSupported,
        KernelPath.Avx512BW => Avx512BW.IsSupported && Vector512.IsHardwareAccelerated,
        KernelPath.Vnni => AvxVnni.IsSupported && Avx2.IsSupported,
        KernelPath.Avx512 => AvxVnni.IsSupported && Avx512BW.IsSupported && Vector512.IsHardwareAccelerated,
        _ => false,
    };
}
