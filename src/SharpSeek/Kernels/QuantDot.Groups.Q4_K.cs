using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace SharpSeek.Kernels;

/// <summary>
/// One token (Q8_K activations, <see cref="Q8KRow"/>) against a Q4_K group (<see cref="RowGroups"/>): per 32-value sub-block,
/// 8 <c>vpdpbusd</c> give the 8 rows' exact int32 nibble dots, and the (scale, min) pairs of all 8 rows are decoded once per
/// super-block with ggml's masks on vectors. As the activations have one scale per super-block, the scales multiply the dots
/// in int32 (|Σ sc·dot| ≤ 8·63·32·15·127 &lt; 2^25) and the mins the per-32 sums (<c>vpmaddwd</c>, two sub-blocks at once);
/// the two sums convert once per super-block: y += d·dx·Σ sc·dot − dmin·dx·Σ m·Σx.
/// </summary>
public static unsafe partial class QuantDot
{
    private const int Q4_KGroupBytes = RowGroups.Rows * Q4_KBytes;

    internal static void Q4_KGroupReference(byte* g, Q8KRow x, int superBlocks, float* y)
    {
        byte* q = stackalloc byte[12];
        for (int r = 0; r < RowGroups.Rows; r++)
        {
            float sum = 0;
            for (int i = 0; i < superBlocks; i++)
            {
                byte* sb = g + (long)i * Q4_KGroupBytes;
                float d = HalfExact(sb + 2 * r), dmin = HalfExact(sb + RowGroups.Q4_KDMin + 2 * r);
                for (int j = 0; j < 12; j++) q[j] = sb[RowGroups.Q4_KScales + 32 * (j / 4) + 4 * r + j % 4];
                int dots = 0, mins = 0;
                for (int k = 0; k < 8; k++)
                {
                    ScaleMinK4(k, q, out int sc, out int m);
                    sbyte* xq = x.Qs + i * 256 + k * 32;
                    int s = 0;
                    for (int j = 0; j < 32; j++)
                    {
                        byte v = sb[RowGroups.Q4_KQs + 256 * (k / 2) + 32 * (j / 4) + 4 * r + j % 4];
                        s += ((v >> (4 * (k & 1))) & 0xF) * xq[j];
                    }
                    dots += sc * s;
                    mins += m * (x.BSums[16 * i + 2 * k] + x.BSums[16 * i + 2 * k + 1]);
                }
                sum += d * x.D[i] * dots - dmin * x.D[i] * mins;
            }
            y[r] = sum;
        }
    }

    private static void Q4_KGroup<T>(byte* g, Q8KRow x, int superBlocks, float* y) where T : IDotU8S8
    {
        var acc = Vector256<float>.Zero;
        var mins = Vector256<float>.Zero;
        for (int i = 0; i < superBlocks; i++)
        {
            byte* sb = g + (long)i * Q4_KGroupBytes;
            Q4_KGroupScales(sb, out var scLo, out var scHi, out var mLo, out var mHi);
            byte* q = sb + RowGroups.Q4_KQs;
            sbyte* xq = x.Qs + i * 256;
            // Even and odd sub-blocks in separate sums, so the multiplies form two chains.
            Q4_KGroupPair<T>(q, xq, out var lo, out var hi);
            var s0 = lo * Q4_KByte(scLo, 0);
            var s1 = hi * Q4_KByte(scLo, 1);
            Q4_KGroupPair<T>(q + 256, xq + 64, out lo, out hi);
            s0 += lo * Q4_KByte(scLo, 2);
            s1 += hi * Q4_KByte(scLo, 3);
            Q4_KGroupPair<T>(q + 512, xq + 128, out lo, out hi);
            s0 += lo * Q4_KByte(scHi, 0);
            s1 += hi * Q4_KByte(scHi, 1);
            Q4_KGroupPair<T>(q + 768, xq + 192, out lo, out hi);
            s0 += lo * Q4_KByte(scHi, 2);
            s1 += hi * Q4_KByte(scHi, 3);
            var m = Q4_KMins(mLo, mHi, (int*)(x.Sum32 + 8 * i));
            var dx = Vector256.Create(x.D[i]);
            acc = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(s0 + s1), Halves8(sb) * dx, acc);
            mins = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(m), Halves8(sb + RowGroups.Q4_KDMin) * dx, mins);
        }
        (acc - mins).Store(y);
    }

    /// <summary>Byte <paramref name="j"/> of each lane as an int32 (one of the 8 rows' scales or mins).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Q4_KByte(Vector256<uint> v, int j) => (j switch
    {
        0 => v & Vector256.Create(0xFFu),
        3 => Vector256.ShiftRightLogical(v, 24),
        _ => Vector256.ShiftRightLogical(v, 8 * j) & Vector256.Create(0xFFu),
    }).AsInt32();

    /// <summary>
    /// Σ m·Σx over a super-block's 8 sub-blocks for the 8 rows: <c>vpshufb</c> spreads each lane's mins j, j+1 into int16
    /// words, and <c>vpmaddwd</c> against the broadcast int16 sums of sub-blocks j, j+1 adds both (|m·Σx| ≤ 63·32·127).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Q4_KMins(Vector256<uint> mLo, Vector256<uint> mHi, int* sum32Pairs)
    {
        var first = Vector256.Create((byte)0, 0x80, 1, 0x80, 4, 0x80, 5, 0x80, 8, 0x80, 9, 0x80, 12, 0x80, 13, 0x80,
            0, 0x80, 1, 0x80, 4, 0x80, 5, 0x80, 8, 0x80, 9, 0x80, 12, 0x80, 13, 0x80);
        var second = Vector256.Create((byte)2, 0x80, 3, 0x80, 6, 0x80, 7, 0x80, 10, 0x80, 11, 0x80, 14, 0x80, 15, 0x80,
            2, 0x80, 3, 0x80, 6, 0x80, 7, 0x80, 10, 0x80, 11, 0x80, 14, 0x80, 15, 0x80);
        var a = Avx2.MultiplyAddAdjacent(Avx2.Shuffle(mLo.AsByte(), first).AsInt16(), Vector256.Create(sum32Pairs[0]).AsInt16());
        var b = Avx2.MultiplyAddAdjacent(Avx2.Shuffle(mLo.AsByte(), second).AsInt16(), Vector256.Create(sum32Pairs[1]).AsInt16());
        a += Avx2.MultiplyAddAdjacent(Avx2.Shuffle(mHi.AsByte(), first).AsInt16(), Vector256.Create(sum32Pairs[2]).AsInt16());
        b += Avx2.MultiplyAddAdjacent(Avx2.Shuffle(mHi.AsByte(), second).AsInt16(), Vector256.Create(sum32Pairs[3]).AsInt16());
        return a + b;
    }

    /// <summary>
    /// <see cref="ScalesMinsK4"/> on the 8 rows' words at once: byte j of lane r is row r's scale (min) of sub-block j (Lo) or
    /// 4 + j (Hi).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Q4_KGroupScales(byte* sb, out Vector256<uint> scLo, out Vector256<uint> scHi, out Vector256<uint> mLo, out Vector256<uint> mHi)
    {
        var k1 = Vector256.Create(0x3F3F3F3Fu);
        var k2 = Vector256.Create(0x0F0F0F0Fu);
        var k3 = Vector256.Create(0x03030303u);
        var u0 = Vector256.Load((uint*)(sb + RowGroups.Q4_KScales));
        var u1 = Vector256.Load((uint*)(sb + RowGroups.Q4_KScales + 32));
        var u2 = Vector256.Load((uint*)(sb + RowGroups.Q4_KScales + 64));
        scLo = u0 & k1;
        scHi = (u2 & k2) | Vector256.ShiftLeft(Vector256.ShiftRightLogical(u0, 6) & k3, 4);
        mLo = u1 & k1;
        mHi = (Vector256.ShiftRightLogical(u2, 4) & k2) | Vector256.ShiftLeft(Vector256.ShiftRightLogical(u1, 6) & k3, 4);
    }

    /// <summary>
    /// One nibble pair (8 interleaved vectors): the 8 rows' dots of sub-block 2p (low nibbles, x at <paramref name="xq"/>) and
    /// 2p + 1 (high nibbles, x 32 further). Four chains of four, so consecutive <c>vpdpbusd</c> do not wait on each other.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Q4_KGroupPair<T>(byte* v, sbyte* xq, out Vector256<int> lo, out Vector256<int> hi) where T : IDotU8S8
    {
        var m = Vector256.Create((byte)0x0F);
        sbyte* xh = xq + 32;
        var p = Vector256.Load(v);
        var la = T.Dot(p & m, Broadcast4(xq, 0));
        var ha = T.Dot(Vector256.ShiftRightLogical(p.AsUInt16(), 4).AsByte() & m, Broadcast4(xh, 0));
        p = Vector256.Load(v + 128);
        var lb = T.Dot(p & m, Broadcast4(xq, 4));
        var hb = T.Dot(Vector256.ShiftRightLogical(p.AsUInt16(), 4).AsByte() & m, Broadcast4(xh, 4));
        for (int k = 1; k < 4; k++)
        {
            p = Vector256.Load(v + 32 * k);
            la = T.DotAdd(la, p & m, Broadcast4(xq, k));
            ha = T.DotAdd(ha, Vector256.ShiftRightLogical(p.AsUInt16(), 4).AsByte() & m, Broadcast4(xh, k));
            p = Vector256.Load(v + 128 + 32 * k);
            lb = T.DotAdd(lb, p & m, Broadcast4(xq, 4 + k));
            hb = T.DotAdd(hb, Vector256.ShiftRightLogical(p.AsUInt16(), 4).AsByte() & m, Broadcast4(xh, 4 + k));
        }
        lo = la + lb;
        hi = ha + hb;
    }
}
