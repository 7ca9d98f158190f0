using System.Buffers.Binary;
using System.Text;
using SharpSeek.Formats.Gguf;
using SharpSeek.Tensors;

namespace SharpSeek.Tests.Gguf;

/// <summary>Broken or lying GGUF files give one clear <see cref="ModelFormatException"/> naming the file and the key or tensor; never a crash or a huge allocation.</summary>
public class GgufCorruptFileTests
{
    /// <summary>A small valid file: 3 keys (one string array), tensors "tensor.alpha" F32 [2, 32] and "tensor.beta" Q8_0 [1, 64].</summary>
    private static byte[] ValidFile()
    {
        var w = new GgufWriter()
            .Set("general.architecture", "test")
            .Set("test.name", "tiny")
            .Set("tokenizer.tokens", GgufValue.Array(["a", "b", "c"]))
            .AddTensor("tensor.alpha", [2, 32], Enumerable.Range(0, 64).Select(i => i * 0.5f).ToArray(), DType.F32)
            .AddTensor("tensor.beta", [1, 64], Enumerable.Range(0, 64).Select(i => i * 0.25f).ToArray(), DType.Q8_0);
        var ms = new MemoryStream();
        w.Write(ms);
        return ms.ToArray();
    }

    /// <summary>Byte offset of the tensor info that follows tensor name <paramref name="name"/> (its n_dims field).</summary>
    private static int InfoAfterName(byte[] file, string name)
    {
        byte[] n = Encoding.UTF8.GetBytes(name);
        int at = file.AsSpan().IndexOf(n);
        Assert.True(at > 0);
        return at + n.Length;
    }

    private static ModelFormatException OpenFails(byte[] bytes)
    {
        string path = TempFiles.Create();
        try
        {
            File.WriteAllBytes(path, bytes);
            var e = Assert.Throws<ModelFormatException>(() => { using var f = new GgufFile(path); });
            Assert.StartsWith(Path.GetFileName(path) + ":", e.Message);
            Assert.DoesNotContain('\n', e.Message);
            return e;
        }
        finally { TempFiles.Delete(path); }
    }

    private static byte[] With(byte[] file, Action<byte[]> patch)
    {
        var copy = (byte[])file.Clone();
        patch(copy);
        return copy;
    }

    [Fact]
    public void Valid_file_opens()
    {
        string path = TempFiles.Create();
        try
        {
            File.WriteAllBytes(path, ValidFile());
            using var f = new GgufFile(path);
            Assert.Equal([0.5f * 33], f.GetTensor("tensor.alpha").ToFloat32()[33..34]);
            Assert.Equal(2, f.Tensors.Count);
        }
        finally { TempFiles.Delete(path); }
    }

    [Fact]
    public void Truncated_files_are_reported()
    {
        byte[] ok = ValidFile();
        Assert.Contains("truncated", OpenFails(ok[..10]).Message);
        Assert.Contains("truncated", OpenFails(ok[..40]).Message);
        int info = InfoAfterName(ok, "tensor.beta");
        Assert.Contains("truncated", OpenFails(ok[..(info + 6)]).Message);
        var e = OpenFails(ok[..(ok.Length - 40)]); // data of the last tensor cut short
        Assert.Contains("tensor.beta", e.Message);
        Assert.Contains("beyond the end", e.Message);
        Assert.Contains("truncated", OpenFails([]).Message);
    }

    [Fact]
    public void Huge_string_length_is_refused_before_allocating()
    {
        var e = OpenFails(With(ValidFile(), b => BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(24), 0x7FFF_FFFF_FFFF_FFFF)));
        Assert.Contains("string length 9223372036854775807 exceeds", e.Message);
        int nameAt = ValidFile().AsSpan().IndexOf("test.name"u8);
        int valueLenAt = nameAt + "test.name".Length + 4;
        e = OpenFails(With(ValidFile(), b => BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(valueLenAt), 1UL << 40)));
        Assert.Contains("'test.name'", e.Message);
    }

    [Fact]
    public void Huge_counts_are_refused_before_allocating()
    {
        var e = OpenFails(With(ValidFile(), b => BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(8), 1UL << 50)));
        Assert.Contains("tensor count", e.Message);
        e = OpenFails(With(ValidFile(), b => BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(8), 1000)));
        Assert.Contains("tensor count is 1000, but only", e.Message);
        e = OpenFails(With(ValidFile(), b => BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(16), ulong.MaxValue)));
        Assert.Contains("metadata key/value count", e.Message);
        int arrAt = ValidFile().AsSpan().IndexOf("tokenizer.tokens"u8) + "tokenizer.tokens".Length + 4 + 4;
        e = OpenFails(With(ValidFile(), b => BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(arrAt), 1UL << 33)));
        Assert.Contains("array length of key 'tokenizer.tokens'", e.Message);
    }

    [Fact]
    public void Tensor_offset_out_of_range_is_reported()
    {
        byte[] ok = ValidFile();
        int offsetAt = InfoAfterName(ok, "tensor.alpha") + 4 + 2 * 8 + 4;
        var e = OpenFails(With(ok, b => BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(offsetAt), 1UL << 40)));
        Assert.Contains("'tensor.alpha'", e.Message);
        Assert.Contains("beyond the end of the file", e.Message);
        e = OpenFails(With(ok, b => BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(offsetAt), ulong.MaxValue - 31)));
        Assert.Contains("'tensor.alpha'", e.Message);
    }

    [Fact]
    public void Misaligned_tensor_offset_is_reported()
    {
        byte[] ok = ValidFile();
        int offsetAt = InfoAfterName(ok, "tensor.alpha") + 4 + 2 * 8 + 4;
        var e = OpenFails(With(ok, b => BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(offsetAt), 4)));
        Assert.Contains("'tensor.alpha' offset 4 is not a multiple of the alignment 32", e.Message);
    }

    [Fact]
    public void Unknown_type_ids_are_reported()
    {
        byte[] ok = ValidFile();
        int typeAt = InfoAfterName(ok, "tensor.alpha") + 4 + 2 * 8;
        var e = OpenFails(With(ok, b => BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(typeAt), 77)));
        Assert.Contains("'tensor.alpha' has unknown ggml type id 77", e.Message);
        int keyTypeAt = 24 + 8 + "general.architecture".Length;
        e = OpenFails(With(ok, b => BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(keyTypeAt), 13)));
        Assert.Contains("'general.architecture' has unknown value type 13", e.Message);
    }

    [Fact]
    public void Known_but_undecodable_types_open_and_fail_on_access_naming_tensor_and_type()
    {
        var w = new GgufWriter().AddTensor("blk.0.ffn_up.weight", [1, 256], new float[256], DType.F32);
        var ms = new MemoryStream();
        w.Write(ms);
        byte[] bytes = ms.ToArray();
        int typeAt = InfoAfterName(bytes, "blk.0.ffn_up.weight") + 4 + 2 * 8;
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(typeAt), (uint)GgmlType.Q5_K);
        string path = TempFiles.Create();
        try
        {
            File.WriteAllBytes(path, bytes);
            using var f = new GgufFile(path);
            Assert.Equal(176, f.Tensors[0].ByteLength);
            var e = Assert.Throws<ModelFormatException>(() => f.GetTensor("blk.0.ffn_up.weight"));
            Assert.Contains("'blk.0.ffn_up.weight' has ggml type Q5_K", e.Message);
            using var src = new GgufTensorSource(f);
            e = Assert.Throws<ModelFormatException>(() => src.Get("model.layers.0.mlp.up_proj.weight"));
            Assert.Contains("Q5_K", e.Message);
        }
        finally { TempFiles.Delete(path); }
    }

    [Fact]
    public void Other_header_lies_are_reported()
    {
        byte[] ok = ValidFile();
        Assert.Contains("not a GGUF file", OpenFails(With(ok, b => b[0] = (byte)'X')).Message);
        Assert.Contains("version 1", OpenFails(With(ok, b => BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(4), 1))).Message);
        Assert.Contains("big-endian", OpenFails(With(ok, b => BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(4), 3))).Message);
        int info = InfoAfterName(ok, "tensor.alpha");
        Assert.Contains("'tensor.alpha' has 5 dimensions", OpenFails(With(ok, b => BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(info), 5))).Message);
        Assert.Contains("'tensor.alpha' dimension 1", OpenFails(With(ok, b => BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(info + 12), ulong.MaxValue))).Message);
        Assert.Contains("overflows", OpenFails(With(ok, b => BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(info + 12), 1UL << 62))).Message);
        int betaInfo = InfoAfterName(ok, "tensor.beta");
        Assert.Contains("not a multiple of its block size 32", OpenFails(With(ok, b => BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(betaInfo + 4), 48))).Message);
        var dup = new MemoryStream();
        new GgufWriter().AddTensor("dup.x1", [32], new float[32], DType.F32).AddTensor("dup.x2", [32], new float[32], DType.F32).Write(dup);
        byte[] dupBytes = dup.ToArray();
        int second = InfoAfterName(dupBytes, "dup.x2");
        Assert.Contains("duplicate tensor name 'dup.x1'", OpenFails(With(dupBytes, b => b[second - 1] = (byte)'1')).Message);
    }

    [Fact]
    public void Bad_alignment_value_is_reported()
    {
        var w = new GgufWriter(64);
        var ms = new MemoryStream();
        w.Write(ms);
        byte[] bytes = ms.ToArray();
        int valueAt = bytes.AsSpan().IndexOf("general.alignment"u8) + "general.alignment".Length + 4;
        var e = OpenFails(With(bytes, b => BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(valueAt), 48)));
        Assert.Contains("'general.alignment' = 48 is not a power of two", e.Message);
    }

    [Fact]
    public void Thousands_of_random_mutations_never_crash()
    {
        byte[] ok = ValidFile();
        var rnd = new Random(20241128);
        string path = TempFiles.Create();
        int opened = 0, rejected = 0;
        try
        {
            for (int iter = 0; iter < 2000; iter++)
            {
                byte[] b = (byte[])ok.Clone();
                switch (rnd.Next(4))
                {
                    case 0: // flip a few bytes, mostly in the header
                        for (int k = rnd.Next(1, 4); k > 0; k--) b[rnd.Next(Math.Min(b.Length, 400))] ^= (byte)rnd.Next(1, 256);
                        break;
                    case 1: // overwrite an 8-byte field with a large or small value
                    {
                        int at = rnd.Next(Math.Min(b.Length, 400) - 8);
                        ulong v = rnd.Next(3) switch { 0 => (ulong)rnd.NextInt64(), 1 => (ulong)rnd.Next(0, 300), _ => ulong.MaxValue - (ulong)rnd.Next(64) };
                        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(at), v);
                        break;
                    }
                    case 2: // truncate
                        b = b[..rnd.Next(b.Length)];
                        break;
                    default: // overwrite a 4-byte field (types, dimension counts)
                    {
                        int at = rnd.Next(Math.Min(b.Length, 400) - 4);
                        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(at), (uint)rnd.Next(0, 64));
                        break;
                    }
                }
                File.WriteAllBytes(path, b);
                try
                {
                    using var f = new GgufFile(path);
                    using var src = new GgufTensorSource(f);
                    foreach (var name in src.Names)
                    {
                        try { _ = src.Get(name).ToFloat32(); }
                        catch (ModelFormatException) { }
                    }
                    opened++;
                }
                catch (ModelFormatException) { rejected++; }
            }
        }
        finally { TempFiles.Delete(path); }
        Assert.True(rejected > 500, $"only {rejected} of 2000 mutations rejected");
        Assert.True(opened > 50, $"only {opened} of 2000 mutations still opened");
    }
}
