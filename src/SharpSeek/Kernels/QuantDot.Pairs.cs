using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using SharpSeek.Tensors;

namespace SharpSeek.Kernels;

/// <summary>
/// Q4_0 on <see cref="KernelPath.Avx512"/>: two adjacent groups (16 rows) and up to 8 tokens per call, at 512 bits. .NET 10 has
/// <c>vpdpbusd</c> only at 256 bits, but a CPU that runs 512-bit integer ops at full width (Zen 5) does as many
/// <c>vpmaddubsw</c> multiply-adds per instruction at 512 bits as <c>vpdpbusd</c> at 256, and every per-block step after the
/// dots (the offset, the convert, the scale multiply, the FMA) then serves 16 rows instead of 8. Eight tokens per weight
/// unpack instead of four halve that share too: the 8 weight vectors and 8 accumulators fit the 32 registers.
/// <para>
/// Lane r &lt; 8 of every vector is row r of the first group, lane 8 + r row r of the second: the grouped layout is unchanged, a
/// 512-bit weight vector is the two groups' 256-bit vectors side by side, and a token's 4 bytes broadcast to all 16 lanes as
/// before. Per (row, token) the integer sum is exact and the float steps are those of <see cref="Offsets{TB, T}"/> (convert,
/// d_w·d_x, one FMA per block, in block order), so the results equal the 8-row kernels' and the scalar reference bit for bit.
/// </para>
/// Measured on one Zen 5 thread (4,096 × 1,536 Q4_0, 4 and 8 tokens): 150 and 178 GMAC/s against 130 and 140 for the 256-bit
/// <c>vpdpbusd</c> kernel (docs/PERFORMANCE.md).
/// </summary>
public static unsafe partial class QuantDot
{
    /// <summary>Tokens a pair kernel of <paramref name="type"/> runs at once: 8 for Q4_0, 4 for Q4_K (whose per-token int16
    /// runs and int32 sums take twice the registers).</summary>
    public static int PairTokens(DType type) => type == DType.Q4_0 ? 8 : 4;

    /// <summary>Whether products of <paramref name="type"/> on <paramref name="path"/> take two groups per call (<see cref="Pair"/>).</summary>
    public static bool HasPairKernel(KernelPath path, DType type) => path == KernelPath.Avx512 && type is DType.Q4_0 or DType.Q4_K;

    /// <summary>
    /// y[j·ys + r] = row r of the 16 rows in the two groups at <paramref name="g"/> (the second right after the first) · token
    /// <paramref name="t0"/> + j of <paramref name="act"/>, for r &lt; 16 and j &lt; <paramref name="tokens"/> (at most <see cref="PairTokens"/>).
    /// <paramref name="act"/> is in the format <see cref="ActivationFormat"/> gives for <paramref name="type"/>.
    /// </summary>
    public static void Pair(KernelPath path, DType type, byte* g, Q8Activations act, int t0, int tokens, float* y, long ys)
    {
        if (!HasPairKernel(path, type)) throw new NotSupportedException($"no two-group kernel for {type} on {path}");
        if ((uint)(tokens - 1) >= PairTokens(type)) throw new ArgumentOutOfRangeException(nameof(tokens), $"1..{PairTokens(type)} tokens per {type} pair call, got {tokens}");
        if (type == DType.Q4_K)
        {
            Q4_KPairs(g, act, t0, tokens, y, ys);
            return;
        }
        int blocks = act.Cols / 32;
        byte* h = g + (long)blocks * Q4_0Group.Bytes;
        Q8Row x(int j) => act.Row(t0 + Math.Min(j, tokens - 1));
        switch (tokens)
        {
            case 1: Q4_0Pair<One>(g, h, blocks, x(0), x(1), x(2), x(3), x(4), x(5), x(6), x(7), y, ys); break;
            case 2: Q4_0Pair<Two>(g, h, blocks, x(0), x(1), x(2), x(3), x(4), x(5), x(6), x(7), y, ys); break;
            case 3: Q4_0Pair<Three>(g, h, blocks, x(0), x(1), x(2), x(3), x(4), x(5), x(6), x(7), y, ys); break;
            case 4: Q4_0Pair<Four>(g, h, blocks, x(0), x(1), x(2), x(3), x(4), x(5), x(6), x(7), y, ys); break;
            case 5: Q4_0Pair<Five>(g, h, blocks, x(0), x(1), x(2), x(3), x(4), x(5), x(6), x(7), y, ys); break;
            case 6: Q4_0Pair<Six>(g, h, blocks, x(0), x(1), x(2), x(3), x(4), x(5), x(6), x(7), y, ys); break;
            case 7: Q4_0Pair<Seven>(g, h, blocks, x(0), x(1), x(2), x(3), x(4), x(5), x(6), x(7), y, ys); break;
            default: Q4_0Pair<Eight>(g, h, blocks, x(0), x(1), x(2), x(3), x(4), x(5), x(6), x(7), y, ys); break;
        }
    }

    /// <summary><typeparamref name="W"/> tokens against the groups at <paramref name="g"/> and <paramref name="h"/>: y_j = Σ_b (Σ w·x_j − 8·Σx_j)·(d_w·d_xj).</summary>
    private static void Q4_0Pair<W>(byte* g, byte* h, int blocks, Q8Row x0, Q8Row x1, Q8Row x2, Q8Row x3, Q8Row x4, Q8Row x5,
        Q8Row x6, Q8Row x7, float* y, long ys) where W : IWidth
    {
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
        var m = Vector512.Create((byte)0x0F);
        for (int b = 0; b < blocks; b++)
        {
            byte* bg = g + (long)b * Q4_0Group.Bytes, bh = h + (long)b * Q4_0Group.Bytes;
            byte* v = bg + 2 * RowGroups.Rows, u = bh + 2 * RowGroups.Rows;
            var p0 = Vector512.Create(Vector256.Load(v), Vector256.Load(u));
            var p1 = Vector512.Create(Vector256.Load(v + 32), Vector256.Load(u + 32));
            var p2 = Vector512.Create(Vector256.Load(v + 64), Vector256.Load(u + 64));
            var p3 = Vector512.Create(Vector256.Load(v + 96), Vector256.Load(u + 96));
            var w0 = p0 & m;
            var w1 = p1 & m;
            var w2 = p2 & m;
            var w3 = p3 & m;
            var w4 = Vector512.ShiftRightLogical(p0.AsUInt16(), 4).AsByte() & m;
            var w5 = Vector512.ShiftRightLogical(p1.AsUInt16(), 4).AsByte() & m;
            var w6 = Vector512.ShiftRightLogical(p2.AsUInt16(), 4).AsByte() & m;
            var w7 = Vector512.ShiftRightLogical(p3.AsUInt16(), 4).AsByte() & m;
            var s = Halves16(bg, bh);
            a0 = Q4_0PairBlock(w0, w1, w2, w3, w4, w5, w6, w7, s, x0, b, a0);
            if (W.N > 1) a1 = Q4_0PairBlock(w0, w1, w2, w3, w4, w5, w6, w7, s, x1, b, a1);
            if (W.N > 2) a2 = Q4_0PairBlock(w0, w1, w2, w3, w4, w5, w6, w7, s, x2, b, a2);
            if (W.N > 3) a3 = Q4_0PairBlock(w0, w1, w2, w3, w4, w5, w6, w7, s, x3, b, a3);
            if (W.N > 4) a4 = Q4_0PairBlock(w0, w1, w2, w3, w4, w5, w6, w7, s, x4, b, a4);
            if (W.N > 5) a5 = Q4_0PairBlock(w0, w1, w2, w3, w4, w5, w6, w7, s, x5, b, a5);
            if (W.N > 6) a6 = Q4_0PairBlock(w0, w1, w2, w3, w4, w5, w6, w7, s, x6, b, a6);
            if (W.N > 7) a7 = Q4_0PairBlock(w0, w1, w2, w3, w4, w5, w6, w7, s, x7, b, a7);
        }
        a0.Store(y);
        if (W.N > 1) a1.Store(y + ys);
        if (W.N > 2) a2.Store(y + 2 * ys);
        if (W.N > 3) a3.Store(y + 3 * ys);
        if (W.N > 4) a4.Store(y + 4 * ys);
        if (W.N > 5) a5.Store(y + 5 * ys);
        if (W.N > 6) a6.Store(y + 6 * ys);
        if (W.N > 7) a7.Store(y + 7 * ys);
    }

    /// <summary>
    /// One token's block against 16 rows: <c>vpmaddubsw</c> leaves int16 pairs, two chains of four add in int16 (at most
    /// 8·2·15·128 = 30720, below 2^15), one <c>vpmaddwd</c> with ones widens them; then acc + (Σ w·x − 8·Σx)·(d_w·d_x).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Q4_0PairBlock(Vector512<byte> w0, Vector512<byte> w1, Vector512<byte> w2, Vector512<byte> w3,
        Vector512<byte> w4, Vector512<byte> w5, Vector512<byte> w6, Vector512<byte> w7, Vector512<float> s, Q8Row x, int b, Vector512<float> acc)
    {
        sbyte* xq = x.Qs + b * 32;
        var lo = Avx512BW.MultiplyAddAdjacent(w0, Broadcast4x16(xq, 0));
        var hi = Avx512BW.MultiplyAddAdjacent(w4, Broadcast4x16(xq, 4));
        lo += Avx512BW.MultiplyAddAdjacent(w1, Broadcast4x16(xq, 1));
        hi += Avx512BW.MultiplyAddAdjacent(w5, Broadcast4x16(xq, 5));
        lo += Avx512BW.MultiplyAddAdjacent(w2, Broadcast4x16(xq, 2));
        hi += Avx512BW.MultiplyAddAdjacent(w6, Broadcast4x16(xq, 6));
        lo += Avx512BW.MultiplyAddAdjacent(w3, Broadcast4x16(xq, 3));
        hi += Avx512BW.MultiplyAddAdjacent(w7, Broadcast4x16(xq, 7));
        var i = Avx512BW.MultiplyAddAdjacent(lo + hi, Vector512.Create((short)1)) - Vector512.Create(Q4_0Group.Offset * x.Sum32[b]);
        return Vector512.FusedMultiplyAdd(Vector512.ConvertToSingle(i), s * Vector512.Create(x.D[b]), acc);
    }

    /// <summary>The token's values 4k..4k+3 in all 16 lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<sbyte> Broadcast4x16(sbyte* xq, int k) => Vector512.Create(*(int*)(xq + 4 * k)).AsSByte();

    /// <summary>The 8 fp16 scales at <paramref name="p"/> then the 8 at <paramref name="q"/> as 16 floats (<see cref="Half"/>'s exact bit trick).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Halves16(byte* p, byte* q)
    {
        var h = Avx512F.ConvertToVector512Int32(Vector256.Create(Vector128.Load((ushort*)p), Vector128.Load((ushort*)q))).AsUInt32();
        var magnitude = Vector512.ShiftLeft(h & Vector512.Create(0x7FFFu), 13).AsSingle() * Vector512.Create(5.192296858534828e33f);
        return (magnitude.AsUInt32() | Vector512.ShiftLeft(h & Vector512.Create(0x8000u), 16)).AsSingle();
    }

    private readonly struct Five : IWidth { public static int N => 5; }
    private readonly struct Six : IWidth { public static int N => 6; }
    private readonly struct Seven : IWidth { public static int N => 7; }
    private readonly struct Eight : IWidth { public static int N => 8; }
}
