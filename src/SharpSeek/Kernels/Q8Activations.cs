using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace SharpSeek.Kernels;

/// <summary>
/// Activations quantized to 8-bit blocks of 32, as llama.cpp does before every quantized product (its block_q8_0):
/// d = amax/127 rounded to fp16, q = round-half-even(x·127/amax). Per block we also keep Σq, and per 16 values Σq,
/// so kernels can fold weight offsets (Q4_0's −8, Q4_K's min, Q6_K's −32) into one multiply instead of per value.
/// Buffers grow and are reused, so a decode step allocates nothing. The same buffers can instead hold llama.cpp's Q8_K form
/// (<see cref="Q8Format.Q8_K"/>, Q8Activations.Q8K.cs), which the K-quants' group kernels take; a call quantizes once, into the
/// form its kernel reads.
/// </summary>
public sealed unsafe partial class Q8Activations
{
    public const int Block = 32;

    private sbyte[] _qs = [];
    private float[] _d = [];
    private int[] _sum32 = [];
    private int[] _sum16 = [];

    public int Tokens { get; private set; }
    public int Cols { get; private set; }

    /// <summary>The form of the last <see cref="Quantize(float*, int, int, long, Q8Format, bool)"/>: <see cref="Row"/> or <see cref="RowK"/> reads it.</summary>
    public Q8Format Format { get; private set; }

    /// <summary>
    /// Quantizes <paramref name="tokens"/> rows of <paramref name="cols"/> values (cols a multiple of the format's block);
    /// <paramref name="vector"/> false takes the scalar reference (identical bytes).
    /// </summary>
    public void Quantize(ReadOnlySpan<float> x, int tokens, int cols, Q8Format format = Q8Format.Q8_0, bool vector = true)
    {
        if (x.Length < (long)tokens * cols) throw new ArgumentException("input too short", nameof(x));
        fixed (float* xp = x) Quantize(xp, tokens, cols, cols, format, vector);
    }

    /// <summary>Quantizes <paramref name="tokens"/> rows of <paramref name="cols"/> values that lie <paramref name="stride"/> floats apart.</summary>
    public void Quantize(float* x, int tokens, int cols, long stride, Q8Format format = Q8Format.Q8_0, bool vector = true)
    {
        Prepare(tokens, cols, format);
        QuantizeTokens(x, 0, tokens, stride, vector);
    }

    /// <summary>
    /// Sizes the buffers and sets the shape and form for <see cref="QuantizeTokens"/>, which may then run on several
    /// threads for disjoint token ranges (a prefill batch's quantization is split over the worker pool).
    /// </summary>
    public void Prepare(int tokens, int cols, Q8Format format)
    {
        int block = format == Q8Format.Q8_K ? SuperBlock : Block;
        if (cols % block != 0) throw new ArgumentException($"{format} activations need a multiple of {block} columns, got {cols}", nameof(cols));
        int n = tokens * cols, nb = n / Block;
        if (_qs.Length < n)
        {
            _qs = GC.AllocateUninitializedArray<sbyte>(n, pinned: true);
            _d = GC.AllocateUninitializedArray<float>(nb, pinned: true);
            _sum32 = GC.AllocateUninitializedArray<int>(nb, pinned: true);
            _sum16 = GC.AllocateUninitializedArray<int>(2 * nb, pinned: true);
        }
        Tokens = tokens;
        Cols = cols;
        Format = format;
    }

    /// <summary>Quantizes tokens <paramref name="t0"/>..<paramref name="t1"/> in the form <see cref="Prepare"/> set.</summary>
    public void QuantizeTokens(float* x, int t0, int t1, long stride, bool vector = true)
    {
        int cols = Cols, perRow = cols / Block;
        vector &= Vector256.IsHardwareAccelerated;
        if (Format == Q8Format.Q8_K)
        {
            QuantizeK(x, t0, t1, cols, stride, vector);
            return;
        }
        fixed (sbyte* q = _qs)
        fixed (float* d = _d)
        fixed (int* s32 = _sum32)
        fixed (int* s16 = _sum16)
        {
            for (int t = t0; t < t1; t++)
            {
                float* xr = x + t * stride;
                for (int k = 0; k < perRow; k++)
                {
                    int b = t * perRow + k;
                    if (vector) QuantizeBlock256(xr + k * Block, q + (long)b * Block, d + b, s32 + b, s16 + 2 * b);
                    else QuantizeBlockReference(xr + k * Block, q + (long)b * Block, d + b, s32 + b, s16 + 2 * b);
                }
            }
        }
    }

    /// <summary>Row <paramref name="token"/> as raw pointers (the arrays are pinned).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Q8Row Row(int token)
    {
        if (Format != Q8Format.Q8_0) throw new InvalidOperationException($"the activations are {Format}, not Q8_0");
        int nb = Cols / Block;
        long b = (long)token * nb;
        return new Q8Row(
            (sbyte*)Unsafe.AsPointer(ref _qs[0]) + b * Block,
            (float*)Unsafe.AsPointer(ref _d[0]) + b,
            (int*)Unsafe.AsPointer(ref _sum32[0]) + b,
            (int*)Unsafe.AsPointer(ref _sum16[0]) + 2 * b);
    }

    /// <summary>Scalar reference; the vector version must give identical bytes (same IEEE operations).</summary>
    internal static void QuantizeBlockReference(float* x, sbyte* q, float* d, int* sum32, int* sum16)
    {
        float amax = 0;
        for (int j = 0; j < Block; j++) amax = MathF.Max(amax, MathF.Abs(x[j]));
        float id = amax != 0 ? 127f / amax : 0f;
        *d = (float)(Half)(amax / 127f);
        int s0 = 0, s1 = 0;
        for (int j = 0; j < Block; j++)
        {
            int v = (int)MathF.Round(x[j] * id, MidpointRounding.ToEven);
            q[j] = (sbyte)v;
            if (j < 16) s0 += v; else s1 += v;
        }
        sum16[0] = s0;
        sum16[1] = s1;
        *sum32 = s0 + s1;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void QuantizeBlock256(float* x, sbyte* q, float* d, int* sum32, int* sum16)
    {
        var v0 = Vector256.Load(x);
        var v1 = Vector256.Load(x + 8);
        var v2 = Vector256.Load(x + 16);
        var v3 = Vector256.Load(x + 24);
        var m = Vector256.Max(Vector256.Max(Vector256.Abs(v0), Vector256.Abs(v1)), Vector256.Max(Vector256.Abs(v2), Vector256.Abs(v3)));
        var m128 = Vector128.Max(m.GetLower(), m.GetUpper());
        m128 = Vector128.Max(m128, Vector128.Shuffle(m128, Vector128.Create(2, 3, 0, 1)));
        m128 = Vector128.Max(m128, Vector128.Shuffle(m128, Vector128.Create(1, 0, 3, 2)));
        float amax = m128.ToScalar();
        float id = amax != 0 ? 127f / amax : 0f;
        *d = (float)(Half)(amax / 127f);
        var mul = Vector256.Create(id);
        var i0 = Vector256.ConvertToInt32(Vector256.Round(v0 * mul));
        var i1 = Vector256.ConvertToInt32(Vector256.Round(v1 * mul));
        var i2 = Vector256.ConvertToInt32(Vector256.Round(v2 * mul));
        var i3 = Vector256.ConvertToInt32(Vector256.Round(v3 * mul));
        int s0 = Vector256.Sum(i0 + i1), s1 = Vector256.Sum(i2 + i3);
        var packed = Vector256.Narrow(Vector256.Narrow(i0, i1), Vector256.Narrow(i2, i3));
        packed.Store(q);
        sum16[0] = s0;
        sum16[1] = s1;
        *sum32 = s0 + s1;
    }
}

/// <summary>How <see cref="Q8Activations"/> holds its values: llama.cpp's block_q8_0 (scale per 32) or block_q8_K (scale per 256).</summary>
public enum Q8Format { Q8_0, Q8_K }

/// <summary>One token's quantized activations: values, per-32 scales and sums, per-16 sums.</summary>
public readonly unsafe struct Q8Row(sbyte* qs, float* d, int* sum32, int* sum16)
{
    public readonly sbyte* Qs = qs;
    public readonly float* D = d;
    public readonly int* Sum32 = sum32;
    public readonly int* Sum16 = sum16;
}
