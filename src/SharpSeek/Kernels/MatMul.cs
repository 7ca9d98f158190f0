using System.Runtime.Intrinsics;
using SharpSeek.Tensors;
using SharpSeek.Threading;

namespace SharpSeek.Kernels;

/// <summary>
/// y[t, r] = W[r, :] · x[t, :] for a weight matrix in any supported type, rows split across the context's worker pool, each
/// weight row read once per call for all of its tokens.
/// ggml-quantized weights (Q8_0, Q4_0, Q4_K, Q6_K) never become float: the activations are quantized to 8-bit blocks once per call
/// (<see cref="Q8Activations"/>, in the form the type's kernels read: <see cref="QuantDot.ActivationFormat"/>) and every row·token
/// product is an integer dot, as in llama.cpp. The kernels take 8 rows at a time (<see cref="RowGroups"/>' layout, packed on the fly
/// for matrices that keep the file's) and up to 4 tokens per weight load (<see cref="QuantDot.Group"/>).
/// <para>
/// Every output is computed with the same operations in the same order however many tokens the call has and however its rows are
/// split over threads: the float kernels run one dot per (row, token), the integer kernels one FMA chain per (row, token). So a
/// token's products do not depend on the rest of the batch, which is what makes batched decode, speculative verification and
/// chunked prefill give the logits of a sequence run alone.
/// </para>
/// </summary>
public static unsafe class MatMul
{
    /// <summary>Rows per item of a computing (prefill-sized) product: two groups of 8.</summary>
    internal const int RowsPerItem = 16;
    private const int TokensPerItem = 8;

    /// <summary>The activations of the calling thread's products, reused: a buffer, not policy.</summary>
    [ThreadStatic] private static Q8Activations? _activations;

    /// <summary>Whether products with <paramref name="w"/> run as integer dots over 8-bit activations under <paramref name="ctx"/>.</summary>
    public static bool UsesIntegerKernels(in KernelContext ctx, WeightTensor w) =>
        ctx.IntegerProducts && QuantDot.Supports(w.Type) && w.Cols > 0 && w.Cols % w.Type.BlockSize() == 0;

    /// <summary>x: [tokens, w.Cols]; y: [tokens, w.Rows] (row stride <paramref name="yStride"/>, default w.Rows).</summary>
    public static void Compute(in KernelContext ctx, WeightTensor w, ReadOnlySpan<float> x, int tokens, Span<float> y, int yStride = -1)
    {
        int rows = checked((int)w.Rows), cols = checked((int)w.Cols);
        if (yStride < 0) yStride = rows;
        if (x.Length < tokens * cols) throw new ArgumentException($"input too short for {w.Name}: {x.Length} < {tokens}×{cols}", nameof(x));
        if (tokens > 0 && y.Length < (tokens - 1) * yStride + rows) throw new ArgumentException($"output too short for {w.Name}", nameof(y));
        if (tokens <= 0) return;
        var pool = ctx.Pool;
        // Below ~64K multiply-adds a hand-off to another core costs more than it saves.
        bool parallel = (long)rows * cols * tokens >= 65536;
        fixed (float* xp = x)
        fixed (float* yp = y)
        {
            Q8Activations? act = null;
            if (UsesIntegerKernels(ctx, w))
            {
                act = _activations ??= new Q8Activations();
                act.Prepare(tokens, cols, QuantDot.ActivationFormat(w.Type));
                // A batch's quantization runs over the pool too: on one thread it left the other core spinning for several
                // percent of a MoE prefill, whose experts each quantize their own tokens.
                var quantize = new QuantizeWork(act, xp, tokens, cols, ctx.Path);
                pool.For((tokens + TokensPerItem - 1) / TokensPerItem, ref quantize, parallel && tokens >= 2 * TokensPerItem);
            }
            int per = ctx.RowsPerItem(rows);
            var products = new ProductWork(ctx.Path, KernelContext.PairsGroups(tokens), w, xp, yp, tokens, yStride, per, act, pool);
            pool.For((rows + per - 1) / per, ref products, parallel);
        }
    }

    /// <summary>
    /// y[t, h, r] = W[h·<paramref name="headStride"/> + <paramref name="rowOffset"/> + r, :] · x[t, h, :] for r &lt; <paramref name="headRows"/>
    /// and every head h: each head's rows multiply that head's slice of the activations (MLA's value expansion, and its absorbed
    /// query with <c>attn_k_b</c>: llama.cpp's per-head <c>mul_mat</c>). x rows are <paramref name="xStride"/> floats apart per
    /// token with heads <paramref name="xHead"/> apart; y likewise. Same kernels and per-output operations as <see cref="Compute"/>.
    /// </summary>
    public static void PerHead(in KernelContext ctx, WeightTensor w, int heads, int headRows, long headStride, int rowOffset,
        float* x, long xStride, long xHead, int tokens, float* y, long yStride, long yHead)
    {
        if ((heads - 1) * headStride + rowOffset + headRows > w.Rows) throw new ArgumentException($"{w.Name}: {heads} heads of {headRows} rows do not fit {w.Rows} rows", nameof(heads));
        if (tokens <= 0) return;
        bool parallel = (long)heads * headRows * w.Cols * tokens >= 65536;
        var work = new HeadWork(ctx, w, headRows, headStride, rowOffset, x, xStride, xHead, tokens, y, yStride, yHead);
        ctx.Pool.For(heads, ref work, parallel);
    }

    /// <summary>
    /// y[t, h, c] = Σ_n W[h·<paramref name="headStride"/> + n, c] · x[t, h, n] for n &lt; <paramref name="headRows"/>: each head's
    /// rows transposed against that head's activations (MLA's absorbed query with a <c>kv_b_proj</c> kept whole,
    /// model.py's <c>einsum("bshd,hdc->bshc", q_nope, wkv_b[:, :dn])</c>). Float activations; per token the rows are added in
    /// order, so a token's result does not depend on the others.
    /// </summary>
    public static void PerHeadTransposed(in KernelContext ctx, WeightTensor w, int heads, int headRows, long headStride,
        float* x, long xStride, long xHead, int tokens, float* y, long yStride, long yHead)
    {
        if (tokens <= 0) return;
        bool parallel = (long)heads * headRows * w.Cols * tokens >= 65536;
        var work = new TransposedHeadWork(w, headRows, headStride, x, xStride, xHead, tokens, y, yStride, yHead, ctx.Pool);
        ctx.Pool.For(heads, ref work, parallel);
    }

    /// <summary>Head rows up to which <see cref="TransposedHeadWork"/>'s F32 path keeps the rows' pointers on the stack.</summary>
    private const int MaxStackRows = 1024;

    private readonly struct TransposedHeadWork(WeightTensor w, int headRows, long headStride, float* x, long xStride, long xHead,
        int tokens, float* y, long yStride, long yHead, WorkerPool pool) : IParallelWork
    {
        public void Execute(int h, int worker)
        {
            int cols = (int)w.Cols;
            if (w.Type == DType.F32 && !w.Interleaved && Vector512.IsHardwareAccelerated && headRows <= MaxStackRows)
            {
                F32(h, cols);
                return;
            }
            for (int t = 0; t < tokens; t++) new Span<float>(y + t * yStride + h * yHead, cols).Clear();
            fixed (float* scratch = pool.Scratch(worker, cols))
                for (int n = 0; n < headRows; n++)
                {
                    long r = h * headStride + n;
                    float* row = w.Type == DType.F32 ? (float*)w.RowPointer(r) : scratch;
                    if (w.Type != DType.F32) w.DequantizeRow(r, new Span<float>(scratch, cols));
                    var rowSpan = new ReadOnlySpan<float>(row, cols);
                    for (int t = 0; t < tokens; t++)
                    {
                        var dst = new Span<float>(y + t * yStride + h * yHead, cols);
                        System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(rowSpan, x[t * xStride + h * xHead + n], dst, dst);
                    }
                }
        }

        /// <summary>
        /// F32 weights: each token's 16 outputs stay in one register over the head's rows instead of a call per (row, token)
        /// on a span of <c>cols</c> values, which for small heads cost more than the arithmetic. Every value takes the same
        /// operations in the same order as above (y = 0, then y = w·x + y for rows in order, the product and the sum rounded
        /// apart, as <c>TensorPrimitives.MultiplyAdd</c> does), so the result is the same bit for bit.
        /// </summary>
        private void F32(int h, int cols)
        {
            var rows = stackalloc nint[headRows];
            for (int n = 0; n < headRows; n++) rows[n] = (nint)w.RowPointer(h * headStride + n);
            for (int t = 0; t < tokens; t++)
            {
                float* xt = x + t * xStride + h * xHead, yt = y + t * yStride + h * yHead;
                int c = 0;
                for (; c + 16 <= cols; c += 16)
                {
                    var acc = Vector512<float>.Zero;
                    for (int n = 0; n < headRows; n++) acc += Vector512.Load((float*)rows[n] + c) * Vector512.Create(xt[n]);
                    acc.Store(yt + c);
                }
                for (; c < cols; c++)
                {
                    float acc = 0;
                    for (int n = 0; n < headRows; n++) acc += ((float*)rows[n])[c] * xt[n];
                    yt[c] = acc;
                }
            }
        }
    }

    /// <summary>
    /// Rows per item of a streaming (decode-sized) product: about <see cref="DotItemsPerThread"/> items per thread, a multiple of
    /// <see cref="RowsPerItem"/>. Each item is one claim on the pool's shared counter, which bounces between cores, and one jump to
    /// a new run of weights, which restarts the hardware prefetcher; with 16-row items a Qwen2-1.5B token made ~40,000. Several
    /// items per thread still let a thread the OS delayed hand its share to the others.
    /// </summary>
    internal static int DotRowsPerItem(int rows, int threads)
    {
        int items = Math.Max(1, threads * DotItemsPerThread);
        int per = (rows + items - 1) / items;
        return Math.Max(RowsPerItem, (per + RowsPerItem - 1) / RowsPerItem * RowsPerItem);
    }

    internal const int DotItemsPerThread = 8;

    /// <summary>Reference: decodes each row and accumulates in double. Tests compare the fast path against it.</summary>
    public static void Reference(WeightTensor w, ReadOnlySpan<float> x, int tokens, Span<float> y)
    {
        int rows = (int)w.Rows, cols = (int)w.Cols;
        var row = new float[cols];
        for (int r = 0; r < rows; r++)
        {
            w.DequantizeRow(r, row);
            for (int t = 0; t < tokens; t++)
            {
                double s = 0;
                for (int c = 0; c < cols; c++) s += (double)row[c] * x[t * cols + c];
                y[t * rows + r] = (float)s;
            }
        }
    }

    /// <summary>
    /// y[t·ys + r] for rows <paramref name="r0"/>..<paramref name="r1"/> of <paramref name="w"/> and every token of
    /// <paramref name="act"/>: per 8-row group, the tokens in runs of up to 4 over the group kernel; with <paramref name="pairs"/>
    /// (<see cref="KernelContext.PairsGroups"/>), per two groups over the pair kernel where the path has one for the type
    /// (<see cref="QuantDot.Pair"/>). A matrix in the file's
    /// layout has each group packed into the worker's scratch first (a last group short of 8 rows repeats its last row and
    /// stores only its own). The scalar path runs the row kernels.
    /// </summary>
    internal static void QuantizedRows(KernelPath path, bool pairs, WeightTensor w, int r0, int r1, Q8Activations act, float* y, long ys, WorkerPool pool, int worker)
    {
        int tokens = act.Tokens;
        var type = w.Type;
        if (path == KernelPath.Scalar && !w.Interleaved)
        {
            for (int r = r0; r < r1; r++)
            {
                byte* row = w.RowPointer(r);
                for (int t = 0; t < tokens; t++) y[t * ys + r] = QuantDot.RowReference(type, row, act, t);
            }
            return;
        }
        if (w.Interleaved)
        {
            if (r0 % RowGroups.Rows != 0 || (r1 - r0) % RowGroups.Rows != 0)
                throw new ArgumentOutOfRangeException(nameof(r0), $"rows {r0}..{r1} of '{w.Name}' split an 8-row group");
            int r = r0;
            if (pairs && QuantDot.HasPairKernel(path, type))
                for (; r + 2 * RowGroups.Rows <= r1; r += 2 * RowGroups.Rows) PairTokens(path, type, w.RowPointer(r), act, y + r, ys);
            for (; r < r1; r += RowGroups.Rows) GroupTokens(path, type, w.RowPointer(r), act, y + r, ys);
            return;
        }
        // The file's layout: pack each group on the fly (8 rows' bytes), then the same kernels; a short group lands in scratch.
        float[] scratch = pool.Scratch(worker, (int)((RowGroups.Rows * w.RowBytes + 3) / 4) + RowGroups.Rows * tokens);
        fixed (float* s = scratch)
        {
            byte* packed = (byte*)s;
            float* shortY = s + (RowGroups.Rows * w.RowBytes + 3) / 4;
            byte** rows = stackalloc byte*[RowGroups.Rows];
            for (int r = r0; r < r1; r += RowGroups.Rows)
            {
                int n = Math.Min(RowGroups.Rows, r1 - r);
                for (int i = 0; i < RowGroups.Rows; i++) rows[i] = w.RowPointer(r + Math.Min(i, n - 1));
                RowGroups.Pack(type, rows, (int)w.Cols, packed);
                if (n == RowGroups.Rows) { GroupTokens(path, type, packed, act, y + r, ys); continue; }
                GroupTokens(path, type, packed, act, shortY, RowGroups.Rows);
                for (int t = 0; t < tokens; t++)
                    for (int i = 0; i < n; i++) y[t * ys + r + i] = shortY[t * RowGroups.Rows + i];
            }
        }
    }

    /// <summary>All of <paramref name="act"/>'s tokens against one group, in runs of <see cref="QuantDot.GroupTokens"/>.</summary>
    private static void GroupTokens(KernelPath path, DType type, byte* g, Q8Activations act, float* y, long ys)
    {
        int tokens = act.Tokens;
        for (int t = 0; t < tokens; t += QuantDot.GroupTokens)
            QuantDot.Group(path, type, g, act, t, Math.Min(QuantDot.GroupTokens, tokens - t), y + t * ys, ys);
    }

    /// <summary>All of <paramref name="act"/>'s tokens against a pair of groups, in runs of <see cref="QuantDot.PairTokens"/>.</summary>
    private static void PairTokens(KernelPath path, DType type, byte* g, Q8Activations act, float* y, long ys)
    {
        int tokens = act.Tokens;
        int run = QuantDot.PairTokens(type);
        for (int t = 0; t < tokens; t += run)
            QuantDot.Pair(path, type, g, act, t, Math.Min(run, tokens - t), y + t * ys, ys);
    }

    /// <summary>Quantizes 8 tokens per item into the call's activations.</summary>
    private readonly struct QuantizeWork(Q8Activations act, float* x, int tokens, int cols, KernelPath path) : IParallelWork
    {
        public void Execute(int index, int worker) =>
            act.QuantizeTokens(x, index * TokensPerItem, Math.Min(tokens, (index + 1) * TokensPerItem), cols, path != KernelPath.Scalar);
    }

    /// <summary>The products of <paramref name="rowsPerItem"/> rows per item, over all tokens.</summary>
    private readonly struct ProductWork(KernelPath path, bool pairs, WeightTensor w, float* x, float* y, int tokens, int ys, int rowsPerItem,
        Q8Activations? act, WorkerPool pool) : IParallelWork
    {
        public void Execute(int index, int worker)
        {
            int r0 = index * rowsPerItem, r1 = (int)Math.Min(r0 + rowsPerItem, w.Rows);
            if (act is not null)
            {
                QuantizedRows(path, pairs, w, r0, r1, act, y, ys, pool, worker);
                return;
            }
            FloatProducts.Rows(w, r0, r1, x, tokens, y, ys, pool, worker);
        }
    }

    /// <summary>A worker's buffer for a head's gathered activations.</summary>
    private sealed class GatherBuffer
    {
        private float[] _data = [];
        public float[] Get(int length) => _data.Length >= length ? _data : _data = new float[Math.Max(length, 2 * _data.Length)];
    }

    /// <summary>One head per item: that head's activations quantized into the worker's own buffer, then its rows.</summary>
    private readonly struct HeadWork(KernelContext ctx, WeightTensor w, int headRows, long headStride, int rowOffset, float* x, long xStride, long xHead,
        int tokens, float* y, long yStride, long yHead) : IParallelWork
    {
        public void Execute(int h, int worker)
        {
            var pool = ctx.Pool;
            int cols = (int)w.Cols, first = checked((int)(h * headStride + rowOffset));
            float* yh = y + h * yHead - first;   // row first + r of head h lands at y[t·yStride + h·yHead + r]
            if (UsesIntegerKernels(ctx, w))
            {
                var act = pool.Local<Q8Activations>(worker);
                act.Prepare(tokens, cols, QuantDot.ActivationFormat(w.Type));
                act.QuantizeTokens(x + h * xHead, 0, tokens, xStride, ctx.Path != KernelPath.Scalar);
                QuantizedRows(ctx.Path, KernelContext.PairsGroups(tokens), w, first, first + headRows, act, yh, yStride, pool, worker);
                return;
            }
            // Float weights: the head's tokens gathered contiguously (a buffer of the worker's own: the products use its
            // scratch), then the same products as Compute.
            var gathered = pool.Local<GatherBuffer>(worker).Get(tokens * cols);
            fixed (float* s = gathered)
            {
                for (int t = 0; t < tokens; t++) new ReadOnlySpan<float>(x + t * xStride + h * xHead, cols).CopyTo(new Span<float>(s + t * cols, cols));
                FloatProducts.Rows(w, first, first + headRows, s, tokens, yh, yStride, pool, worker);
            }
        }
    }
}
