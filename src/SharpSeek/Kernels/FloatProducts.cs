using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using SharpSeek.Tensors;
using SharpSeek.Threading;

namespace SharpSeek.Kernels;

/// <summary>
/// Products with float weights (F32, BF16, and any type decoded to float: F16, FP8 with block scales, quantized types without
/// integer products), 4 rows × up to 4 tokens per tile with an accumulator per output in registers, so each weight vector loaded
/// serves 4 tokens and each activation vector 4 rows (fewer tokens run a narrower tile); a BF16 chunk is widened once for them.
/// <para>
/// Every output is computed in one canonical order, whatever the tile, the row count or the token count: one vector accumulator
/// FMA'd over the whole vectors of the row in order, its lanes summed (<see cref="Vector512.Sum{T}"/>), then the tail values
/// FMA'd in order. So a token's result does not depend on its batch, as for the integer kernels.
/// </para>
/// </summary>
internal static unsafe class FloatProducts
{
    private const int Tile = 4;

    /// <summary>y[t·ys + r] = W[r]·x[t] for rows <paramref name="r0"/>..<paramref name="r1"/> and every token (x rows <paramref name="cols"/> floats apart).</summary>
    public static void Rows(WeightTensor w, int r0, int r1, float* x, int tokens, float* y, long ys, WorkerPool pool, int worker)
    {
        int cols = (int)w.Cols;
        bool direct = w.Type is DType.F32 or DType.BF16 && !w.Interleaved;
        float[]? scratch = direct ? null : pool.Scratch(worker, Tile * cols);
        var rows = stackalloc nint[Tile];
        var xs = stackalloc nint[Tile];
        var outs = stackalloc float[Tile * Tile];
        fixed (float* s = scratch)
        {
            for (int r = r0; r < r1; r += Tile)
            {
                int n = Math.Min(Tile, r1 - r);
                for (int i = 0; i < Tile; i++)
                {
                    int row = r + Math.Min(i, n - 1);   // a short tile repeats its last row and stores only its own
                    if (direct) rows[i] = (nint)w.RowPointer(row);
                    else
                    {
                        if (i < n) w.DequantizeRow(row, new Span<float>(s + i * cols, cols));
                        rows[i] = (nint)(s + Math.Min(i, n - 1) * cols);
                    }
                }
                for (int t = 0; t < tokens; t += Tile)
                {
                    int m = Math.Min(Tile, tokens - t);
                    for (int j = 0; j < Tile; j++) xs[j] = (nint)(x + (long)(t + Math.Min(j, m - 1)) * cols);
                    if (w.Type == DType.BF16 && direct) TileOf<Bf16Row>(m, rows, xs, cols, outs);
                    else TileOf<F32Row>(m, rows, xs, cols, outs);
                    for (int j = 0; j < m; j++)
                        for (int i = 0; i < n; i++) y[(t + j) * ys + r + i] = outs[j * Tile + i];
                }
            }
        }
    }

    /// <summary>A row's values as float vectors: F32 loaded, BF16 widened (exactly).</summary>
    private interface IRow
    {
        static abstract Vector512<float> Load512(nint row, int c);
        static abstract Vector256<float> Load256(nint row, int c);
        static abstract float At(nint row, int c);
    }

    private readonly struct F32Row : IRow
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Load512(nint row, int c) => Vector512.Load((float*)row + c);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Load256(nint row, int c) => Vector256.Load((float*)row + c);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float At(nint row, int c) => ((float*)row)[c];
    }

    private readonly struct Bf16Row : IRow
    {
        // vpmovzxwd straight from memory: building a 512-bit vector from the 256-bit load and zeros first made the JIT emit
        // two inserts and a copy per load, and BF16 decode ran at half the speed.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Load512(nint row, int c) => Avx512F.IsSupported
            ? Vector512.ShiftLeft(Avx512F.ConvertToVector512UInt32(Vector256.Load((ushort*)row + c)), 16).AsSingle()
            : Vector512.ShiftLeft(Vector512.WidenLower(Vector512.Create(Vector256.Load((ushort*)row + c), Vector256<ushort>.Zero)), 16).AsSingle();
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Load256(nint row, int c) => Avx2.IsSupported
            ? Vector256.ShiftLeft(Avx2.ConvertToVector256Int32(Vector128.Load((ushort*)row + c)).AsUInt32(), 16).AsSingle()
            : Vector256.ShiftLeft(Vector256.WidenLower(Vector256.Create(Vector128.Load((ushort*)row + c), Vector128<ushort>.Zero)), 16).AsSingle();
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float At(nint row, int c) => BFloat16.ToSingle(((ushort*)row)[c]);
    }

    /// <summary>
    /// A tile of 4 rows and <paramref name="tokens"/> (1..4) tokens: a decode step's single token no longer pays for four, nor
    /// its 16 horizontal sums. Every output is computed the same way at every width.
    /// </summary>
    private static void TileOf<R>(int tokens, nint* rows, nint* xs, int cols, float* outs) where R : IRow
    {
        switch (tokens)
        {
            case 1: Tile4x4<R, One>(rows, xs, cols, outs); break;
            case 2: Tile4x4<R, Two>(rows, xs, cols, outs); break;
            case 3: Tile4x4<R, Three>(rows, xs, cols, outs); break;
            default: Tile4x4<R, Four>(rows, xs, cols, outs); break;
        }
    }

    /// <summary>Tokens per tile, as a type: the JIT compiles one kernel per width and drops the unused tokens' accumulators.</summary>
    private interface IWidth { static abstract int N { get; } }
    private readonly struct One : IWidth { public static int N => 1; }
    private readonly struct Two : IWidth { public static int N => 2; }
    private readonly struct Three : IWidth { public static int N => 3; }
    private readonly struct Four : IWidth { public static int N => 4; }

    /// <summary>outs[j·4 + i] = row i · token j for j &lt; <typeparamref name="W"/>, each in the canonical order.</summary>
    private static void Tile4x4<R, W>(nint* rows, nint* xs, int cols, float* outs) where R : IRow where W : IWidth
    {
        int c;
        if (Vector512.IsHardwareAccelerated) c = Vectors<R, W, Lanes512, Vector512<float>>(rows, xs, cols, outs);
        else if (Vector256.IsHardwareAccelerated) c = Vectors<R, W, Lanes256, Vector256<float>>(rows, xs, cols, outs);
        else
        {
            for (int k = 0; k < Tile * Tile; k++) outs[k] = 0;
            c = 0;
        }
        // The tail (and, without vectors, everything) in order.
        for (int j = 0; j < W.N; j++)
            for (int i = 0; i < Tile; i++)
            {
                float s = outs[j * Tile + i];
                float* xj = (float*)xs[j];
                for (int k = c; k < cols; k++) s = MathF.FusedMultiplyAdd(R.At(rows[i], k), xj[k], s);
                outs[j * Tile + i] = s;
            }
    }

    /// <summary>
    /// The whole vectors of the tile's columns at <typeparamref name="L"/>'s width: an accumulator per output in locals (the JIT
    /// keeps what fits in registers: all 16 in AVX-512's 32, most in AVX2's 16), each weight vector loaded once for the tokens
    /// and each activation vector once for the 4 rows; then each accumulator's lanes summed. Returns the columns done.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Vectors<R, W, L, V>(nint* rows, nint* xs, int cols, float* outs)
        where R : IRow where W : IWidth where L : ILanes<V> where V : struct
    {
        V a00 = default, a01 = default, a02 = default, a03 = default, a10 = default, a11 = default, a12 = default, a13 = default;
        V a20 = default, a21 = default, a22 = default, a23 = default, a30 = default, a31 = default, a32 = default, a33 = default;
        float* x0 = (float*)xs[0], x1 = (float*)xs[1], x2 = (float*)xs[2], x3 = (float*)xs[3];
        int c = 0;
        for (; c + L.Count <= cols; c += L.Count)
        {
            var w0 = L.Row<R>(rows[0], c);
            var w1 = L.Row<R>(rows[1], c);
            var w2 = L.Row<R>(rows[2], c);
            var w3 = L.Row<R>(rows[3], c);
            var v = L.Load(x0 + c);
            a00 = L.Fma(w0, v, a00); a10 = L.Fma(w1, v, a10); a20 = L.Fma(w2, v, a20); a30 = L.Fma(w3, v, a30);
            if (W.N > 1)
            {
                v = L.Load(x1 + c);
                a01 = L.Fma(w0, v, a01); a11 = L.Fma(w1, v, a11); a21 = L.Fma(w2, v, a21); a31 = L.Fma(w3, v, a31);
            }
            if (W.N > 2)
            {
                v = L.Load(x2 + c);
                a02 = L.Fma(w0, v, a02); a12 = L.Fma(w1, v, a12); a22 = L.Fma(w2, v, a22); a32 = L.Fma(w3, v, a32);
            }
            if (W.N > 3)
            {
                v = L.Load(x3 + c);
                a03 = L.Fma(w0, v, a03); a13 = L.Fma(w1, v, a13); a23 = L.Fma(w2, v, a23); a33 = L.Fma(w3, v, a33);
            }
        }
        outs[0] = L.Sum(a00); outs[1] = L.Sum(a10); outs[2] = L.Sum(a20); outs[3] = L.Sum(a30);
        if (W.N > 1) { outs[4] = L.Sum(a01); outs[5] = L.Sum(a11); outs[6] = L.Sum(a21); outs[7] = L.Sum(a31); }
        if (W.N > 2) { outs[8] = L.Sum(a02); outs[9] = L.Sum(a12); outs[10] = L.Sum(a22); outs[11] = L.Sum(a32); }
        if (W.N > 3) { outs[12] = L.Sum(a03); outs[13] = L.Sum(a13); outs[14] = L.Sum(a23); outs[15] = L.Sum(a33); }
        return c;
    }

    /// <summary>The vector width a tile runs at, as a type (as <see cref="QuantDot"/>'s ISA structs): its loads, FMA and lane sum.</summary>
    private interface ILanes<V> where V : struct
    {
        static abstract int Count { get; }
        static abstract V Row<R>(nint row, int c) where R : IRow;
        static abstract V Load(float* p);
        static abstract V Fma(V a, V b, V acc);
        static abstract float Sum(V v);
    }

    /// <summary>AVX-512: 16 floats.</summary>
    private readonly struct Lanes512 : ILanes<Vector512<float>>
    {
        public static int Count => 16;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Row<R>(nint row, int c) where R : IRow => R.Load512(row, c);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Load(float* p) => Vector512.Load(p);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Fma(Vector512<float> a, Vector512<float> b, Vector512<float> acc) => Vector512.FusedMultiplyAdd(a, b, acc);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float Sum(Vector512<float> v) => Vector512.Sum(v);
    }

    /// <summary>AVX2: 8 floats.</summary>
    private readonly struct Lanes256 : ILanes<Vector256<float>>
    {
        public static int Count => 8;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Row<R>(nint row, int c) where R : IRow => R.Load256(row, c);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Load(float* p) => Vector256.Load(p);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Fma(Vector256<float> a, Vector256<float> b, Vector256<float> acc) => Vector256.FusedMultiplyAdd(a, b, acc);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float Sum(Vector256<float> v) => Vector256.Sum(v);
    }
}
