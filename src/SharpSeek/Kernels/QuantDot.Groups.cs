using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using SharpSeek.Tensors;

namespace SharpSeek.Kernels;

/// <summary>
/// One token against 8 rows in <see cref="RowGroups"/>' layout: per 32-value block, 8 <c>vpdpbusd</c> against the token's 4-byte
/// groups broadcast give the 8 rows' int32 block dots in one vector; the weight offset (Q4_0's 8, Q8_0's 128, times Σx) comes off
/// in int32 and one convert + FMA applies the 8 scales, converted from fp16 8 at a time. About 5 instructions per row and block,
/// where the row-at-a-time kernels spend about 35 (a scalar fp16 decode, a scale broadcast and an offset per row and block).
/// The K-quants' kernels, which take Q8_K activations (one scale per 256 values) as llama.cpp's do, are in
/// QuantDot.Groups.Q4_K.cs and QuantDot.Groups.Q6_K.cs.
/// </summary>
public static unsafe partial class QuantDot
{
    /// <summary>y[0..8] = rows 0..7 of the Q4_0 or Q8_0 group at <paramref name="g"/> · x, over <paramref name="cols"/> values.</summary>
    public static void Group(KernelPath path, DType type, byte* g, Q8Row x, int cols, float* y)
    {
        switch (type)
        {
            case DType.Q4_0 when path == KernelPath.Vnni: Group<Q4_0Group, VnniDot>(g, x, cols / 32, y); return;
            case DType.Q4_0 when path != KernelPath.Scalar: Group<Q4_0Group, Avx2Dot>(g, x, cols / 32, y); return;
            case DType.Q8_0 when path == KernelPath.Vnni: Group<Q8_0Group, VnniDot>(g, x, cols / 32, y); return;
            // vpmaddubsw would saturate on w + 128; without VNNI the bytes go back to signed and take the sign trick.
            case DType.Q8_0 when path != KernelPath.Scalar: Group<Q8_0SignedGroup, Avx2Dot>(g, x, cols / 32, y); return;
            case DType.Q4_0 or DType.Q8_0: GroupReference(type, g, x, cols, y); return;
            default: throw new NotSupportedException($"no row-group kernel for {type} over Q8_0 activations");
        }
    }

    /// <summary>y[0..8] = rows 0..7 of the Q4_K or Q6_K group at <paramref name="g"/> · x (Q8_K activations), over <paramref name="cols"/> values.</summary>
    public static void Group(KernelPath path, DType type, byte* g, Q8KRow x, int cols, float* y)
    {
        switch (type)
        {
            // Nibbles and 6-bit values stay far from vpmaddubsw's int16 limit (2·63·127), so AVX2 runs the same kernels.
            case DType.Q4_K when path == KernelPath.Vnni: Q4_KGroup<VnniDot>(g, x, cols / 256, y); return;
            case DType.Q4_K when path != KernelPath.Scalar: Q4_KGroup<Avx2Dot>(g, x, cols / 256, y); return;
            case DType.Q6_K when path == KernelPath.Vnni: Q6_KGroup<VnniDot>(g, x, cols / 256, y); return;
            case DType.Q6_K when path != KernelPath.Scalar: Q6_KGroup<Avx2Dot>(g, x, cols / 256, y); return;
            case DType.Q4_K or DType.Q6_K: GroupReference(type, g, x, cols, y); return;
            default: throw new NotSupportedException($"no row-group kernel for {type} over Q8_K activations");
        }
    }

    /// <summary>Scalar reference for the K-quants: each row's values read back out of the group, the super-block summed in int.</summary>
    internal static void GroupReference(DType type, byte* g, Q8KRow x, int cols, float* y)
    {
        if (type == DType.Q4_K) Q4_KGroupReference(g, x, cols / 256, y);
        else if (type == DType.Q6_K) Q6_KGroupReference(g, x, cols / 256, y);
        else throw new NotSupportedException($"no Q8_K group reference for {type}");
    }

    /// <summary>Scalar reference for Q4_0 and Q8_0: each row's values read back out of the group, summed as the row references sum them.</summary>
    internal static void GroupReference(DType type, byte* g, Q8Row x, int cols, float* y)
    {
        if (type is not (DType.Q4_0 or DType.Q8_0)) throw new NotSupportedException($"no Q8_0 group reference for {type}");
        int bytes = RowGroups.BlockBytes(type), blocks = cols / 32;
        for (int r = 0; r < RowGroups.Rows; r++)
        {
            float sum = 0;
            for (int b = 0; b < blocks; b++)
            {
                byte* blk = g + (long)b * bytes;
                sbyte* xq = x.Qs + b * 32;
                int s = 0;
                for (int j = 0; j < 32; j++)
                {
                    int w;
                    if (type == DType.Q4_0)
                    {
                        byte v = blk[16 + (j % 16 / 4) * 32 + r * 4 + j % 4];
                        w = (j < 16 ? v & 0xF : v >> 4) - 8;
                    }
                    else w = (sbyte)(blk[16 + j / 4 * 32 + r * 4 + j % 4] ^ 0x80);
                    s += w * xq[j];
                }
                sum += s * (HalfExact(blk + 2 * r) * x.D[b]);
            }
            y[r] = sum;
        }
    }

    /// <summary>8 consecutive fp16 values to float, with <see cref="Half"/>'s exact bit trick.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> Halves8(byte* p) => HalfBits(Avx2.ConvertToVector256Int32((ushort*)p).AsUInt32());

    /// <summary>fp16 bit patterns (one per uint lane) to float, with <see cref="Half"/>'s exact bit trick.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> HalfBits(Vector256<uint> h)
    {
        var magnitude = Vector256.ShiftLeft(h & Vector256.Create(0x7FFFu), 13).AsSingle() * Vector256.Create(5.192296858534828e33f);
        return (magnitude.AsUInt32() | Vector256.ShiftLeft(h & Vector256.Create(0x8000u), 16)).AsSingle();
    }

    private static void Group<TB, T>(byte* g, Q8Row x, int blocks, float* y) where TB : IGroupBlock where T : IDotU8S8
    {
        var acc0 = Vector256<float>.Zero;
        var acc1 = Vector256<float>.Zero;
        int b = 0;
        for (; b + 1 < blocks; b += 2)
        {
            acc0 = GroupBlock<TB, T>(g + (long)b * TB.Bytes, x, b, acc0);
            acc1 = GroupBlock<TB, T>(g + (long)(b + 1) * TB.Bytes, x, b + 1, acc1);
        }
        if (b < blocks) acc0 = GroupBlock<TB, T>(g + (long)b * TB.Bytes, x, b, acc0);
        (acc0 + acc1).Store(y);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> GroupBlock<TB, T>(byte* blk, Q8Row x, int b, Vector256<float> acc) where TB : IGroupBlock where T : IDotU8S8
    {
        var s = TB.Dot<T>(blk + 2 * RowGroups.Rows, x.Qs + b * 32);
        if (TB.Offset != 0) s -= Vector256.Create(TB.Offset * x.Sum32[b]);
        return Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(s), Halves8(blk) * Vector256.Create(x.D[b]), acc);
    }

    /// <summary>The token's values 4k..4k+3 in every lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<sbyte> Broadcast4(sbyte* xq, int k) => Vector256.Create(*(int*)(xq + 4 * k)).AsSByte();

    /// <summary>One block type of the grouped layout: its bytes, its weight offset, and the 8 rows' int32 dots.</summary>
    private interface IGroupBlock
    {
        static abstract int Bytes { get; }
        static abstract int Offset { get; }
        static abstract Vector256<int> Dot<T>(byte* v, sbyte* xq) where T : IDotU8S8;
    }

    private readonly struct Q4_0Group : IGroupBlock
    {
        public static int Bytes => RowGroups.Rows * 18;
        public static int Offset => 8;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<int> Dot<T>(byte* v, sbyte* xq) where T : IDotU8S8
        {
            var m = Vector256.Create((byte)0x0F);
            var p0 = Vector256.Load(v);
            var p1 = Vector256.Load(v + 32);
            var p2 = Vector256.Load(v + 64);
            var p3 = Vector256.Load(v + 96);
            // Two chains of four, so consecutive vpdpbusd do not all wait on each other.
            var lo = T.Dot(p0 & m, Broadcast4(xq, 0));
            var hi = T.Dot(Vector256.ShiftRightLogical(p0.AsUInt16(), 4).AsByte() & m, Broadcast4(xq, 4));
            lo = T.DotAdd(lo, p1 & m, Broadcast4(xq, 1));
            hi = T.DotAdd(hi, Vector256.ShiftRightLogical(p1.AsUInt16(), 4).AsByte() & m, Broadcast4(xq, 5));
            lo = T.DotAdd(lo, p2 & m, Broadcast4(xq, 2));
            hi = T.DotAdd(hi, Vector256.ShiftRightLogical(p2.AsUInt16(), 4).AsByte() & m, Broadcast4(xq, 6));
            lo = T.DotAdd(lo, p3 & m, Broadcast4(xq, 3));
            hi = T.DotAdd(hi, Vector256.ShiftRightLogical(p3.AsUInt16(), 4).AsByte() & m, Broadcast4(xq, 7));
            return lo + hi;
        }
    }

    private readonly struct Q8_0Group : IGroupBlock
    {
        public static int Bytes => RowGroups.Rows * 34;
        public static int Offset => 128;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<int> Dot<T>(byte* v, sbyte* xq) where T : IDotU8S8
        {
            var lo = T.Dot(Vector256.Load(v), Broadcast4(xq, 0));
            var hi = T.Dot(Vector256.Load(v + 128), Broadcast4(xq, 4));
            lo = T.DotAdd(lo, Vector256.Load(v + 32), Broadcast4(xq, 1));
            hi = T.DotAdd(hi, Vector256.Load(v + 160), Broadcast4(xq, 5));
            lo = T.DotAdd(lo, Vector256.Load(v + 64), Broadcast4(xq, 2));
            hi = T.DotAdd(hi, Vector256.Load(v + 192), Broadcast4(xq, 6));
            lo = T.DotAdd(lo, Vector256.Load(v + 96), Broadcast4(xq, 3));
            hi = T.DotAdd(hi, Vector256.Load(v + 224), Broadcast4(xq, 7));
            return lo + hi;
        }
    }

    /// <summary>Q8_0 for <c>vpmaddubsw</c>: |w| unsigned and x with w's sign (at most 2·128·127 per int16 pair).</summary>
    private readonly struct Q8_0SignedGroup : IGroupBlock
    {
        public static int Bytes => RowGroups.Rows * 34;
        public static int Offset => 0;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<int> Dot<T>(byte* v, sbyte* xq) where T : IDotU8S8
        {
            var s = Vector256<int>.Zero;
            for (int k = 0; k < 8; k++)
            {
                var w = (Vector256.Load(v + 32 * k) ^ Vector256.Create((byte)0x80)).AsSByte();
                s = T.DotAdd(s, Vector256.Abs(w).AsByte(), Avx2.Sign(Broadcast4(xq, k), w));
            }
            return s;
        }
    }
}
