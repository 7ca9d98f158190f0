using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using SharpSeek.Tensors;

namespace SharpSeek.Kernels;

/// <summary>Decodes one row of any supported weight type into float32.</summary>
public static unsafe class RowDecoder
{
    public static void Decode(WeightTensor w, long row, Span<float> dst)
    {
        if (w.Interleaved)
        {
            // A tied embedding in 8-row groups: one row back to the file's layout (a lookup per token, not a product).
            int bytes = checked((int)w.RowBytes);
            byte[]? rented = bytes > 4096 ? System.Buffers.ArrayPool<byte>.Shared.Rent(bytes) : null;
            Span<byte> buf = rented ?? stackalloc byte[bytes];
            fixed (byte* b = buf) RowGroups.RowBytes(w, row, b);
            GgmlQuants.DequantizeRow(w.Type, buf[..bytes], dst);
            if (rented is not null) System.Buffers.ArrayPool<byte>.Shared.Return(rented);
            return;
        }
        byte* p = w.RowPointer(row);
        int n = dst.Length;
        switch (w.Type)
        {
            case DType.F32:
                new ReadOnlySpan<float>(p, n).CopyTo(dst);
                break;
            case DType.F16:
                TensorPrimitives.ConvertToSingle(new ReadOnlySpan<Half>(p, n), dst);
                break;
            case DType.BF16:
                BFloat16.ToSingle(new ReadOnlySpan<ushort>(p, n), dst);
                break;
            case DType.F8E4M3:
                DecodeFp8(w, row, p, dst);
                break;
            default:
                GgmlQuants.DequantizeRow(w.Type, new ReadOnlySpan<byte>(p, checked((int)w.RowBytes)), dst);
                break;
        }
    }

    private static void DecodeFp8(WeightTensor w, long row, byte* p, Span<float> dst)
    {
        var table = Fp8E4M3.Table;
        var scales = w.Scales ?? throw new ModelFormatException($"{w.File}: FP8 tensor '{w.Name}' has no weight_scale_inv block scales");
        float* rs = scales.RowScales(w.RowOffset + row);
        int bs = scales.BlockSize;
        ref float d = ref MemoryMarshal.GetReference(dst);
        for (int c0 = 0, b = 0; c0 < dst.Length; c0 += bs, b++)
        {
            float s = rs[b];
            int end = Math.Min(c0 + bs, dst.Length);
            for (int c = c0; c < end; c++) System.Runtime.CompilerServices.Unsafe.Add(ref d, c) = table[p[c]] * s;
        }
    }
}
