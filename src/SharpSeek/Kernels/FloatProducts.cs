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
        int c = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<float> a00 = default, a01 = default, a02 = default, a03 = default, a10 = default, a11 = default, a12 = default, a13 = default;
            Vector512<float> a20 = default, a21 = default, a22 = default, a23 = default, a30 = default, a31 = default, a32 = default, a33 = default;
            float* x0 = (float*)xs[0], x1 = (float*)xs[1], x2 = (float*)xs[2], x3 = (float*)xs[3];
            for (; c + 16 <= cols; c += 16)
            {
                var w0 = R.Load512(rows[0], c);
                var w1 = R.Load512(rows[1], c);
                var w2 = R.Load512(rows[2], c);
                var w3 = R.Load512(rows[3], c);
                var v = Vector512.Load(x0 + c);
                a00 = Vector512.FusedMultiplyAdd(w0, v, a00); a10 = Vector512.FusedMultiplyAdd(w1, v, a10);
                a20 = Vector512.FusedMultiplyAdd(w2, v, a20); a30 = Vector512.FusedMultiplyAdd(w3, v, a30);
                if (W.N > 1)
                {
                    v = Vector512.Load(x1 + c);
                    a01 = Vector512.FusedMultiplyAdd(w0, v, a01); a11 = Vector512.FusedMultiplyAdd(w1, v, a11);
                    a21 = Vector512.FusedMultiplyAdd(w2, v, a21); a31 = Vector512.FusedMultiplyAdd(w3, v, a31);
                }
                if (W.N > 2)
                {
                    v = Vector512.Load(x2 + c);
                    a02 = Vector512.FusedMultiplyAdd(w0, v, a02); a12 = Vector512.FusedMultiplyAdd(w1, v, a12);
                    a22 = Vector512.FusedMultiplyAdd(w2, v, a22); a32 = Vector512.FusedMultiplyAdd(w3, v, a32);
                }
                if (W.N > 3)
                {
                    v = Vector512.Load(x3 + c);
                    a03 = Vector512.FusedMultiplyAdd(w0, v, a03); a13 = Vector512.FusedMultiplyAdd(w1, v, a13);
                    a23 = Vector512.FusedMultiplyAdd(w2, v, a23); a33 = Vector512.FusedMultiplyAdd(w3, v, a33);
                }
            }
            outs[0] = Vector512.Sum(a00); outs[1] = Vector512.Sum(a10); outs[2] = Vector512.Sum(a20); outs[3] = Vector512.Sum(a30);
            if (W.N > 1) { outs[4] = Vector512.Sum(a01); outs[5] = Vector512.Sum(a11); outs[6] = Vector512.Sum(a21); outs[7] = Vector512.Sum(a31); }
            if (W.N > 2) { outs[8] = Vector512.Sum(a02); outs[9] = Vector512.Sum(a12); outs[10] = Vector512.Sum(a22); outs[11] = Vector512.Sum(a32); }
            if (W.N > 3) { outs[12] = Vector512.Sum(a03); outs[13] = Vector512.Sum(a13); outs[14] = Vector512.Sum(a23); outs[15] = Vector512.Sum(a33); }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            // The same tile in 256-bit vectors (AVX2): accumulators in locals, not a stack array, so the JIT keeps what fits
            // of them in the 16 registers; each weight and activation vector is loaded once per step of 8 columns.
            Vector256<float> a00 = default, a01 = default, a02 = default, a03 = default, a10 = default, a11 = default, a12 = default, a13 = default;
            Vector256<float> a20 = default, a21 = default, a22 = default, a23 = default, a30 = default, a31 = default, a32 = default, a33 = default;
            float* x0 = (float*)xs[0], x1 = (float*)xs[1], x2 = (float*)xs[2], x3 = (float*)xs[3];
            for (; c + 8 <= cols; c += 8)
            {
                var w0 = R.Load256(rows[0], c);
                var w1 = R.Load256(rows[1], c);
                var w2 = R.Load256(rows[2], c);
                var w3 = R.Load256(rows[3], c);
                var v = Vector256.Load(x0 + c);
                a00 = Vector256.FusedMultiplyAdd(w0, v, a00); a10 = Vector256.FusedMultiplyAdd(w1, v, a10);
                a20 = Vector256.FusedMultiplyAdd(w2, v, a20); a30 = Vector256.FusedMultiplyAdd(w3, v, a30);
                if (W.N > 1)
                {
                    v = Vector256.Load(x1 + c);
                    a01 = Vector256.FusedMultiplyAdd(w0, v, a01); a11 = Vector256.FusedMultiplyAdd(w1, v, a11);
                    a21 = Vector256.FusedMultiplyAdd(w2, v, a21); a31 = Vector256.FusedMultiplyAdd(w3, v, a31);
                }
                if (W.N > 2)
                {
                    v = Vector256.Load(x2 + c);
                    a02 = Vector256.FusedMultiplyAdd(w0, v, a02); a12 = Vector256.FusedMultiplyAdd(w1, v, a12);
                    a22 = Vector256.FusedMultiplyAdd(w2, v, a22); a32 = Vector256.FusedMultiplyAdd(w3, v, a32);
                }
                if (W.N > 3)
                {
                    v = Vector256.Load(x3 + c);
                    a03 = Vector256.FusedMultiplyAdd(w0, v, a03); a13 = Vector256.FusedMultiplyAdd(w1, v, a13);
                    a23 = Vector256.FusedMultiplyAdd(w2, v, a23); a33 = Vector256.FusedMultiplyAdd(w3, v, a33);
                }
            }
            outs[0] = Vector256.Sum(a00); outs[1] = Vector256.Sum(a10); outs[2] = Vector256.Sum(a20); outs[3] = Vector256.Sum(a30);
            if (W.N > 1) { outs[4] = Vector256.Sum(a01); outs[5] = Vector256.Sum(a11); outs[6] = Vector256.Sum(a21); outs[7] = Vector256.Sum(a31); }
            if (W.N > 2) { outs[8] = Vector256.Sum(a02); outs[9] = Vector256.Sum(a12); outs[10] = Vector256.Sum(a22); outs[11] = Vector256.Sum(a32); }
            if (W.N > 3) { outs[12] = Vector256.Sum(a03); outs[13] = Vector256.Sum(a13); outs[14] = Vector256.Sum(a23); outs[15] = Vector256.Sum(a33); }
        }
        else
            for (int k = 0; k < Tile * Tile; k++) outs[k] = 0;
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
}
