using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using SharpSeek.Tensors;

namespace SharpSeek.Kernels;

/// <summary>
/// Integer dot products of ggml-quantized weight rows with rows of <see cref="Q8Activations"/>, llama.cpp's scheme:
/// int8×int8 (or uint4/uint6×int8) products summed exactly in int32, then scaled in float. The vector kernels take 8 rows at a
/// time in <see cref="RowGroups"/>' layout (QuantDot.Groups*.cs); the scalar row kernels (QuantDot.Rows.cs) take the file's layout.
/// All are built on one operator, u8×s8 → s32 over groups of four bytes, so weights that are unsigned (Q4_0, Q4_K, Q6_K nibbles)
/// need no sign trick and their offsets are folded in through the per-block activation sums.
/// </summary>
public static unsafe partial class QuantDot
{
    /// <summary>Whether <paramref name="type"/> has integer kernels.</summary>
    public static bool Supports(DType type) => type is DType.Q8_0 or DType.Q4_0 or DType.Q4_K or DType.Q6_K;

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
}

/// <summary>
/// Sum of four adjacent u8×s8 products into each int32 lane (the operator every 256-bit kernel is written against), and the
/// accumulating form the kernels sum a run of such products in. Every result is exact, so the paths agree bit for bit.
/// </summary>
internal interface IDotU8S8
{
    static abstract Vector256<int> Dot(Vector256<byte> u, Vector256<sbyte> s);

    /// <summary>acc + Dot(u, s); one instruction on VNNI.</summary>
    static abstract Vector256<int> DotAdd(Vector256<int> acc, Vector256<byte> u, Vector256<sbyte> s);

    /// <summary>
    /// acc + u·s in the operator's accumulating form: int32 lanes on VNNI; on AVX2 int16 pairs, where <c>vpmaddubsw</c> leaves
    /// them, so a run costs one <c>vpmaddwd</c> at its end (<see cref="Widen"/>) instead of one per product. Int16 holds the
    /// sum of at most 8 products of bytes ≤ 15 (8·2·15·127 = 30480) or 2 of bytes ≤ 63 (2·2·63·127 = 32004): callers start a
    /// new run (from zero) before that.
    /// </summary>
    static abstract Vector256<int> Accumulate(Vector256<int> acc, Vector256<byte> u, Vector256<sbyte> s);

    /// <summary>Two runs added in the accumulating form (their products together within the same limit).</summary>
    static abstract Vector256<int> Merge(Vector256<int> a, Vector256<int> b);

    /// <summary>A run as int32 lanes (four products per lane).</summary>
    static abstract Vector256<int> Widen(Vector256<int> acc);
}

/// <summary>AVX2: <c>vpmaddubsw</c> to int16 pairs (no saturation for our ranges: ≤ 2·127·128), then <c>vpmaddwd</c> with ones.</summary>
internal readonly struct Avx2Dot : IDotU8S8
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Dot(Vector256<byte> u, Vector256<sbyte> s) =>
        Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(u, s), Vector256.Create((short)1));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> DotAdd(Vector256<int> acc, Vector256<byte> u, Vector256<sbyte> s) => acc + Dot(u, s);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Accumulate(Vector256<int> acc, Vector256<byte> u, Vector256<sbyte> s) =>
        (acc.AsInt16() + Avx2.MultiplyAddAdjacent(u, s)).AsInt32();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Merge(Vector256<int> a, Vector256<int> b) => (a.AsInt16() + b.AsInt16()).AsInt32();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Widen(Vector256<int> acc) => Avx2.MultiplyAddAdjacent(acc.AsInt16(), Vector256.Create((short)1));
}

/// <summary>VNNI: one <c>vpdpbusd</c>.</summary>
internal readonly struct VnniDot : IDotU8S8
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Dot(Vector256<byte> u, Vector256<sbyte> s) => AvxVnni.MultiplyWideningAndAdd(Vector256<int>.Zero, u, s);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> DotAdd(Vector256<int> acc, Vector256<byte> u, Vector256<sbyte> s) => AvxVnni.MultiplyWideningAndAdd(acc, u, s);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Accumulate(Vector256<int> acc, Vector256<byte> u, Vector256<sbyte> s) => AvxVnni.MultiplyWideningAndAdd(acc, u, s);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Merge(Vector256<int> a, Vector256<int> b) => a + b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Widen(Vector256<int> acc) => acc;
}
