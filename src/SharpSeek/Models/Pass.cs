using System.Runtime.InteropServices;
using SharpSeek.Kernels;

namespace SharpSeek.Models;

/// <summary>
/// Consecutive rows of one forward pass that belong to one sequence: its caches for this pass (the model's layers, or its MTP
/// layer's), the first row, how many rows, the position of the first, and the first position the caches hold (0, except for an
/// MTP cache that starts after a prefix restored without it).
/// </summary>
internal readonly record struct PassSegment(InferenceState State, ILayerCache[] Caches, int FirstRow, int Rows, int StartPosition, int FirstCached = 0)
{
    /// <summary>Causal length of row <paramref name="row"/>: the positions it attends to, itself included.</summary>
    public int Length(int row) => StartPosition + (row - FirstRow) + 1;
}

/// <summary>
/// The token rows of one forward pass, any mix of sequences: decode rows (1 per sequence), speculative verifications (k + 1),
/// prefill chunks. Every layer runs once for all of them, so each weight matrix streams once per pass; attention and cache
/// writes use each row's own sequence and position. Holds the workspace the layers share and the kernel context the pass's
/// shape chose. Reused from pass to pass (one forward at a time per model).
/// </summary>
internal sealed class Pass(ModelConfig config)
{
    /// <summary>Rows per attention block of a sequence: consecutive rows whose heads share each loaded key and value.</summary>
    public const int BlockRows = 4;

    private readonly List<PassSegment> _segments = [];
    private readonly List<(int Segment, int FirstRow, int Rows)> _blocks = [];
    private int[] _segmentOf = new int[16], _positions = new int[16];

    public Workspace Ws { get; private set; } = new(config, 16);
    public KernelContext Kernels { get; private set; }
    public int Rows { get; private set; }
    public ReadOnlySpan<PassSegment> Segments => CollectionsMarshal.AsSpan(_segments);

    /// <summary>Attention blocks: up to <see cref="BlockRows"/> consecutive rows of one segment.</summary>
    public ReadOnlySpan<(int Segment, int FirstRow, int Rows)> Blocks => CollectionsMarshal.AsSpan(_blocks);

    public int SegmentOf(int row) => _segmentOf[row];
    public int Position(int row) => _positions[row];
    public ILayerCache Cache(int row, int layer) => _segments[_segmentOf[row]].Caches[layer];

    /// <summary>A reusable array of at least <paramref name="length"/> <typeparamref name="T"/> (per-row or per-block descriptors of a kernel call).</summary>
    public T[] Scratch<T>(int length)
    {
        _scratch.TryGetValue(typeof(T), out var a);
        if (a is T[] t && t.Length >= length) return t;
        var made = new T[Math.Max(length, 2 * (a?.Length ?? 8))];
        _scratch[typeof(T)] = made;
        return made;
    }

    private readonly Dictionary<Type, Array> _scratch = [];

    /// <summary>Starts an empty pass.</summary>
    public void Clear()
    {
        _segments.Clear();
        _blocks.Clear();
        Rows = 0;
    }

    /// <summary>Appends <paramref name="rows"/> rows of <paramref name="state"/> at positions <paramref name="start"/>.. (caches of this pass: <paramref name="caches"/>).</summary>
    public void Add(InferenceState state, ILayerCache[] caches, int start, int rows, int firstCached = 0)
    {
        int first = Rows;
        Grow(first + rows);
        int s = _segments.Count;
        _segments.Add(new PassSegment(state, caches, first, rows, start, firstCached));
        for (int i = 0; i < rows; i++)
        {
            _segmentOf[first + i] = s;
            _positions[first + i] = start + i;
        }
        for (int i = 0; i < rows; i += BlockRows) _blocks.Add((s, first + i, Math.Min(BlockRows, rows - i)));
        Rows = first + rows;
    }

    /// <summary>Sizes the workspace for the rows added and fixes the kernel context for the pass's shape.</summary>
    public void Prepare(KernelPolicy policy)
    {
        if (Ws.MaxRows < Rows) Ws = new Workspace(config, Math.Max(Rows, 2 * Ws.MaxRows));
        Kernels = policy.For(Rows);
    }

    private void Grow(int rows)
    {
        if (_segmentOf.Length >= rows) return;
        int n = Math.Max(rows, 2 * _segmentOf.Length);
        Array.Resize(ref _segmentOf, n);
        Array.Resize(ref _positions, n);
    }
}
