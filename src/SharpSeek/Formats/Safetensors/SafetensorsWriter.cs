using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace SharpSeek.Formats.Safetensors;

/// <summary>
/// Writes a <c>.safetensors</c> file: 8-byte little-endian header length, a JSON header (tensors in name order,
/// <c>__metadata__</c> first, padded with spaces to a multiple of 8 bytes), then the tensors' bytes back to back.
/// Float32 data may be stored as F32 or rounded to BF16 (round to nearest even).
/// </summary>
public sealed class SafetensorsWriter
{
    private readonly SortedDictionary<string, (string DType, long[] Shape, byte[] Data)> _tensors = new(StringComparer.Ordinal);

    /// <summary>String metadata written under <c>__metadata__</c> (<c>format: pt</c> by default, as PyTorch's writer does).</summary>
    public Dictionary<string, string> Metadata { get; } = new() { ["format"] = "pt" };

    /// <summary>Adds float32 data of <paramref name="shape"/>, stored as <paramref name="dtype"/> ("F32" or "BF16").</summary>
    public void Add(string name, ReadOnlySpan<float> data, long[] shape, string dtype = "F32")
    {
        long count = 1;
        foreach (long d in shape) count = checked(count * d);
        if (count != data.Length) throw new ArgumentException($"tensor '{name}': shape [{string.Join(", ", shape)}] holds {count} values, got {data.Length}");
        byte[] bytes = dtype switch
        {
            "F32" => MemoryMarshal.AsBytes(data).ToArray(),
            "BF16" => ToBf16(data),
            _ => throw new ArgumentException($"tensor '{name}': dtype {dtype} is not supported for writing (F32, BF16)"),
        };
        AddRaw(name, dtype, shape, bytes);
    }

    /// <summary>Adds already-encoded little-endian bytes of a safetensors dtype.</summary>
    public void AddRaw(string name, string dtype, long[] shape, byte[] data)
    {
        if (name == "__metadata__") throw new ArgumentException("'__metadata__' is reserved");
        int elem = SafetensorsFile.ElementSize(dtype);
        long count = 1;
        foreach (long d in shape) count = checked(count * d);
        if (elem == 0 || count * elem != data.Length) throw new ArgumentException($"tensor '{name}': {dtype} [{string.Join(", ", shape)}] needs {count * elem} bytes, got {data.Length}");
        if (!_tensors.TryAdd(name, (dtype, (long[])shape.Clone(), data))) throw new ArgumentException($"tensor '{name}' added twice");
    }

    public int Count => _tensors.Count;

    /// <summary>Writes the file (through a temporary file and a rename, so readers never see half a file).</summary>
    public void Save(string path)
    {
        using var header = new MemoryStream();
        using (var json = new Utf8JsonWriter(header))
        {
            json.WriteStartObject();
            if (Metadata.Count > 0)
            {
                json.WriteStartObject("__metadata__");
                foreach (var (k, v) in Metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal)) json.WriteString(k, v);
                json.WriteEndObject();
            }
            long offset = 0;
            foreach (var (name, (dtype, shape, data)) in _tensors)
            {
                json.WriteStartObject(name);
                json.WriteString("dtype", dtype);
                json.WriteStartArray("shape");
                foreach (long d in shape) json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + data.Length);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += data.Length;
            }
            json.WriteEndObject();
        }
        while (header.Length % 8 != 0) header.WriteByte((byte)' ');

        string temp = path + ".tmp";
        using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write))
        {
            Span<byte> len = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(len, (ulong)header.Length);
            file.Write(len);
            header.Position = 0;
            header.CopyTo(file);
            foreach (var (_, (_, _, data)) in _tensors) file.Write(data);
        }
        File.Move(temp, path, overwrite: true);
    }

    private static byte[] ToBf16(ReadOnlySpan<float> data)
    {
        var result = new byte[data.Length * 2];
        for (int i = 0; i < data.Length; i++)
        {
            uint bits = BitConverter.SingleToUInt32Bits(data[i]);
            ushort bf = float.IsNaN(data[i]) ? (ushort)0x7FC0 : (ushort)((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16);
            BinaryPrimitives.WriteUInt16LittleEndian(result.AsSpan(2 * i), bf);
        }
        return result;
    }
}
