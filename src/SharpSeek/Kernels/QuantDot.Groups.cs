using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using SharpSeek.Tensors;

namespace SharpSeek.Kernels;

/// <summary>
/// One to four tokens against 8 rows in <see cref="RowGroups"/>' layout, the only quantized product kernels: decode, batched
/// decode, speculative verification and prefill all run them. Per 32-value block, 8 <c>vpdpbusd</c> against a token's 4-byte
/// groups broadcast give the 8 rows' int32 block dots in one vector; the weight offset (Q4_0's 8, Q8_0's 128, times Σx) comes off
/// in int32 and one convert + FMA applies the 8 scales (converted from fp16 8 at a time) times the token's scale.
/// <para>
/// Batch invariance: the weights of a block are unpacked once for all the call's tokens, and each token then runs exactly the
/// operations it runs alone, into its own accumulator, block after block. Int32 sums are exact in any order; the float steps
/// (one convert, one multiply of the two scales, one FMA per block, in block order) are the same for every width, every path and
/// the scalar reference. So a token's result is the same bit for bit whether it is decoded alone, beside other sequences' tokens,
/// in a speculative verification or in a prefill chunk of any size.
/// </para>
/// The K-quants' kernels, which take Q8_K activations (one scale per 256 values) as llama.cpp's do, are in
/// QuantDot.Groups.Q4_K.cs and QuantDot.Groups.Q6_K.cs.
/// </summary>
public static unsafe partial class QuantDot
{
    /// <summary>Tokens a group kernel runs at once: their accumulators and 8 weight vectors fit the 32 vector registers.</summary>
    public const int GroupTokens = 4;

    /// <summary>
    /// y[j·ys + r] = row r of the 8-row group at <paramref name="g"/> · token <paramref name="t0"/> + j of <paramref name="act"/>,
    /// for r &lt; 8 and j &lt; <paramref name="tokens"/> (at most <see cref="GroupTokens"/>), over all of the activations' columns.
    /// <paramref name="act"/> is in the format <see cref="ActivationFormat"/> gives for <paramref name="type"/>.
    /// </summary>
    public static void Group(KernelPath path, DType type, byte* g, Q8Activations act, int t0, int tokens, float* y, long ys)
    {
        if ((uint)(tokens - 1) >= GroupTokens) throw new ArgumentOutOfRangeException(nameof(tokens), $"1..{GroupTokens} tokens per group call, got {tokens}");
        if (path == KernelPath.Scalar)
        {
            for (int j = 0; j < tokens; j++) GroupReference(type, g, act, t0 + j, y + j * ys);
            return;
        }
        bool vnni = path is KernelPath.Vnni or KernelPath.Avx512;
        switch (type)
        {
            case DType.Q4_0 when vnni: Offsets<Q4_0Group, VnniDot>(g, act, t0, tokens, y, ys); return;
            case DType.Q4_0: Offsets<Q4_0Group, Avx2Dot>(g, act, t0, tokens, y, ys); return;
            case DType.Q8_0 when vnni: Offsets<Q8_0Group, VnniDot>(g, act, t0, tokens, y, ys); return;
            // vpmaddubsw would saturate on w + 128; without VNNI the bytes go back to signed and take the sign trick.
            case DType.Q8_0: Offsets<Q8_0SignedGroup, Avx2Dot>(g, act, t0, tokens, y, ys); return;
            // Nibbles and 6-bit values stay far from vpmaddubsw's int16 limit (2·63·127), so AVX2 runs the same kernels.
            case DType.Q4_K when vnni: Q4_KGroups<VnniDot>(g, act, t0, tokens, y, ys); return;
            case DType.Q4_K: Q4_KGroups<Avx2Dot>(g, act, t0, tokens, y, ys); return;
            case DType.Q6_K when vnni: Q6_KGroups<VnniDot>(g, act, t0, tokens, y, ys); return;
            case DType.Q6_K: Q6_KGroups<Avx2Dot>(g, act, t0, tokens, y, ys); return;
            default: throw new NotSupportedException($"no group kernel for {type}");
        }
    }

    /// <summary>The activation format the kernels of <paramref name="type"/> read: Q8_K for the K-quants (as llama.cpp's), Q8_0 otherwise.</summary>
    public static Q8Format ActivationFormat(DType type) => type is DType.Q4_K or DType.Q6_K ? Q8Format.Q8_K : Q8Format.Q8_0;

    /// <summary>
    /// Scalar reference of <see cref="Group"/> for one token: each row's values read back out of the group, the same operations
    /// in the same order as the vector kernels (so the results are equal bit for bit).
    /// </summary>
    public static void GroupReference(DType type, byte* g, Q8Activations act, int token, float* y)
    {
        int cols = act.Cols;
        switch (type)
        {
            case DType.Q4_0 or DType.Q8_0: GroupReference(type, g, act.Row(token), cols, y); return;
            case DType.Q4_K: Q4_KGroupReference(g, act.RowK(token), cols / 256, y); return;
            case DType.Q6_K: Q6_KGroupReference(g, act.RowK(token), cols / 256, y); return;
            default: throw new NotSupportedException($"no group kernel for {type}");
        }
    }

    /// <summary>Scalar reference for Q4_0 and Q8_0 (one token).</summary>
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
                sum = MathF.FusedMultiplyAdd(s, HalfExact(blk + 2 * r) * x.D[b], sum);
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

    private static void Offsets<TB, T>(byte* g, Q8Activations act, int t0, int tokens, float* y, long ys) where TB : IGroupBlock where T : IDotU8S8
    {
        int blocks = act.Cols / 32;
        var x0 = act.Row(t0);
        switch (tokens)
        {
            case 1: Offsets<TB, T, One>(g, blocks, x0, x0, x0, x0, y, ys); break;
            case 2: Offsets<TB, T, Two>(g, blocks, x0, act.Row(t0 + 1), x0, x0, y, ys); break;
            case 3: Offsets<TB, T, Three>(g, blocks, x0, act.Row(t0 + 1), act.Row(t0 + 2), x0, y, ys); break;
            default: Offsets<TB, T, Four>(g, blocks, x0, act.Row(t0 + 1), act.Row(t0 + 2), act.Row(t0 + 3), y, ys); break;
        }
    }

    /// <summary>Q4_0 and Q8_0 for <typeparamref name="W"/> tokens: y_j = Σ_b (Σ w·x_j − offset·Σx_j)·(d_w·d_xj), one FMA chain per token.</summary>
    private static void Offsets<TB, T, W>(byte* g, int blocks, Q8Row x0, Q8Row x1, Q8Row x2, Q8Row x3, float* y, long ys)
        where TB : IGroupBlock where T : IDotU8S8 where W : IWidth
    {
        // Locals, not out parameters or arrays: they stay in registers across the loop.
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
        for (int b = 0; b < blocks; b++)
        {
            byte* blk = g + (long)b * TB.Bytes;
            TB.Weights(blk + 2 * RowGroups.Rows, out var w0, out var w1, out var w2, out var w3, out var w4, out var w5, out var w6, out var w7);
            var s = Halves8(blk);
            a0 = OffsetBlock<TB, T>(w0, w1, w2, w3, w4, w5, w6, w7, s, x0, b, a0);
            if (W.N > 1) a1 = OffsetBlock<TB, T>(w0, w1, w2, w3, w4, w5, w6, w7, s, x1, b, a1);
            if (W.N > 2) a2 = OffsetBlock<TB, T>(w0, w1, w2, w3, w4, w5, w6, w7, s, x2, b, a2);
            if (W.N > 3) a3 = OffsetBlock<TB, T>(w0, w1, w2, w3, w4, w5, w6, w7, s, x3, b, a3);
        }
        a0.Store(y);
        if (W.N > 1) a1.Store(y + ys);
        if (W.N > 2) a2.Store(y + 2 * ys);
        if (W.N > 3) a3.Store(y + 3 * ys);
    }

    /// <summary>One token's block: acc + (Σ w·x − offset·Σx)·(d_w·d_x).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> OffsetBlock<TB, T>(Vector256<byte> w0, Vector256<byte> w1, Vector256<byte> w2, Vector256<byte> w3,
        Vector256<byte> w4, Vector256<byte> w5, Vector256<byte> w6, Vector256<byte> w7, Vector256<float> s, Q8Row x, int b, Vector256<float> acc)
        where TB : IGroupBlock where T : IDotU8S8
    {
        var i = TB.Dot<T>(w0, w1, w2, w3, w4, w5, w6, w7, x.Qs + b * 32);
        if (TB.Offset != 0) i -= Vector256.Create(TB.Offset * x.Sum32[b]);
        return Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(i), s * Vector256.Create(x.D[b]), acc);
    }

    /// <summary>The token's values 4k..4k+3 in every lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<sbyte> Broadcast4(sbyte* xq, int k) => Vector256.Create(*(int*)(xq + 4 * k)).AsSByte();

    /// <summary>
    /// Vector q of the 8 rows' block (lane r: row r's values 4q..4q+3) against the token's values 4q..4q+3, q = 0..7, in two
    /// chains of four. <paramref name="nibbles"/>: the weight bytes are at most 15 (Q4_0), so each chain is one accumulating run.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Dot8<T>(Vector256<byte> w0, Vector256<byte> w1, Vector256<byte> w2, Vector256<byte> w3,
        Vector256<byte> w4, Vector256<byte> w5, Vector256<byte> w6, Vector256<byte> w7, sbyte* xq, bool nibbles) where T : IDotU8S8
    {
        if (nibbles)
        {
            var a = T.Accumulate(Vector256<int>.Zero, w0, Broadcast4(xq, 0));
            var b = T.Accumulate(Vector256<int>.Zero, w4, Broadcast4(xq, 4));
            a = T.Accumulate(a, w1, Broadcast4(xq, 1));
            b = T.Accumulate(b, w5, Broadcast4(xq, 5));
            a = T.Accumulate(a, w2, Broadcast4(xq, 2));
            b = T.Accumulate(b, w6, Broadcast4(xq, 6));
            a = T.Accumulate(a, w3, Broadcast4(xq, 3));
            b = T.Accumulate(b, w7, Broadcast4(xq, 7));
            return T.Widen(T.Merge(a, b));
        }
        var lo = T.Dot(w0, Broadcast4(xq, 0));
        var hi = T.Dot(w4, Broadcast4(xq, 4));
        lo = T.DotAdd(lo, w1, Broadcast4(xq, 1));
        hi = T.DotAdd(hi, w5, Broadcast4(xq, 5));
        lo = T.DotAdd(lo, w2, Broadcast4(xq, 2));
        hi = T.DotAdd(hi, w6, Broadcast4(xq, 6));
        lo = T.DotAdd(lo, w3, Broadcast4(xq, 3));
        hi = T.DotAdd(hi, w7, Broadcast4(xq, 7));
        return lo + hi;
    }

    /// <summary>Tokens per kernel call, as a type: the JIT compiles one kernel per width and drops the unused tokens' operations.</summary>
    private interface IWidth { static abstract int N { get; } }
    private readonly struct One : IWidth { public static int N => 1; }
    private readonly struct Two : IWidth { public static int N => 2; }
    private readonly struct Three : IWidth { public static int N => 3; }
    private readonly struct Four : IWidth { public static int N => 4; }

    /// <summary>One block type of the grouped layout: its bytes, its weight offset, its 8 weight vectors, and their dot with a token.</summary>
    private interface IGroupBlock
    {
        static abstract int Bytes { get; }
        static abstract int Offset { get; }

        /// <summary>The block's values as 8 vectors of unsigned bytes, vector q lane r holding row r's values 4q..4q+3.</summary>
        static abstract void Weights(byte* v, out Vector256<byte> w0, out Vector256<byte> w1, out Vector256<byte> w2, out Vector256<byte> w3,
            out Vector256<byte> w4, out Vector256<byte> w5, out Vector256<byte> w6, out Vector256<byte> w7);

        static abstract Vector256<int> Dot<T>(Vector256<byte> w0, Vector256<byte> w1, Vector256<byte> w2, Vector256<byte> w3,
            Vector256<byte> w4, Vector256<byte> w5, Vector256<byte> w6, Vector256<byte> w7, sbyte* xq) where T : IDotU8S8;
    }

    /// <summary>Q4_0: 4 vectors of packed nibbles; vector k's low nibbles are values 4k.., its high nibbles 16 + 4k...</summary>
    private readonly struct Q4_0Group : IGroupBlock
    {
        public static int Bytes => RowGroups.Rows * 18;
        public static int Offset => 8;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Weights(byte* v, out Vector256<byte> w0, out Vector256<byte> w1, out Vector256<byte> w2, out Vector256<byte> w3,
            out Vector256<byte> w4, out Vector256<byte> w5, out Vector256<byte> w6, out Vector256<byte> w7)
        {
            var m = Vector256.Create((byte)0x0F);
            var p0 = Vector256.Load(v);
            var p1 = Vector256.Load(v + 32);
            var p2 = Vector256.Load(v + 64);
            var p3 = Vector256.Load(v + 96);
            w0 = p0 & m;
            w1 = p1 & m;
            w2 = p2 & m;
            w3 = p3 & m;
            w4 = Vector256.ShiftRightLogical(p0.AsUInt16(), 4).AsByte() & m;
            w5 = Vector256.ShiftRightLogical(p1.AsUInt16(), 4).AsByte() & m;
            w6 = Vector256.ShiftRightLogical(p2.AsUInt16(), 4).AsByte() & m;
            w7 = Vector256.ShiftRightLogical(p3.AsUInt16(), 4).AsByte() & m;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<int> Dot<T>(Vector256<byte> w0, Vector256<byte> w1, Vector256<byte> w2, Vector256<byte> w3,
            Vector256<byte> w4, Vector256<byte> w5, Vector256<byte> w6, Vector256<byte> w7, sbyte* xq) where T : IDotU8S8 =>
            Dot8<T>(w0, w1, w2, w3, w4, w5, w6, w7, xq, nibbles: true);
    }

    /// <summary>Q8_0: w + 128 as 8 vectors of unsigned bytes.</summary>
    private readonly struct Q8_0Group : IGroupBlock
    {
        public static int Bytes => RowGroups.Rows * 34;
        public static int Offset => 128;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Weights(byte* v, out Vector256<byte> w0, out Vector256<byte> w1, out Vector256<byte> w2, out Vector256<byte> w3,
            out Vector256<byte> w4, out Vector256<byte> w5, out Vector256<byte> w6, out Vector256<byte> w7)
        {
            w0 = Vector256.Load(v);
            w1 = Vector256.Load(v + 32);
            w2 = Vector256.Load(v + 64);
            w3 = Vector256.Load(v + 96);
            w4 = Vector256.Load(v + 128);
            w5 = Vector256.Load(v + 160);
            w6 = Vector256.Load(v + 192);
            w7 = Vector256.Load(v + 224);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<int> Dot<T>(Vector256<byte> w0, Vector256<byte> w1, Vector256<byte> w2, Vector256<byte> w3,
            Vector256<byte> w4, Vector256<byte> w5, Vector256<byte> w6, Vector256<byte> w7, sbyte* xq) where T : IDotU8S8 =>
            Dot8<T>(w0, w1, w2, w3, w4, w5, w6, w7, xq, nibbles: false);
    }

    /// <summary>Q8_0 for <c>vpmaddubsw</c>: |w| unsigned and x with w's sign (at most 2·128·127 per int16 pair); no offset.</summary>
    private readonly struct Q8_0SignedGroup : IGroupBlock
    {
        public static int Bytes => RowGroups.Rows * 34;
        public static int Offset => 0;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Weights(byte* v, out Vector256<byte> w0, out Vector256<byte> w1, out Vector256<byte> w2, out Vector256<byte> w3,
            out Vector256<byte> w4, out Vector256<byte> w5, out Vector256<byte> w6, out Vector256<byte> w7)
        {
            var flip = Vector256.Create((byte)0x80);
            w0 = Vector256.Load(v) ^ flip;
            w1 = Vector256.Load(v + 32) ^ flip;
            w2 = Vector256.Load(v + 64) ^ flip;
            w3 = Vector256.Load(v + 96) ^ flip;
            w4 = Vector256.Load(v + 128) ^ flip;
            w5 = Vector256.Load(v + 160) ^ flip;
            w6 = Vector256.Load(v + 192) ^ flip;
            w7 = Vector256.Load(v + 224) ^ flip;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<int> Dot<T>(Vector256<byte> w0, Vector256<byte> w1, Vector256<byte> w2, Vector256<byte> w3,
            Vector256<byte> w4, Vector256<byte> w5, Vector256<byte> w6, Vector256<byte> w7, sbyte* xq) where T : IDotU8S8
        {
            var lo = Signed<T>(Vector256<int>.Zero, w0, xq, 0);
            var hi = Signed<T>(Vector256<int>.Zero, w4, xq, 4);
            lo = Signed<T>(lo, w1, xq, 1);
            hi = Signed<T>(hi, w5, xq, 5);
            lo = Signed<T>(lo, w2, xq, 2);
            hi = Signed<T>(hi, w6, xq, 6);
            lo = Signed<T>(lo, w3, xq, 3);
            hi = Signed<T>(hi, w7, xq, 7);
            return lo + hi;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<int> Signed<T>(Vector256<int> acc, Vector256<byte> w, sbyte* xq, int k) where T : IDotU8S8 =>
            T.DotAdd(acc, Vector256.Abs(w.AsSByte()).AsByte(), Avx2.Sign(Broadcast4(xq, k), w.AsSByte()));
    }
}
