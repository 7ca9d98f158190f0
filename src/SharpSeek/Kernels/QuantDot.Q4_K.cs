using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace SharpSeek.Kernels;

/// <summary>
/// Q4_K weights (144-byte super-blocks of 256: fp16 d, fp16 dmin, 12 bytes of 6-bit (scale, min) pairs, 128 bytes of nibbles)
/// · Q8 activations. Each 32-value sub-block lines up with one activation block: d·sc·dx·Σq·x − dmin·m·dx·Σx.
/// (llama.cpp pairs Q4_K with 256-value Q8_K activations; our 32-value activation scales are at least as precise.)
/// </summary>
public static unsafe partial class QuantDot
{
    private const int Q4_KBytes = 144;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void ScaleMinK4(int j, byte* q, out int d, out int m)
    {
        if (j < 4)
        {
            d = q[j] & 63;
            m = q[j + 4] & 63;
        }
        else
        {
            d = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
            m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
        }
    }

    internal static float Q4_KReference(byte* w, Q8Row x, int superBlocks)
    {
        float sum = 0;
        for (int i = 0; i < superBlocks; i++)
        {
            byte* blk = w + i * Q4_KBytes;
            float d = HalfExact(blk), dmin = HalfExact(blk + 2);
            for (int k = 0; k < 8; k++)
            {
                ScaleMinK4(k, blk + 4, out int sc, out int m);
                byte* q = blk + 16 + (k / 2) * 32;
                int shift = (k & 1) * 4, b = i * 8 + k;
                sbyte* xq = x.Qs + b * 32;
                int s = 0;
                for (int j = 0; j < 32; j++) s += ((q[j] >> shift) & 0xF) * xq[j];
                sum += d * sc * x.D[b] * s - dmin * m * x.D[b] * x.Sum32[b];
            }
        }
        return sum;
    }

    private static float Q4_K<T>(byte* w, Q8Row x, int superBlocks) where T : IDotU8S8
    {
        var acc0 = Vector256<float>.Zero;
        var acc1 = Vector256<float>.Zero;
        var mask = Vector256.Create((byte)0x0F);
        float mins = 0;
        for (int i = 0; i < superBlocks; i++)
        {
            byte* blk = w + i * Q4_KBytes;
            float d = Half(blk), dmin = Half(blk + 2);
            for (int j = 0; j < 4; j++)
            {
                ScaleMinK4(2 * j, blk + 4, out int sc0, out int m0);
                ScaleMinK4(2 * j + 1, blk + 4, out int sc1, out int m1);
                int b = i * 8 + 2 * j;
                var v = Vector256.Load(blk + 16 + j * 32);
                var p0 = T.Dot(v & mask, Vector256.Load(x.Qs + b * 32));
                var p1 = T.Dot(Vector256.ShiftRightLogical(v, 4) & mask, Vector256.Load(x.Qs + b * 32 + 32));
                float dx0 = x.D[b], dx1 = x.D[b + 1];
                acc0 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(p0), Vector256.Create(d * sc0 * dx0), acc0);
                acc1 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(p1), Vector256.Create(d * sc1 * dx1), acc1);
                mins += dmin * (m0 * dx0 * x.Sum32[b] + m1 * dx1 * x.Sum32[b + 1]);
            }
        }
        return Vector256.Sum(acc0 + acc1) - mins;
    }

    private static float Q4_KAvx512(byte* w, Q8Row x, int superBlocks)
    {
        var acc = Vector512<float>.Zero;
        var mask = Vector256.Create((byte)0x0F);
        float mins = 0;
        for (int i = 0; i < superBlocks; i++)
        {
            byte* blk = w + i * Q4_KBytes;
            float d = Half(blk), dmin = Half(blk + 2);
            for (int j = 0; j < 4; j++)
            {
                ScaleMinK4(2 * j, blk + 4, out int sc0, out int m0);
                ScaleMinK4(2 * j + 1, blk + 4, out int sc1, out int m1);
                int b = i * 8 + 2 * j;
                var v = Vector256.Load(blk + 16 + j * 32);
                var p = DotAvx512(Vector512.Create(v & mask, Vector256.ShiftRightLogical(v, 4) & mask), Vector512.Load(x.Qs + b * 32));
                float dx0 = x.D[b], dx1 = x.D[b + 1];
                var scale = Vector512.Create(Vector256.Create(d * sc0 * dx0), Vector256.Create(d * sc1 * dx1));
                acc = Vector512.FusedMultiplyAdd(Vector512.ConvertToSingle(p), scale, acc);
                mins += dmin * (m0 * dx0 * x.Sum32[b] + m1 * dx1 * x.Sum32[b + 1]);
            }
        }
        return Vector512.Sum(acc) - mins;
    }
}
