using SharpSeek.Threading;

namespace SharpSeek.Kernels;

/// <summary>
/// How a model runs its kernels, chosen once when it is loaded: the worker pool that splits the work, the instruction-set path,
/// and whether quantized weights take integer products. Nothing else decides it: there are no process-wide switches, so two
/// models (or a test and the server) can run with different policies side by side.
/// </summary>
public sealed record KernelPolicy
{
    /// <summary>The pool the kernels split their items over (default: the process-wide one, a thread per core).</summary>
    public WorkerPool Pool { get; init; } = WorkerPool.Shared;

    /// <summary>The instruction-set path of the quantized kernels (default: the best this CPU has).</summary>
    public KernelPath Path { get; init; } = KernelPaths.Best;

    /// <summary>
    /// True (the default): products with Q8_0/Q4_0/Q4_K/Q6_K weights quantize their activations to 8 bits and run integer dots, as
    /// llama.cpp does. False decodes the weights to float and keeps float activations (tests measure what the integer scheme changes).
    /// </summary>
    public bool IntegerProducts { get; init; } = true;

    public static KernelPolicy Default { get; } = new();

    /// <summary>The context of one forward pass over <paramref name="rows"/> token rows.</summary>
    public KernelContext For(int rows) => new(this, rows);
}

/// <summary>
/// The kernel policy of one forward pass, with the tiling its shape calls for. Every product, norm and attention item of the
/// pass takes it as an argument. The tiling changes only how work is split and how many tokens share a weight load: every
/// output is computed with the same operations in the same order whatever the pass's shape, so a token's results do not
/// depend on what else is in the pass (batch invariance).
/// </summary>
public readonly struct KernelContext(KernelPolicy policy, int rows)
{
    /// <summary>A pass of at most this many rows is a decode step (one or a few tokens per sequence): its products are
    /// bound by the weights streaming from memory, so they are split into few long items (one weight stream per item).</summary>
    public const int StreamingRows = 16;

    public KernelPolicy Policy { get; } = policy;
    public WorkerPool Pool => Policy.Pool;
    public KernelPath Path => Policy.Path;
    public bool IntegerProducts => Policy.IntegerProducts;

    /// <summary>Token rows of the pass.</summary>
    public int Rows { get; } = rows;

    /// <summary>Whether the pass streams its weights (decode-sized) rather than computing on them (prefill-sized).</summary>
    public bool Streaming => Rows <= StreamingRows;

    /// <summary>
    /// Whether a product over <paramref name="tokens"/> tokens takes two adjacent groups per kernel call where the path has a
    /// pair kernel (<see cref="QuantDot.Pair"/>): only a product of more than <see cref="StreamingRows"/> tokens. The two groups
    /// lie apart, so a pair kernel reads two streams of weights; a product that reads each weight once (a decode step, a
    /// prefill's one-row LM head, an expert given few of a chunk's tokens) streamed them at a third of the speed (11 against
    /// 32 GB/s on a Zen 5 thread), while a longer product reads each pair once per 8 tokens and then from cache.
    /// </summary>
    public static bool PairsGroups(int tokens) => tokens > StreamingRows;

    /// <summary>Rows of a <paramref name="matrixRows"/>-row product per pool item: few long runs when streaming, 16-row items otherwise.</summary>
    public int RowsPerItem(int matrixRows) => Streaming ? MatMul.DotRowsPerItem(matrixRows, Pool.ThreadCount) : MatMul.RowsPerItem;

    /// <summary>The default policy's context for <paramref name="rows"/> rows (tests and tools that call kernels directly).</summary>
    public static KernelContext Default(int rows) => KernelPolicy.Default.For(rows);
}
