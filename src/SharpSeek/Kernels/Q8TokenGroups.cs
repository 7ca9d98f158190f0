using SharpSeek.Tensors;

namespace SharpSeek.Kernels;

/// <summary>
/// <see cref="Q8Activations"/> regrouped for <see cref="QuantGemm"/>: tokens in groups of <see cref="QuantGemm.Tokens"/>, and per
/// 32-value block the group's four token blocks lie side by side (128 bytes), so a tile streams one pointer instead of four.
/// Next to them, per (group, block, token), the terms a weight type's offset needs, computed once per call instead of per row:
/// Q8_0 128·Σx and Q4_0 8·Σx (exact integers, subtracted before scaling), Q4_K dx·Σx (its min term), Q6_K 32·Σx per 16 values.
/// A last partial group is padded with zero tokens (d = 0, q = 0), which give 0 and are never stored.
/// </summary>
public sealed unsafe class Q8TokenGroups
{
    private const int G = QuantGemm.Tokens;

    private sbyte[] _qs = [];
    private float[] _d = [];
    private int[] _off = [];
    private float[] _dsum = [];

    public int Groups { get; private set; }
    public int Blocks { get; private set; }

    /// <summary>Regroups all of <paramref name="act"/>'s tokens for weights of <paramref name="type"/>.</summary>
    public void Build(Q8Activations act, DType type)
    {
        Prepare(act);
        BuildGroups(act, type, 0, Groups);
    }

    /// <summary>Sizes the buffers for <paramref name="act"/>; then <see cref="BuildGroups"/> may run on several threads for disjoint groups.</summary>
    public void Prepare(Q8Activations act)
    {
        int tokens = act.Tokens, nb = act.Cols / Q8Activations.Block;
        int groups = (tokens + G - 1) / G;
        long n = (long)groups * nb;
        if (_qs.Length < n * G * 32)
        {
            _qs = GC.AllocateUninitializedArray<sbyte>(checked((int)(n * G * 32)), pinned: true);
            _d = GC.AllocateUninitializedArray<float>(checked((int)(n * G)), pinned: true);
            _off = GC.AllocateUninitializedArray<int>(checked((int)(n * G * 2)), pinned: true);
            _dsum = GC.AllocateUninitializedArray<float>(checked((int)(n * G)), pinned: true);
        }
        Groups = groups;
        Blocks = nb;
    }

    /// <summary>Fills groups <paramref name="g0"/>..<paramref name="g1"/> (after <see cref="Prepare"/>).</summary>
    public void BuildGroups(Q8Activations act, DType type, int g0, int g1)
    {
        int tokens = act.Tokens, nb = Blocks;
        fixed (sbyte* qs = _qs)
        fixed (float* d = _d, dsum = _dsum)
        fixed (int* off = _off)
        {
            for (int g = g0; g < g1; g++)
                for (int j = 0; j < G; j++)
                {
                    int t = g * G + j;
                    if (t >= tokens)
                    {
                        for (int b = 0; b < nb; b++)
                        {
                            long at = (long)g * nb + b;
                            new Span<sbyte>(qs + (at * G + j) * 32, 32).Clear();
                            d[at * G + j] = 0;
                            dsum[at * G + j] = 0;
                            off[(at * G + j) * 2] = off[(at * G + j) * 2 + 1] = 0;
                        }
                        continue;
                    }
                    var x = act.Row(t);
                    for (int b = 0; b < nb; b++)
                    {
                        long at = (long)g * nb + b;
                        new ReadOnlySpan<sbyte>(x.Qs + b * 32, 32).CopyTo(new Span<sbyte>(qs + (at * G + j) * 32, 32));
                        d[at * G + j] = x.D[b];
                        int* o = off + (at * G + j) * 2;
                        switch (type)
                        {
                            case DType.Q8_0: o[0] = 128 * x.Sum32[b]; break;
                            case DType.Q4_0: o[0] = 8 * x.Sum32[b]; break;
                            case DType.Q4_K: dsum[at * G + j] = x.D[b] * x.Sum32[b]; break;
                            case DType.Q6_K: o[0] = 32 * x.Sum16[2 * b]; o[1] = 32 * x.Sum16[2 * b + 1]; break;
                        }
                    }
                }
        }
    }

    /// <summary>Group <paramref name="g"/>: block b's values at Qs + b·128 (token j at +32j), its scales at D + 4b, and so on.</summary>
    public Q8Group Group(int g)
    {
        long at = (long)g * Blocks;
        fixed (sbyte* qs = _qs)
        fixed (float* d = _d, dsum = _dsum)
        fixed (int* off = _off)
            return new Q8Group(qs + at * G * 32, d + at * G, off + at * G * 2, dsum + at * G);   // arrays are pinned
    }
}

/// <summary>One group of <see cref="QuantGemm.Tokens"/> tokens: per block, values [4][32], scales [4], offsets [4][2], dx·Σx [4].</summary>
public readonly unsafe struct Q8Group(sbyte* qs, float* d, int* off, float* dsum)
{
    public readonly sbyte* Qs = qs;
    public readonly float* D = d;
    public readonly int* Off = off;
    public readonly float* DSum = dsum;
}
