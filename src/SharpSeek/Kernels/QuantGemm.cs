using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using SharpSeek.Tensors;

namespace SharpSeek.Kernels;

/// <summary>
/// Multi-token quantized products (prefill): a tile of 8 weight rows is unpacked once (<see cref="Repack"/>), then every group of
/// 4 tokens (<see cref="Q8TokenGroups"/>) runs over it with 8 + 4 + 4 accumulators in registers. Per 32-value block and token,
/// eight <c>vpdpbusd</c> with the token's 4 bytes broadcast give all 8 rows' exact int32 block dots in one vector; the weight
/// offset (Q8_0's 128, Q4_0's 8, Q6_K's 32, times Σx) is subtracted in int32, and one convert + FMA applies d_w·d_x per row.
/// That is 13 vector instructions (plus 8 broadcast loads) per block for 8 row·token pairs, about what a per-token dot spends on one
/// pair, and the weights are decoded once per call instead of once per token.
/// </summary>
public static unsafe partial class QuantGemm
{
    /// <summary>Weight rows per tile: one int32 lane each.</summary>
    public const int Rows = 8;

    /// <summary>Tokens per group: 4 float + 4–8 int accumulators beside 8 weight vectors fit the 32 vector registers of AVX-512 VL.</summary>
    public const int Tokens = 4;

    /// <summary>A block's correction as a type, so the JIT compiles one loop per kind: Q4_K's mins (B·Σx), Q8_0/Q4_0's offset·Σx, or Q6_K's two scaled halves.</summary>
    private interface ITerm { static abstract bool Mins { get; } static abstract bool Halves { get; } }
    private readonly struct MinTerm : ITerm { public static bool Mins => true; public static bool Halves => false; }
    private readonly struct OffsetTerm : ITerm { public static bool Mins => false; public static bool Halves => false; }
    private readonly struct HalfTerm : ITerm { public static bool Mins => false; public static bool Halves => true; }

    /// <summary>Group width as a type, so the JIT drops tokens 1..3 from the one-token (decode) kernels.</summary>
    private interface IWidth { static abstract bool Four { get; } }
    private readonly struct OneToken : IWidth { public static bool Four => false; }
    private readonly struct FourTokens : IWidth { public static bool Four => true; }

    /// <summary>Whether <paramref name="path"/> has a tiled kernel for <paramref name="type"/>.</summary>
    public static bool Supports(KernelPath path, DType type) => QuantDot.Supports(type) && path switch
    {
        KernelPath.Vnni => true,
        // vpmaddubsw saturates int16 at 2·255·127 for Q8_0's bytes + 128; that type keeps its per-token sign-trick kernel there.
        KernelPath.Avx2 or KernelPath.Avx512BW => type != DType.Q8_0,
        _ => false,
    };

    /// <summary>
    /// y[t·ys + r] for rows r0..r1 (at most <see cref="Rows"/>) of <paramref name="w"/> and all tokens of <paramref name="x"/>.
    /// <paramref name="tile"/>: <see cref="TileBytes"/> of scratch.
    /// </summary>
    public static void Tile(KernelPath path, WeightTensor w, int r0, int r1, Q8TokenGroups x, int tokens, float* y, long ys, byte* tile)
    {
        Repack(w, r0, r1, tile);
        int nb = x.Blocks, n = r1 - r0;
        var type = w.Type;
        bool vnni = path == KernelPath.Vnni;
        int g = 0;
        // Two groups at a time: each weight vector then serves 8 tokens.
        if (tokens > Tokens)
        {
            var acc = stackalloc Vector256<float>[2 * Tokens];
            for (; g + 1 < x.Groups; g += 2)
            {
                Q8Group gx = x.Group(g), gz = x.Group(g + 1);
                switch (type)
                {
                    case DType.Q8_0 or DType.Q4_0:
                        if (vnni) Eight<VnniDot, OffsetTerm>(tile, nb, gx, gz, acc); else Eight<Avx2Dot, OffsetTerm>(tile, nb, gx, gz, acc);
                        break;
                    case DType.Q4_K:
                        if (vnni) Eight<VnniDot, MinTerm>(tile, nb, gx, gz, acc); else Eight<Avx2Dot, MinTerm>(tile, nb, gx, gz, acc);
                        break;
                    default:
                        if (vnni) Eight<VnniDot, HalfTerm>(tile, nb, gx, gz, acc); else Eight<Avx2Dot, HalfTerm>(tile, nb, gx, gz, acc);
                        break;
                }
                int t0 = g * Tokens;
                for (int j = 0; j < 2 * Tokens; j++) Store(acc[j], y + (t0 + j) * ys + r0, n, t0 + j < tokens);
            }
        }
        for (; g < x.Groups; g++)
        {
            var grp = x.Group(g);
            Vector256<float> a0, a1, a2, a3;
            // One token (decode) runs token 0's operations only; each token's result is the same in either width.
            if (tokens == 1) Run<OneToken>(type, vnni, tile, nb, grp, out a0, out a1, out a2, out a3);
            else Run<FourTokens>(type, vnni, tile, nb, grp, out a0, out a1, out a2, out a3);
            int t = g * Tokens;
            float* yt = y + t * ys + r0;
            Store(a0, yt, n, t < tokens);
            Store(a1, yt + ys, n, t + 1 < tokens);
            Store(a2, yt + 2 * ys, n, t + 2 < tokens);
            Store(a3, yt + 3 * ys, n, t + 3 < tokens);
        }
    }

    private static void Run<W>(DType type, bool vnni, byte* tile, int nb, Q8Group grp, out Vector256<float> a0, out Vector256<float> a1,
        out Vector256<float> a2, out Vector256<float> a3) where W : IWidth
    {
        switch (type)
        {
            case DType.Q8_0 or DType.Q4_0:
                if (vnni) Offset<VnniDot, W>(tile, nb, grp, out a0, out a1, out a2, out a3);
                else Offset<Avx2Dot, W>(tile, nb, grp, out a0, out a1, out a2, out a3);
                break;
            case DType.Q4_K:
                if (vnni) Mins<VnniDot, W>(tile, nb, grp, out a0, out a1, out a2, out a3);
                else Mins<Avx2Dot, W>(tile, nb, grp, out a0, out a1, out a2, out a3);
                break;
            default:
                if (vnni) Halves<VnniDot, W>(tile, nb, grp, out a0, out a1, out a2, out a3);
                else Halves<Avx2Dot, W>(tile, nb, grp, out a0, out a1, out a2, out a3);
                break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(Vector256<float> a, float* y, int n, bool valid)
    {
        if (!valid) return;
        if (n == Rows) a.Store(y);
        else for (int r = 0; r < n; r++) y[r] = a.GetElement(r);
    }

    /// <summary>A tile block's 8 weight vectors: vector q holds values 4q..4q+3 of the 8 rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void LoadBlock(byte* wb, out Vector256<byte> w0, out Vector256<byte> w1, out Vector256<byte> w2, out Vector256<byte> w3,
        out Vector256<byte> w4, out Vector256<byte> w5, out Vector256<byte> w6, out Vector256<byte> w7)
    {
        w0 = Vector256.Load(wb);
        w1 = Vector256.Load(wb + 32);
        w2 = Vector256.Load(wb + 64);
        w3 = Vector256.Load(wb + 96);
        w4 = Vector256.Load(wb + 128);
        w5 = Vector256.Load(wb + 160);
        w6 = Vector256.Load(wb + 192);
        w7 = Vector256.Load(wb + 224);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<sbyte> Broadcast(sbyte* x) => Vector256.Create(*(int*)x).AsSByte();

    /// <summary>One token's block against the 8 rows: values 0..15 and 16..31 in two int32 chains (Q6_K scales them apart).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Dot<T>(Vector256<byte> w0, Vector256<byte> w1, Vector256<byte> w2, Vector256<byte> w3,
        Vector256<byte> w4, Vector256<byte> w5, Vector256<byte> w6, Vector256<byte> w7, sbyte* x,
        out Vector256<int> lo, out Vector256<int> hi) where T : IDotU8S8
    {
        var i = T.Dot(w0, Broadcast(x));
        var k = T.Dot(w4, Broadcast(x + 16));
        i = T.DotAdd(i, w1, Broadcast(x + 4));
        k = T.DotAdd(k, w5, Broadcast(x + 20));
        i = T.DotAdd(i, w2, Broadcast(x + 8));
        k = T.DotAdd(k, w6, Broadcast(x + 24));
        lo = T.DotAdd(i, w3, Broadcast(x + 12));
        hi = T.DotAdd(k, w7, Broadcast(x + 28));
    }

    /// <summary>One token's block against the 8 rows as one int32 sum (Q8_0, Q4_0, Q4_K: one scale per block, and int32 sums are exact in any order).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Dot<T>(Vector256<byte> w0, Vector256<byte> w1, Vector256<byte> w2, Vector256<byte> w3,
        Vector256<byte> w4, Vector256<byte> w5, Vector256<byte> w6, Vector256<byte> w7, sbyte* x) where T : IDotU8S8
    {
        // The two chains of four, added: one chain of eight dependent vpdpbusd measured slower for Q4_K.
        Dot<T>(w0, w1, w2, w3, w4, w5, w6, w7, x, out var lo, out var hi);
        return lo + hi;
    }

    /// <summary>
    /// Groups <paramref name="x"/> and <paramref name="z"/> (8 tokens) over the tile: the weight vectors are loaded once per 8
    /// tokens instead of 4. Each token's result is bit-identical to the 4-token kernels': the int32 block sums are exact, and
    /// the float steps are the same.
    /// </summary>
    private static void Eight<T, K>(byte* tile, int nb, Q8Group x, Q8Group z, Vector256<float>* acc) where T : IDotU8S8 where K : ITerm
    {
        float* scales = (float*)(tile + (long)nb * TileBlockBytes);
        Vector256<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default, c6 = default, c7 = default;
        for (int b = 0; b < nb; b++)
        {
            LoadBlock(tile + (long)b * TileBlockBytes, out var w0, out var w1, out var w2, out var w3, out var w4, out var w5, out var w6, out var w7);
            var s = Vector256.Load(scales + b * 2 * Rows);
            var m = K.Mins || K.Halves ? Vector256.Load(scales + b * 2 * Rows + Rows) : default;   // mins, or the second half's scales
            sbyte* xb = x.Qs + (long)b * 128, zb = z.Qs + (long)b * 128;
            float* dx = x.D + b * 4, dz = z.D + b * 4, sx = x.DSum + b * 4, sz = z.DSum + b * 4;
            int* ox = x.Off + b * 8, oz = z.Off + b * 8;
            // Each token's sums go into its accumulator at once: eight tokens' int32 results held together would spill.
            c0 = Token<T, K>(w0, w1, w2, w3, w4, w5, w6, w7, xb, s, m, dx, sx, ox, 0, c0);
            c1 = Token<T, K>(w0, w1, w2, w3, w4, w5, w6, w7, xb + 32, s, m, dx, sx, ox, 1, c1);
            c2 = Token<T, K>(w0, w1, w2, w3, w4, w5, w6, w7, xb + 64, s, m, dx, sx, ox, 2, c2);
            c3 = Token<T, K>(w0, w1, w2, w3, w4, w5, w6, w7, xb + 96, s, m, dx, sx, ox, 3, c3);
            c4 = Token<T, K>(w0, w1, w2, w3, w4, w5, w6, w7, zb, s, m, dz, sz, oz, 0, c4);
            c5 = Token<T, K>(w0, w1, w2, w3, w4, w5, w6, w7, zb + 32, s, m, dz, sz, oz, 1, c5);
            c6 = Token<T, K>(w0, w1, w2, w3, w4, w5, w6, w7, zb + 64, s, m, dz, sz, oz, 2, c6);
            c7 = Token<T, K>(w0, w1, w2, w3, w4, w5, w6, w7, zb + 96, s, m, dz, sz, oz, 3, c7);
        }
        acc[0] = c0; acc[1] = c1; acc[2] = c2; acc[3] = c3; acc[4] = c4; acc[5] = c5; acc[6] = c6; acc[7] = c7;
    }

    /// <summary>
    /// Token <paramref name="j"/> of a group against the block: acc + A·dx·Σux − B·Σx (Q4_K's mins), acc + A·dx·(Σux − offset·Σx)
    /// (Q8_0, Q4_0), or Q6_K's two halves (<see cref="Half"/>), in the same float steps as the 4-token kernels. Arrays another kind
    /// uses are not read (they may not be filled).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Token<T, K>(Vector256<byte> w0, Vector256<byte> w1, Vector256<byte> w2, Vector256<byte> w3,
        Vector256<byte> w4, Vector256<byte> w5, Vector256<byte> w6, Vector256<byte> w7, sbyte* x,
        Vector256<float> s, Vector256<float> m, float* d, float* sum, int* offset, int j, Vector256<float> acc) where T : IDotU8S8 where K : ITerm
    {
        if (K.Halves)
        {
            Dot<T>(w0, w1, w2, w3, w4, w5, w6, w7, x, out var lo, out var hi);
            return Half(lo, hi, offset + 2 * j, s, m, d[j], acc);
        }
        var i = Dot<T>(w0, w1, w2, w3, w4, w5, w6, w7, x);
        return K.Mins
            ? Fma.MultiplyAddNegated(m, Vector256.Create(sum[j]), Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(i), s * Vector256.Create(d[j]), acc))
            : Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(i - Vector256.Create(offset[2 * j])), s * Vector256.Create(d[j]), acc);
    }

    /// <summary>Q8_0, Q4_0: y += A·dx·(Σ u·x − offset·Σx).</summary>
    private static void Offset<T, W>(byte* tile, int nb, Q8Group x, out Vector256<float> a0, out Vector256<float> a1,
        out Vector256<float> a2, out Vector256<float> a3) where T : IDotU8S8 where W : IWidth
    {
        float* scales = (float*)(tile + (long)nb * TileBlockBytes);
        // Locals, not the out parameters: those live in memory and would cost a load and store per block.
        Vector256<float> c0 = default, c1 = default, c2 = default, c3 = default;
        for (int b = 0; b < nb; b++)
        {
            LoadBlock(tile + (long)b * TileBlockBytes, out var w0, out var w1, out var w2, out var w3, out var w4, out var w5, out var w6, out var w7);
            var s = Vector256.Load(scales + b * 2 * Rows);
            sbyte* xb = x.Qs + (long)b * 128;
            float* d = x.D + b * 4;
            int* o = x.Off + b * 8;
            Dot<T>(w0, w1, w2, w3, w4, w5, w6, w7, xb, out var l0, out var h0);
            Vector256<int> l1 = default, h1 = default;
            if (W.Four) Dot<T>(w0, w1, w2, w3, w4, w5, w6, w7, xb + 32, out l1, out h1);
            Vector256<int> l2 = default, h2 = default;
            if (W.Four) Dot<T>(w0, w1, w2, w3, w4, w5, w6, w7, xb + 64, out l2, out h2);
            Vector256<int> l3 = default, h3 = default;
            if (W.Four) Dot<T>(w0, w1, w2, w3, w4, w5, w6, w7, xb + 96, out l3, out h3);
            c0 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(l0 + h0 - Vector256.Create(o[0])), s * Vector256.Create(d[0]), c0);
            if (W.Four) c1 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(l1 + h1 - Vector256.Create(o[2])), s * Vector256.Create(d[1]), c1);
            if (W.Four) c2 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(l2 + h2 - Vector256.Create(o[4])), s * Vector256.Create(d[2]), c2);
            if (W.Four) c3 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(l3 + h3 - Vector256.Create(o[6])), s * Vector256.Create(d[3]), c3);
        }
        a0 = c0; a1 = c1; a2 = c2; a3 = c3;
    }

    /// <summary>Q4_K: y += A·dx·Σ u·x − B·dx·Σx (A = d·sc, B = dmin·m).</summary>
    private static void Mins<T, W>(byte* tile, int nb, Q8Group x, out Vector256<float> a0, out Vector256<float> a1,
        out Vector256<float> a2, out Vector256<float> a3) where T : IDotU8S8 where W : IWidth
    {
        float* scales = (float*)(tile + (long)nb * TileBlockBytes);
        // Locals, not the out parameters: those live in memory and would cost a load and store per block.
        Vector256<float> c0 = default, c1 = default, c2 = default, c3 = default;
        for (int b = 0; b < nb; b++)
        {
            LoadBlock(tile + (long)b * TileBlockBytes, out var w0, out var w1, out var w2, out var w3, out var w4, out var w5, out var w6, out var w7);
            var s = Vector256.Load(scales + b * 2 * Rows);
            var m = Vector256.Load(scales + b * 2 * Rows + Rows);
            sbyte* xb = x.Qs + (long)b * 128;
            float* d = x.D + b * 4, ds = x.DSum + b * 4;
            Dot<T>(w0, w1, w2, w3, w4, w5, w6, w7, xb, out var l0, out var h0);
            Vector256<int> l1 = default, h1 = default;
            if (W.Four) Dot<T>(w0, w1, w2, w3, w4, w5, w6, w7, xb + 32, out l1, out h1);
            Vector256<int> l2 = default, h2 = default;
            if (W.Four) Dot<T>(w0, w1, w2, w3, w4, w5, w6, w7, xb + 64, out l2, out h2);
            Vector256<int> l3 = default, h3 = default;
            if (W.Four) Dot<T>(w0, w1, w2, w3, w4, w5, w6, w7, xb + 96, out l3, out h3);
            c0 = Fma.MultiplyAddNegated(m, Vector256.Create(ds[0]), Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(l0 + h0), s * Vector256.Create(d[0]), c0));
            if (W.Four) c1 = Fma.MultiplyAddNegated(m, Vector256.Create(ds[1]), Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(l1 + h1), s * Vector256.Create(d[1]), c1));
            if (W.Four) c2 = Fma.MultiplyAddNegated(m, Vector256.Create(ds[2]), Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(l2 + h2), s * Vector256.Create(d[2]), c2));
            if (W.Four) c3 = Fma.MultiplyAddNegated(m, Vector256.Create(ds[3]), Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(l3 + h3), s * Vector256.Create(d[3]), c3));
        }
        a0 = c0; a1 = c1; a2 = c2; a3 = c3;
    }

    /// <summary>Q6_K: each 16-value half has its own scale: y += A·dx·(Σ₀ u·x − 32Σ₀x) + B·dx·(Σ₁ u·x − 32Σ₁x).</summary>
    private static void Halves<T, W>(byte* tile, int nb, Q8Group x, out Vector256<float> a0, out Vector256<float> a1,
        out Vector256<float> a2, out Vector256<float> a3) where T : IDotU8S8 where W : IWidth
    {
        float* scales = (float*)(tile + (long)nb * TileBlockBytes);
        // Locals, not the out parameters: those live in memory and would cost a load and store per block.
        Vector256<float> c0 = default, c1 = default, c2 = default, c3 = default;
        for (int b = 0; b < nb; b++)
        {
            LoadBlock(tile + (long)b * TileBlockBytes, out var w0, out var w1, out var w2, out var w3, out var w4, out var w5, out var w6, out var w7);
            var sl = Vector256.Load(scales + b * 2 * Rows);
            var sh = Vector256.Load(scales + b * 2 * Rows + Rows);
            sbyte* xb = x.Qs + (long)b * 128;
            float* d = x.D + b * 4;
            int* o = x.Off + b * 8;
            Dot<T>(w0, w1, w2, w3, w4, w5, w6, w7, xb, out var l0, out var h0);
            Vector256<int> l1 = default, h1 = default;
            if (W.Four) Dot<T>(w0, w1, w2, w3, w4, w5, w6, w7, xb + 32, out l1, out h1);
            Vector256<int> l2 = default, h2 = default;
            if (W.Four) Dot<T>(w0, w1, w2, w3, w4, w5, w6, w7, xb + 64, out l2, out h2);
            Vector256<int> l3 = default, h3 = default;
            if (W.Four) Dot<T>(w0, w1, w2, w3, w4, w5, w6, w7, xb + 96, out l3, out h3);
            c0 = Half(l0, h0, o, sl, sh, d[0], c0);
            if (W.Four) c1 = Half(l1, h1, o + 2, sl, sh, d[1], c1);
            if (W.Four) c2 = Half(l2, h2, o + 4, sl, sh, d[2], c2);
            if (W.Four) c3 = Half(l3, h3, o + 6, sl, sh, d[3], c3);
        }
        a0 = c0; a1 = c1; a2 = c2; a3 = c3;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Half(Vector256<int> lo, Vector256<int> hi, int* o, Vector256<float> sl, Vector256<float> sh, float d, Vector256<float> acc)
    {
        var dx = Vector256.Create(d);
        acc = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(lo - Vector256.Create(o[0])), sl * dx, acc);
        return Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(hi - Vector256.Create(o[1])), sh * dx, acc);
    }
}
