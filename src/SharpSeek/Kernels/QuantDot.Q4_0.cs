using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace SharpSeek.Kernels;

/// <summary>
/// Q4_0 weights (18-byte blocks: fp16 d, 16 bytes of nibbles; value j low nibble, j+16 high) · Q8 activations.
/// Nibbles go in unsigned and the −8 offset comes back as −8·Σx per block.
/// </summary>
public static unsafe partial class QuantDot
{
    private const int Q4_0Bytes = 18;

    internal static float Q4_0Reference(byte* w, Q8Row x, int blocks)
    {
        float sum = 0;
        for (int b = 0; b < blocks; b++)
        {
            byte* blk = w + b * Q4_0Bytes;
            sbyte* xq = x.Qs + b * 32;
            int s = 0;
            for (int j = 0; j < 16; j++) s += ((blk[2 + j] & 0xF) - 8) * xq[j] + ((blk[2 + j] >> 4) - 8) * xq[j + 16];
            sum += s * (HalfExact(blk) * x.D[b]);
        }
        return sum;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<byte> Q4_0Nibbles(byte* blk)
    {
        var q = Vector128.Load(blk + 2);
        var m = Vector128.Create((byte)0x0F);
        return Vector256.Create(q & m, Vector128.ShiftRightLogical(q, 4) & m);
    }

    private static float Q4_0<T>(byte* w, Q8Row x, int blocks) where T : IDotU8S8
    {
        var acc0 = Vector256<float>.Zero;
        var acc1 = Vector256<float>.Zero;
        float offset = 0;
        int b = 0;
        for (; b + 1 < blocks; b += 2)
        {
            byte* blk = w + b * Q4_0Bytes;
            float s0 = Half(blk) * x.D[b], s1 = Half(blk + Q4_0Bytes) * x.D[b + 1];
            acc0 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(T.Dot(Q4_0Nibbles(blk), Vector256.Load(x.Qs + b * 32))), Vector256.Create(s0), acc0);
            acc1 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(T.Dot(Q4_0Nibbles(blk + Q4_0Bytes), Vector256.Load(x.Qs + b * 32 + 32))), Vector256.Create(s1), acc1);
            offset += s0 * x.Sum32[b] + s1 * x.Sum32[b + 1];
        }
        if (b < blocks)
        {
            byte* blk = w + b * Q4_0Bytes;
            float s0 = Half(blk) * x.D[b];
            acc0 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(T.Dot(Q4_0Nibbles(blk), Vector256.Load(x.Qs + b * 32))), Vector256.Create(s0), acc0);
            offset += s0 * x.Sum32[b];
        }
        return Vector256.Sum(acc0 + acc1) - 8 * offset;
    }

    private static float Q4_0Avx512(byte* w, Q8Row x, int blocks)
    {
        var acc = Vector512<float>.Zero;
        float offset = 0;
        int b = 0;
        for (; b + 1 < blocks; b += 2)
        {
            byte* blk = w + b * Q4_0Bytes;
            float s0 = Half(blk) * x.D[b], s1 = Half(blk + Q4_0Bytes) * x.D[b + 1];
            var u = Vector512.Create(Q4_0Nibbles(blk), Q4_0Nibbles(blk + Q4_0Bytes));
            var p = DotAvx512(u, Vector512.Load(x.Qs + b * 32));
            acc = Vector512.FusedMultiplyAdd(Vector512.ConvertToSingle(p), Vector512.Create(Vector256.Create(s0), Vector256.Create(s1)), acc);
            offset += s0 * x.Sum32[b] + s1 * x.Sum32[b + 1];
        }
        float sum = Vector512.Sum(acc);
        if (b < blocks)
        {
            byte* blk = w + b * Q4_0Bytes;
            float s0 = Half(blk) * x.D[b];
            sum += Vector256.Sum(Vector256.ConvertToSingle(Avx2Dot.Dot(Q4_0Nibbles(blk), Vector256.Load(x.Qs + b * 32)))) * s0;
            offset += s0 * x.Sum32[b];
        }
        return sum - 8 * offset;
    }
}
