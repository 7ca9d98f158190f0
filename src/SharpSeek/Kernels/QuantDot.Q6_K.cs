using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace SharpSeek.Kernels;

/// <summary>
/// Q6_K weights (210-byte super-blocks of 256: ql[128] low nibbles, qh[64] high 2 bits, int8 scales[16], fp16 d) · Q8 activations.
/// q (0..63) goes in unsigned; each int32 lane (4 values) is multiplied by its 16-value scale; −32 comes back through the
/// per-16 activation sums.
/// </summary>
public static unsafe partial class QuantDot
{
    private const int Q6_KBytes = 210;

    internal static float Q6_KReference(byte* w, Q8Row x, int superBlocks)
    {
        float sum = 0;
        for (int i = 0; i < superBlocks; i++)
        {
            byte* blk = w + i * Q6_KBytes;
            float d = HalfExact(blk + 208);
            sbyte* sc = (sbyte*)(blk + 192);
            for (int n = 0; n < 2; n++)
            {
                byte* ql = blk + n * 64, qh = blk + 128 + n * 32;
                for (int k = 0; k < 4; k++)
                {
                    int b = i * 8 + n * 4 + k;
                    sbyte* xq = x.Qs + b * 32;
                    int total = 0;
                    for (int half = 0; half < 2; half++)
                    {
                        int s = 0;
                        for (int l = half * 16; l < half * 16 + 16; l++)
                        {
                            int lo = k is 0 or 2 ? ql[l] : ql[l + 32];
                            lo = k < 2 ? lo & 0xF : lo >> 4;
                            int q = (lo | (((qh[l] >> (2 * k)) & 3) << 4)) - 32;
                            s += q * xq[l];
                        }
                        total += sc[n * 8 + 2 * k + half] * s;
                    }
                    sum += d * x.D[b] * total;
                }
            }
        }
        return sum;
    }

    /// <summary>The four 32-value groups (0..63 each) of one 128-value half of a super-block.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Q6_KGroups(byte* ql, byte* qh, out Vector256<byte> q0, out Vector256<byte> q1, out Vector256<byte> q2, out Vector256<byte> q3)
    {
        var m4 = Vector256.Create((byte)0x0F);
        var m2 = Vector256.Create((byte)0x03);
        var l0 = Vector256.Load(ql);
        var l1 = Vector256.Load(ql + 32);
        var h = Vector256.Load(qh);
        q0 = (l0 & m4) | Vector256.ShiftLeft(h & m2, 4);
        q1 = (l1 & m4) | Vector256.ShiftLeft(Vector256.ShiftRightLogical(h, 2) & m2, 4);
        q2 = Vector256.ShiftRightLogical(l0, 4) | Vector256.ShiftLeft(Vector256.ShiftRightLogical(h, 4) & m2, 4);
        q3 = Vector256.ShiftRightLogical(l1, 4) | Vector256.ShiftLeft(Vector256.ShiftRightLogical(h, 6), 4);
    }

    /// <summary>Σ over the 16-value groups of scale·Σx·dx: the −32 offset term of one super-block, before ·32·d.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Q6_KOffset(sbyte* sc, Q8Row x, int i)
    {
        // 16 scale·Σx products in int32 (exact), pairs summed to the 8 blocks, then ·dx in float.
        var p0 = Avx2.ConvertToVector256Int32(sc) * Vector256.Load(x.Sum16 + i * 16);
        var p1 = Avx2.ConvertToVector256Int32(sc + 8) * Vector256.Load(x.Sum16 + i * 16 + 8);
        // hadd gives blocks 0,1,4,5 | 2,3,6,7; the 64-bit permute puts them in order.
        var blocks = Avx2.Permute4x64(Avx2.HorizontalAdd(p0, p1).AsInt64(), 0b11_01_10_00).AsInt32();
        return Vector256.Sum(Vector256.ConvertToSingle(blocks) * Vector256.Load(x.D + i * 8));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Q6_KGroup<T>(Vector256<byte> q, sbyte* xq, sbyte* sc, float scale, Vector256<float> acc) where T : IDotU8S8
    {
        var lanes = Vector256.Create(Vector128.Create((int)sc[0]), Vector128.Create((int)sc[1]));
        var p = T.Dot(q, Vector256.Load(xq)) * lanes;
        return Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(p), Vector256.Create(scale), acc);
    }

    private static float Q6_K<T>(byte* w, Q8Row x, int superBlocks) where T : IDotU8S8
    {
        var acc0 = Vector256<float>.Zero;
        var acc1 = Vector256<float>.Zero;
        float offset = 0;
        for (int i = 0; i < superBlocks; i++)
        {
            byte* blk = w + i * Q6_KBytes;
            float d = Half(blk + 208);
            sbyte* sc = (sbyte*)(blk + 192);
            for (int n = 0; n < 2; n++)
            {
                Q6_KGroups(blk + n * 64, blk + 128 + n * 32, out var q0, out var q1, out var q2, out var q3);
                int b = i * 8 + n * 4;
                sbyte* xq = x.Qs + b * 32;
                sbyte* s = sc + n * 8;
                acc0 = Q6_KGroup<T>(q0, xq, s, d * x.D[b], acc0);
                acc1 = Q6_KGroup<T>(q1, xq + 32, s + 2, d * x.D[b + 1], acc1);
                acc0 = Q6_KGroup<T>(q2, xq + 64, s + 4, d * x.D[b + 2], acc0);
                acc1 = Q6_KGroup<T>(q3, xq + 96, s + 6, d * x.D[b + 3], acc1);
            }
            offset += d * Q6_KOffset(sc, x, i);
        }
        return Vector256.Sum(acc0 + acc1) - 32 * offset;
    }

    private static float Q6_KAvx512(byte* w, Q8Row x, int superBlocks)
    {
        var acc = Vector512<float>.Zero;
        float offset = 0;
        // Lane l of a 64-value pair holds values 4l..4l+3, i.e. scale l/4: bytes 0,0,0,0,1,1,1,1,2,2,2,2,3,3,3,3 of the scales.
        var spread = Vector128.Create((byte)0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3);
        var spreadB = spread + Vector128.Create((byte)4);
        for (int i = 0; i < superBlocks; i++)
        {
            byte* blk = w + i * Q6_KBytes;
            float d = Half(blk + 208);
            sbyte* sc = (sbyte*)(blk + 192);
            for (int n = 0; n < 2; n++)
            {
                Q6_KGroups(blk + n * 64, blk + 128 + n * 32, out var q0, out var q1, out var q2, out var q3);
                int b = i * 8 + n * 4;
                sbyte* xq = x.Qs + b * 32;
                var s8 = Vector128.CreateScalar(*(long*)(sc + n * 8)).AsSByte();
                var lanesA = Avx512F.ConvertToVector512Int32(Ssse3.Shuffle(s8, spread.AsSByte()));
                var lanesB = Avx512F.ConvertToVector512Int32(Ssse3.Shuffle(s8, spreadB.AsSByte()));
                var pA = DotAvx512(Vector512.Create(q0, q1), Vector512.Load(xq)) * lanesA;
                var pB = DotAvx512(Vector512.Create(q2, q3), Vector512.Load(xq + 64)) * lanesB;
                acc = Vector512.FusedMultiplyAdd(Vector512.ConvertToSingle(pA), Vector512.Create(Vector256.Create(d * x.D[b]), Vector256.Create(d * x.D[b + 1])), acc);
                acc = Vector512.FusedMultiplyAdd(Vector512.ConvertToSingle(pB), Vector512.Create(Vector256.Create(d * x.D[b + 2]), Vector256.Create(d * x.D[b + 3])), acc);
            }
            offset += d * Q6_KOffset(sc, x, i);
        }
        return Vector512.Sum(acc) - 32 * offset;
    }
}
