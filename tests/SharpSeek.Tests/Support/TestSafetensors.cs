using System.Text;
using System.Text.Json;

namespace SharpSeek.Tests.Support;

/// <summary>Writes small safetensors files for tests, including deliberately broken ones.</summary>
public static class TestSafetensors
{
    public sealed record Tensor(string Name, string DType, long[] Shape, byte[] Data);

    public static Tensor F32(string name, long[] shape, Func<int, float> value)
    {
        long n = shape.Aggregate(1L, (a, b) => a * b);
        var data = new byte[n * 4];
        for (int i = 0; i < n; i++) BitConverter.TryWriteBytes(data.AsSpan(i * 4), value(i));
        return new Tensor(name, "F32", shape, data);
    }

    /// <summary>Header JSON as the format defines it, with offsets computed from the data.</summary>
    public static string Header(IEnumerable<Tensor> tensors)
    {
        var header = new Dictionary<string, object>();
        long offset = 0;
        foreach (var t in tensors)
        {
            header[t.Name] = new Dictionary<string, object> { ["dtype"] = t.DType, ["shape"] = t.Shape, ["data_offsets"] = new[] { offset, offset + t.Data.Length } };
            offset += t.Data.Length;
        }
        return JsonSerializer.Serialize(header);
    }

    /// <summary>Reads a well-formed file back into tensors (header order).</summary>
    public static List<Tensor> Read(string path)
    {
        var bytes = System.IO.File.ReadAllBytes(path);
        long n = BitConverter.ToInt64(bytes, 0);
        using var doc = JsonDocument.Parse(bytes.AsMemory(8, (int)n));
        var list = new List<Tensor>();
        foreach (var p in doc.RootElement.EnumerateObject())
        {
            if (p.Name == "__metadata__") continue;
            var off = p.Value.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()).ToArray();
            list.Add(new Tensor(p.Name, p.Value.GetProperty("dtype").GetString()!,
                p.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray(),
                bytes.AsSpan((int)(8 + n + off[0]), (int)(off[1] - off[0])).ToArray()));
        }
        return list;
    }

    public static void Write(string path, IReadOnlyList<Tensor> tensors, string? headerOverride = null, long? headerLengthOverride = null)
    {
        byte[] header = Encoding.UTF8.GetBytes(headerOverride ?? Header(tensors));
        using var f = File.Create(path);
        f.Write(BitConverter.GetBytes(headerLengthOverride ?? header.Length));
        f.Write(header);
        foreach (var t in tensors) f.Write(t.Data);
    }
}
