using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using SharpSeek.Tensors;

namespace SharpSeek.Kernels;

/// <summary>
/// Integer dot products of one ggml-quantized weight row with one row of <see cref="Q8Activations"/>, llama.cpp's scheme:
/// int8×int8 (or uint4/uint6×int8) products summed in int32 per 32-value block, then scaled in float.
/// Each weight type has a scalar reference and vector paths (<see cref="KernelPath"/>); the vector paths are built on
/// one operator, u8×s8 → s32 over groups of four bytes, so weights that are unsigned (Q4_0, Q4_K, Q6_K nibbles) need no sign trick
/// and their offsets are folded in through the per-block activation sums.
/// </summary>
public static unsafe partial class QuantDot
{
    /// <summary>Whether <paramref name="type"/> has integer kernels.</summary>
    public static bool Supports(DType type) => type is DType.Q8_0 or DType.Q4_0 or DType.Q4_K or DType.Q6_K;

    /// <summary>w · x for a row of <paramref name="cols"/> values on the current path.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Row(DType type, byte* w, Q8Row x, int cols) => Row(KernelPaths.Current, type, w, x, cols);

    public static float Row(KernelPath path, DType type, byte* w, Q8Row x, int cols) => type switch
    {
        DType.Q8_0 => path switch
        {
            KernelPath.Vnni => Q8_0<VnniDot>(w, x, cols / 32),
            KernelPath.Avx512BW => Q8_0Avx512(w, x, cols / 32),
            KernelPath.Avx2 => Q8_0<Avx2Dot>(w, x, cols / 32),
            _ => Q8_0Reference(w, x, cols / 32),
        },
        DType.Q4_0 => path switch
        {
            KernelPath.Vnni => Q4_0<VnniDot>(w, x, cols / 32),
            KernelPath.Avx512BW => Q4_0Avx512(w, x, cols / 32),
            KernelPath.Avx2 => Q4_0<Avx2Dot>(w, x, cols / 32),
            _ => Q4_0Reference(w, x, cols / 32),
        },
        DType.Q4_K => path switch
        {
            KernelPath.Vnni => Q4_K<VnniDot>(w, x, cols / 256),
            KernelPath.Avx512BW => Q4_KAvx512(w, x, cols / 256),
            KernelPath.Avx2 => Q4_K<Avx2Dot>(w, x, cols / 256),
            _ => Q4_KReference(w, x, cols / 256),
        },
        DType.Q6_K => path switch
        {
            KernelPath.Vnni => Q6_K<VnniDot>(w, x, cols / 256),
            KernelPath.Avx512BW => Q6_KAvx512(w, x, cols / 256),
            KernelPath.Avx2 => Q6_K<Avx2Dot>(w, x, cols / 256),
            _ => Q6_KReference(w, x, cols / 256),
        },
        _ => throw new NotSupportedException($"no integer kernel for {type}"),
    };

    /// <summary>
    /// fp16 scale → float without branches or calls: shift the exponent and mantissa into place and rescale by 2^112, which is exact
    /// for normal and subnormal values (the runtime's conversion has a slow path that makes the JIT spill the accumulators).
    /// Infinity and NaN are not valid block scales and come out as large finite values.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float Half(byte* p)
    {
        uint h = *(ushort*)p;
        float magnitude = BitConverter.UInt32BitsToSingle((h & 0x7FFF) << 13) * 5.192296858534828e33f;
        return BitConverter.UInt32BitsToSingle(BitConverter.SingleToUInt32Bits(magnitude) | ((h & 0x8000) << 16));
    }

    /// <summary>The runtime's exact conversion, for the scalar references.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float HalfExact(byte* p) => (float)*(Half*)p;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> DotAvx512(Vector512<byte> u, Vector512<sbyte> s) =>
        Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(u, s), Vector512.Create((short)1));
}

/// <summary>Sum of four adjacent u8×s8 products into each int32 lane (the operator every 256-bit kernel is written against).</summary>
internal interface IDotU8S8
{
    static abstract Vector256<int> Dot(Vector256<byte> u, Vector256<sbyte> s);

    /// <summary>acc + Dot(u, s); one instruction on VNNI.</summary>
    static abstract Vector256<int> DotAdd(Vector256<int> acc, Vector256<byte> u, Vector256<sbyte> s);
}

/// <summary>AVX2: <c>vpmaddubsw</c> to int16 pairs (no saturation for our ranges: ≤ 2·127·128), then <c>vpmaddwd</c> with ones.</summary>
internal readonly struct Avx2Dot : IDotU8S8
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Dot(Vector256<byte> u, Vector256<sbyte> s) =>
        Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(u, s), Vector256.Create((short)1));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> DotAdd(Vector256<int> acc, Vector256<byte> u, Vector256<sbyte> s) => acc + Dot(u, s);
}

/// <summary>VNNI: one <c>vpdpbusd</c>.</summary>
internal readonly struct VnniDot : IDotU8S8
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Dot(Vector256<byte> u, Vector256<sbyte> s) => AvxVnni.MultiplyWideningAndAdd(Vector256<int>.Zero, u, s);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> DotAdd(Vector256<int> acc, Vector256<byte> u, Vector256<sbyte> s) => AvxVnni.MultiplyWideningAndAdd(acc, u, s);
}
