using SharpSeek.Formats;
using SharpSeek.Kernels;
using SharpSeek.Tensors;

namespace SharpSeek.Models;

/// <summary>
/// Hands tensors to the model classes with shape checks, and afterwards reports tensors nobody asked for. Matrices that only
/// products read go into <see cref="RowGroups"/>' layout for kernels on <paramref name="groupPath"/> (null: keep the file's).
/// </summary>
internal sealed class WeightLoader(ITensorSource source, KernelPath? groupPath)
{
    private readonly HashSet<string> _used = new(StringComparer.Ordinal);
    private readonly List<WeightTensor> _handedOut = [];

    public ITensorSource Source => source;

    public bool Has(string name) => source.Contains(name);

    /// <summary>A 2-D weight of shape [rows, cols].</summary>
    public WeightTensor Matrix(string name, long rows, long cols) => Tensor(name, rows, cols);

    /// <summary>
    /// A matrix that only products read (<see cref="Kernels.MatMul"/>): Q4_0, Q8_0, Q4_K and Q6_K ones go into
    /// <see cref="RowGroups"/>' 8-row layout, F32 and BF16 ones into a plain copy, both in huge-page memory, while the copies stay
    /// under half of the memory the process may use (a model larger than that keeps reading its file's pages, as
    /// <see cref="WeightPager"/> leaves it to).
    /// </summary>
    public WeightTensor Linear(string name, long rows, long cols) => ForProducts(Matrix(name, rows, cols));

    /// <summary>
    /// <paramref name="t"/> (handed out by this loader) in the 8-row layout when it can take it; an F32 or BF16 matrix, which the
    /// float products read in the file's layout, as a plain copy in the same huge-page memory; else itself. Streaming a decode
    /// step's weights through the file's 4 KiB pages ran at 2–6 GB/s on a 2-vCPU VM, the huge-page copy at 16–18 GB/s
    /// (docs/PERFORMANCE.md, "Float weights in huge pages").
    /// </summary>
    public WeightTensor ForProducts(WeightTensor t)
    {
        if (groupPath is not { } path) return t;
        bool group = RowGroups.Supports(t, path);
        if (!group && !(t.Type is DType.F32 or DType.BF16 && !t.Interleaved && t.Scales is null)) return t;
        long budget = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 2;
        if (_copiedBytes + t.ByteLength > budget) return t;
        _copiedBytes += t.ByteLength;
        var g = group ? RowGroups.Interleave(t, _arena) : Copy(t);
        int i = _handedOut.IndexOf(t);
        if (i >= 0) _handedOut[i] = g;
        return g;
    }

    private unsafe WeightTensor Copy(WeightTensor t)
    {
        byte* dst = _arena.Allocate(t.ByteLength, out var storage);
        Buffer.MemoryCopy(t.Data, dst, t.ByteLength, t.ByteLength);
        MappedPages.Release(t.Data, t.ByteLength);
        return t.InMemory(dst, storage);
    }

    private long _copiedBytes;
    private readonly WeightArena _arena = new();

    /// <summary>The memory of the in-memory copies (grouped and float); the model frees it when disposed.</summary>
    public WeightArena Arena => _arena;

    /// <summary>A tensor of exactly <paramref name="shape"/>.</summary>
    public WeightTensor Tensor(string name, params long[] shape)
    {
        var t = source.Get(name);
        _used.Add(name);
        _handedOut.Add(t);
        if (t.Type == DType.F8E4M3) _used.Add(name + "_scale_inv");
        if (!t.Shape.AsSpan().SequenceEqual(shape))
            throw new ModelFormatException($"{t.File}: tensor '{name}' has shape {t.ShapeText}, expected [{string.Join(", ", shape)}]");
        return t;
    }

    /// <summary>A 1-D tensor decoded to float32 (norm weights, biases).</summary>
    public float[] Vector(string name, long length) => Tensor(name, length).ToFloat32();

    /// <summary>Every tensor handed out so far (for paging the model in).</summary>
    public IReadOnlyList<WeightTensor> HandedOut => _handedOut;

    /// <summary>Fails on any tensor the model did not consume, naming it.</summary>
    public void RejectUnused()
    {
        foreach (var name in source.Names.Order(StringComparer.Ordinal))
        {
            if (_used.Contains(name) || IsIgnorable(name)) continue;
            string file;
            try { file = source.Get(name).File; } catch (SharpSeekException) { file = Path.GetFileName(source.Path); }
            throw new ModelFormatException($"{file}: unexpected tensor '{name}' (not part of this architecture)");
        }
    }

    private static bool IsIgnorable(string name) =>
        name.EndsWith(".rotary_emb.inv_freq", StringComparison.Ordinal);
}
