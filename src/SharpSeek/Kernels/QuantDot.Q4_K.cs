using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

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

    /// <summary>
    /// All eight 6-bit scales (bytes of <paramref name="scales"/>) and mins of a super-block at once, with ggml's 32-bit masks:
    /// a handful of integer ops instead of sixteen branchy byte extractions.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void ScalesMinsK4(byte* q, out ulong scales, out ulong mins)
    {
        const uint k1 = 0x3F3F3F3F, k2 = 0x0F0F0F0F, k3 = 0x03030303;
        uint u0 = *(uint*)q, u1 = *(uint*)(q + 4), u2 = *(uint*)(q + 8);
        scales = (u0 & k1) | (ulong)((u2 & k2) | (((u0 >> 6) & k3) << 4)) << 32;
        mins = (u1 & k1) | (ulong)(((u2 >> 4) & k2) | (((u1 >> 6) & k3) << 4)) << 32;
    }

    /// <summary>Σ over the 8 sub-blocks of m·dx·Σx, vectorized: the min term of one super-block, before ·dmin.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Q4_KMins(ulong mins, Q8Row x, int i, float dmin, Vector256<float> acc)
    {
        var m = Avx2.ConvertToVector256Int32(Vector128.CreateScalar(mins).AsByte());
        return Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(m * Vector256.Load(x.Sum32 + i * 8)), Vector256.Load(x.D + i * 8) * Vector256.Create(dmin), acc);
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
        var mins = Vector256<float>.Zero;
        var mask = Vector256.Create((byte)0x0F);
        for (int i = 0; i < superBlocks; i++)
        {
            byte* blk = w + i * Q4_KBytes;
            float d = Half(blk), dmin = Half(blk + 2);
            ScalesMinsK4(blk + 4, out ulong scales, out ulong m);
            mins = Q4_KMins(m, x, i, dmin, mins);
            for (int j = 0; j < 4; j++)
            {
                int sc0 = (byte)(scales >> (16 * j)), sc1 = (byte)(scales >> (16 * j + 8));
                int b = i * 8 + 2 * j;
                var v = Vector256.Load(blk + 16 + j * 32);
                var p0 = T.Dot(v & mask, Vector256.Load(x.Qs + b * 32));
                var p1 = T.Dot(Vector256.ShiftRightLogical(v, 4) & mask, Vector256.Load(x.Qs + b * 32 + 32));
                acc0 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(p0), Vector256.Create(d * sc0 * x.D[b]), acc0);
                acc1 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(p1), Vector256.Create(d * sc1 * x.D[b + 1]), acc1);
            }
        }
        return Vector256.Sum(acc0 + acc1) - Vector256.Sum(mins);
    }

    private static float Q4_KAvx512(byte* w, Q8Row x, int superBlocks)
    {
        var acc = Vector512<float>.Zero;
        var mins = Vector256<float>.Zero;
        var mask = Vector256.Create((byte)0x0F);
        for (int i = 0; i < superBlocks; i++)
        {
            byte* blk = w + i * Q4_KBytes;
            float d = Half(blk), dmin = Half(blk + 2);
            ScalesMinsK4(blk + 4, out ulong scales, out ulong m);
            mins = Q4_KMins(m, x, i, dmin, mins);
            for (int j = 0; j < 4; j++)
            {
                int sc0 = (byte)(scales >> (16 * j)), sc1 = (byte)(scales >> (16 * j + 8));
                int b = i * 8 + 2 * j;
                var v = Vector256.Load(blk + 16 + j * 32);
                var p = DotAvx512(Vector512.Create(v & mask, Vector256.ShiftRightLogical(v, 4) & mask), Vector512.Load(x.Qs + b * 32));
                var scale = Vector512.Create(Vector256.Create(d * sc0 * x.D[b]), Vector256.Create(d * sc1 * x.D[b + 1]));
                acc = Vector512.FusedMultiplyAdd(Vector512.ConvertToSingle(p), scale, acc);
            }
        }
        return Vector512.Sum(acc) - Vector256.Sum(mins);
    }
}
