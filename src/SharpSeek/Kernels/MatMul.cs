using SharpSeek.Tensors;
using SharpSeek.Threading;

namespace SharpSeek.Kernels;

/// <summary>
/// y[t, r] = W[r, :] · x[t, :] for a weight matrix in any supported type, rows split across the worker pool.
/// With several tokens each weight row is decoded once and reused for all of them (prefill reads weights once).
/// ggml-quantized weights (Q8_0, Q4_0, Q4_K, Q6_K) never become float: the activations are quantized to 8-bit blocks once
/// per call (<see cref="Q8Activations"/>, in the form the call's kernels read: <see cref="ActivationFormat"/>) and every
/// row·token product is an integer dot (<see cref="QuantDot"/>), as in llama.cpp.
/// In prefill those products run as a tiled GEMM (<see cref="QuantGemm"/>): 8 weight rows unpacked once, 4 tokens at a time;
/// decode steps run the per-token dots (see <see cref="Decoding"/>).
/// </summary>
public static unsafe class MatMul
{
    private const int RowsPerItem = 16;
    private const int TokensPerItem = 8, GroupsPerItem = 2;

    private enum MatMulPhase { Products, Quantize, Group }

    [ThreadStatic] private static MatMulWork? _work;

    /// <summary>
    /// Fewest tokens that take the tiled kernels (<see cref="QuantGemm"/>) outside a decode step; fewer run the per-token dots.
    /// 1: a product's result for a token is the same bit for bit whatever else is in the call. Benches raise it to compare.
    /// </summary>
    internal static int GemmMinTokens { get; set; } = 1;

    [ThreadStatic] private static bool _decoding;

    /// <summary>
    /// Set by the model around a decode step (one new token per sequence, however many sequences): products then run the
    /// per-token dots. A tile re-packs its 8 weight rows on every call, which a single token cannot pay back (Q4_K decode ran
    /// at a tenth of llama.cpp's speed through tiles), and the per-token dots give a token the same bits whether it is decoded
    /// alone or in a batch, since each (row, token) dot is computed the same way.
    /// </summary>
    internal static bool Decoding { get => _decoding; set => _decoding = value; }

    /// <summary>Whether a product over <paramref name="tokens"/> tokens, called from this thread now, takes the tiles.</summary>
    internal static bool UseTiles(int tokens) => tokens >= GemmMinTokens && !_decoding;

    /// <summary>False decodes quantized rows to float and keeps float activations (tests measure what the integer scheme changes).</summary>
    internal static bool UseIntegerKernels { get; set; } = true;

    /// <summary>
    /// The 8-bit form a product with <paramref name="w"/> reads its activations in: Q8_K (a scale per 256 values) for the
    /// K-quants' group kernels, which llama.cpp's K-quant products take too and which lets a super-block sum in int32; Q8_0
    /// (a scale per 32) for everything else, the tiles and the row kernels included. <paramref name="tiled"/>: the caller's
    /// <see cref="UseTiles"/>.
    /// </summary>
    internal static Q8Format ActivationFormat(WeightTensor w, KernelPath path, bool tiled) =>
        w.Interleaved && w.Type is DType.Q4_K or DType.Q6_K && !(tiled && QuantGemm.Supports(path, w.Type)) ? Q8Format.Q8_K : Q8Format.Q8_0;

    /// <summary>Whether products with <paramref name="w"/> run as integer dots over 8-bit activations.</summary>
    public static bool UsesIntegerKernels(WeightTensor w) =>
        UseIntegerKernels && QuantDot.Supports(w.Type) && w.Cols > 0 && w.Cols % w.Type.BlockSize() == 0;

    /// <summary>x: [tokens, w.Cols]; y: [tokens, w.Rows] (row stride <paramref name="yStride"/>, default w.Rows).</summary>
    public static void Compute(WeightTensor w, ReadOnlySpan<float> x, int tokens, Span<float> y, int yStride = -1, WorkerPool? pool = null)
    {
        int rows = checked((int)w.Rows), cols = checked((int)w.Cols);
        if (yStride < 0) yStride = rows;
        if (x.Length < tokens * cols) throw new ArgumentException($"input too short for {w.Name}: {x.Length} < {tokens}×{cols}", nameof(x));
        if (tokens > 0 && y.Length < (tokens - 1) * yStride + rows) throw new ArgumentException($"output too short for {w.Name}", nameof(y));
        pool ??= WorkerPool.Shared;
        var work = _work ??= new MatMulWork();
        fixed (float* xp = x)
        fixed (float* yp = y)
        {
            work.Set(w, xp, yp, tokens, yStride, pool);
            // Below ~64K multiply-adds a hand-off to another core costs more than it saves.
            bool parallel = (long)rows * cols * tokens >= 65536;
            if (work.Quantized)
            {
                // A batch's quantization and regrouping run over the pool too: on one thread they left the other core
                // spinning for several percent of a MoE prefill, whose experts each quantize their own tokens.
                bool split = parallel && tokens >= 2 * TokensPerItem;
                work.Activations.Prepare(tokens, cols, work.Format);
                work.Phase = MatMulPhase.Quantize;
                pool.For((tokens + TokensPerItem - 1) / TokensPerItem, work, split);
                if (work.Tiled)
                {
                    work.Groups.Prepare(work.Activations);
                    work.Phase = MatMulPhase.Group;
                    pool.For((work.Groups.Groups + GroupsPerItem - 1) / GroupsPerItem, work, split);
                }
                work.Phase = MatMulPhase.Products;
            }
            work.RowsPerItem = work.Tiled ? RowsPerItem : DotRowsPerItem(rows, pool.ThreadCount);
            pool.For((rows + work.RowsPerItem - 1) / work.RowsPerItem, work, parallel);
            work.Clear();
        }
    }

    /// <summary>
    /// y[t·ys + r] = W[r, :] · x[t] for rows <paramref name="first"/>..+<paramref name="count"/> and the tokens already quantized in
    /// <paramref name="act"/>, on the calling thread: tiled when the batch is large enough, else per-token dots. For callers that
    /// split work themselves (MLA's per-head products); <paramref name="groups"/> and <paramref name="scratch"/> are theirs, and
    /// <paramref name="act"/> is in the form <see cref="ActivationFormat"/> gives.
    /// </summary>
    /// <param name="tiled">The caller's <see cref="UseTiles"/>, read on its own thread (this runs on a worker).</param>
    internal static void QuantizedRows(WeightTensor w, int first, int count, Q8Activations act, Q8TokenGroups groups, float* y, long ys, WorkerPool pool, int worker, bool tiled)
    {
        int tokens = act.Tokens, cols = act.Cols;
        var path = KernelPaths.Current;
        if (tiled && QuantGemm.Supports(path, w.Type))
        {
            groups.Build(act, w.Type);
            fixed (float* s = pool.Scratch(worker, (int)((QuantGemm.TileBytes(cols) + 3) / 4)))
                for (int r = first; r < first + count; r += QuantGemm.Rows)
                    QuantGemm.Tile(path, w, r, Math.Min(r + QuantGemm.Rows, first + count), groups, tokens, y, ys, (byte*)s);
            return;
        }
        if (w.Interleaved)
        {
            if (first % RowGroups.Rows != 0 || count % RowGroups.Rows != 0)
                throw new ArgumentOutOfRangeException(nameof(first), $"rows {first}..{first + count} of '{w.Name}' split an 8-row group");
            for (int r = first; r < first + count; r += RowGroups.Rows) GroupDots(path, w.Type, w.RowPointer(r), act, y + r, ys);
            return;
        }
        for (int r = first; r < first + count; r++)
        {
            byte* row = w.RowPointer(r);
            for (int t = 0; t < tokens; t++) y[t * ys + r] = QuantDot.Row(path, w.Type, row, act.Row(t), cols);
        }
    }

    /// <summary>y[t·ys + 0..8] = the 8 rows of the group at <paramref name="g"/> · token t, for every token of <paramref name="act"/>.</summary>
    internal static void GroupDots(KernelPath path, DType type, byte* g, Q8Activations act, float* y, long ys)
    {
        int cols = act.Cols;
        if (act.Format == Q8Format.Q8_K)
            for (int t = 0; t < act.Tokens; t++) QuantDot.Group(path, type, g, act.RowK(t), cols, y + t * ys);
        else
            for (int t = 0; t < act.Tokens; t++) QuantDot.Group(path, type, g, act.Row(t), cols, y + t * ys);
    }

    /// <summary>
    /// Rows per item of the per-row products (decode): about <see cref="DotItemsPerThread"/> items per thread, a multiple of
    /// <see cref="RowsPerItem"/>. Each item is one claim on the pool's shared counter, which bounces between cores, and one
    /// jump to a new run of weights, which restarts the hardware prefetcher; with 16-row items a Qwen2-1.5B token made ~40,000.
    /// Several items per thread still let a thread the OS delayed hand its share to the others.
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

    private sealed class MatMulWork : IParallelWork
    {
        private WeightTensor? _w;
        private float* _x, _y;
        private int _tokens, _yStride, _rows, _cols;
        private WorkerPool? _pool;
        private KernelPath _path;

        /// <summary>This call's activations in 8-bit blocks (quantized weights only); reused across calls.</summary>
        public Q8Activations Activations { get; } = new();
        public bool Quantized { get; private set; }

        /// <summary>The same activations in token groups, for the tiled GEMM.</summary>
        public Q8TokenGroups Groups { get; } = new();
        public bool Tiled { get; private set; }

        /// <summary>The form this call's kernels read the activations in (<see cref="ActivationFormat"/>).</summary>
        public Q8Format Format { get; private set; }

        public void Set(WeightTensor w, float* x, float* y, int tokens, int yStride, WorkerPool pool)
        {
            _w = w; _x = x; _y = y; _tokens = tokens; _yStride = yStride; _pool = pool;
            _rows = (int)w.Rows; _cols = (int)w.Cols;
            _path = KernelPaths.Current;
            Quantized = UsesIntegerKernels(w);
            Tiled = Quantized && UseTiles(tokens) && QuantGemm.Supports(_path, w.Type);
            Format = ActivationFormat(w, _path, Tiled);
        }

        /// <summary>Rows of one products item.</summary>
        public int RowsPerItem { get; set; } = MatMul.RowsPerItem;

        /// <summary>What <see cref="Execute"/> does with an item: quantize 8 tokens, regroup 2 groups, or the products of <see cref="RowsPerItem"/> rows.</summary>
        public MatMulPhase Phase { get; set; }

        public void Clear()
        {
            _w = null; _pool = null; _x = null; _y = null;
            Phase = MatMulPhase.Products;
        }

        public void Execute(int index, int worker)
        {
            switch (Phase)
            {
                case MatMulPhase.Quantize:
                    Activations.QuantizeTokens(_x, index * TokensPerItem, Math.Min(_tokens, (index + 1) * TokensPerItem), _cols);
                    return;
                case MatMulPhase.Group:
                    Groups.BuildGroups(Activations, _w!.Type, index * GroupsPerItem, Math.Min(Groups.Groups, (index + 1) * GroupsPerItem));
                    return;
            }
            var w = _w!;
            int r0 = index * RowsPerItem, r1 = Math.Min(r0 + RowsPerItem, _rows);
            int cols = _cols, tokens = _tokens, ys = _yStride;
            float* x = _x, y = _y;
            switch (w.Type)
            {
                case DType.F32:
                    for (int r = r0; r < r1; r++)
                    {
                        float* wr = (float*)w.RowPointer(r);
                        for (int t = 0; t < tokens; t++) y[(long)t * ys + r] = Dot.F32(wr, x + (long)t * cols, cols);
                    }
                    return;
                case DType.Q8_0 or DType.Q4_0 or DType.Q4_K or DType.Q6_K when Tiled:
                    {
                        var tile = _pool!.Scratch(worker, (int)((QuantGemm.TileBytes(cols) + 3) / 4));
                        fixed (float* s = tile)
                            for (int r = r0; r < r1; r += QuantGemm.Rows)
                                QuantGemm.Tile(_path, w, r, Math.Min(r + QuantGemm.Rows, r1), Groups, tokens, y, ys, (byte*)s);
                        return;
                    }
                case DType.Q8_0 or DType.Q4_0 or DType.Q4_K or DType.Q6_K when Quantized:
                    {
                        var act = Activations;
                        var type = w.Type;
                        var path = _path;
                        if (w.Interleaved)
                        {
                            // r0 and r1 are multiples of 8: RowsPerItem is, and so are the rows of a grouped tensor.
                            for (int r = r0; r < r1; r += RowGroups.Rows) GroupDots(path, type, w.RowPointer(r), act, y + r, ys);
                            return;
                        }
                        for (int r = r0; r < r1; r++)
                        {
                            byte* wr = w.RowPointer(r);
                            for (int t = 0; t < tokens; t++) y[(long)t * ys + r] = QuantDot.Row(path, type, wr, act.Row(t), cols);
                        }
                        return;
                    }
                case DType.BF16 when tokens == 1:
                    for (int r = r0; r < r1; r++) y[r] = Dot.Bf16((ushort*)w.RowPointer(r), x, cols);
                    return;
                default:
                    var scratch = _pool!.Scratch(worker, cols);
                    fixed (float* s = scratch)
                    {
                        for (int r = r0; r < r1; r++)
                        {
                            w.DequantizeRow(r, new Span<float>(s, cols));
                            for (int t = 0; t < tokens; t++) y[(long)t * ys + r] = Dot.F32(s, x + (long)t * cols, cols);
                        }
                    }
                    return;
            }
        }
    }
}
