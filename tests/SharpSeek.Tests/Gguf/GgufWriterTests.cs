using SharpSeek.Formats.Gguf;
using SharpSeek.Tensors;

namespace SharpSeek.Tests.Gguf;

public class GgufWriterTests
{
    public static TheoryData<DType, int> TypesAndAlignments()
    {
        var d = new TheoryData<DType, int>();
        foreach (var t in new[] { DType.F32, DType.F16, DType.BF16, DType.Q8_0, DType.Q4_0, DType.Q4_K, DType.Q6_K })
        {
            d.Add(t, 32);
            d.Add(t, 64);
        }
        return d;
    }

    [Theory]
    [MemberData(nameof(TypesAndAlignments))]
    public void Every_type_round_trips_through_writer_and_reader(DType type, int alignment)
    {
        var rnd = new Random((int)type * 31 + alignment);
        var a = Enumerable.Range(0, 3 * 512).Select(_ => (float)(rnd.NextDouble() - 0.5)).ToArray();
        var b = Enumerable.Range(0, 2 * 2 * 256).Select(_ => (float)(rnd.NextDouble() - 0.5)).ToArray();
        var odd = new float[] { 1, 2, 3 }; // F32 of 12 bytes forces padding before the next tensor
        string path = TempFiles.Create();
        try
        {
            new GgufWriter(alignment)
                .Set("general.architecture", "test")
                .AddTensor("a", [3, 512], a, type)
                .AddTensor("odd", [3], odd, DType.F32)
                .AddTensor("b", [2, 2, 256], b, type)
                .Write(path);
            using var f = new GgufFile(path);
            Assert.Equal(alignment, f.Alignment);
            Assert.Equal(0, f.DataOffset % alignment);
            Assert.Equal(["a", "odd", "b"], f.Tensors.Select(t => t.Name));
            Assert.All(f.Tensors, t => Assert.Equal(0, t.Offset % alignment));
            Assert.Equal(0, f.FileLength % alignment);
            var ta = f.GetTensor("a");
            Assert.Equal(type, ta.Type);
            Assert.Equal([3L, 512], ta.Shape);
            Assert.Equal([512L, 3], f.TensorsByName["a"].Ne);
            Assert.Equal([2L, 2, 256], f.GetTensor("b").Shape);
            Assert.Equal(GgufEncoding.Encode(type, a), f.GetTensorBytes(f.TensorsByName["a"]).ToArray());
            Assert.Equal(GgufEncoding.Encode(type, b), f.GetTensorBytes(f.TensorsByName["b"]).ToArray());
            Assert.Equal(odd, f.GetTensor("odd").ToFloat32());
            // Decoding what was written gives the values back within the type's precision.
            float[] back = ta.ToFloat32();
            double tol = type switch { DType.F32 => 0, DType.F16 => 3e-4, DType.BF16 => 2e-3, DType.Q8_0 => 3e-3, DType.Q6_K => 1e-2, _ => 0.08 };
            for (int i = 0; i < a.Length; i++)
                if (!(Math.Abs(back[i] - a[i]) <= tol)) Assert.Fail($"{type} [{i}] {back[i]} vs {a[i]}");
        }
        finally { TempFiles.Delete(path); }
    }

    [Fact]
    public void Metadata_of_every_value_type_round_trips_in_order()
    {
        string path = TempFiles.Create();
        try
        {
            var nested = GgufValue.Array(GgufValueType.Array, new[] { GgufValue.Array([1, 2]), GgufValue.Array(["x"]) });
            var w = new GgufWriter()
                .Set("u8", GgufValue.UInt8(200)).Set("i8", GgufValue.Int8(-100))
                .Set("u16", GgufValue.UInt16(60000)).Set("i16", GgufValue.Int16(-30000))
                .Set("u32", 4_000_000_000u).Set("i32", -2_000_000_000)
                .Set("f32", 1.5f).Set("bool", true).Set("str", "héllo ｜ wörld")
                .Set("u64", ulong.MaxValue).Set("i64", GgufValue.Int64(long.MinValue)).Set("f64", Math.PI)
                .Set("arr.str", GgufValue.Array(["a", "", "ç"]))
                .Set("arr.i32", GgufValue.Array([1, -2, 3]))
                .Set("arr.f32", GgufValue.Array([0.5f, -1f]))
                .Set("arr.bool", GgufValue.Array(GgufValueType.Bool, new[] { true, false }))
                .Set("arr.u8", GgufValue.Array(GgufValueType.UInt8, new byte[] { 1, 2, 255 }))
                .Set("arr.empty", GgufValue.Array(GgufValueType.Float64, Array.Empty<double>()))
                .Set("arr.nested", nested)
                .Set("u32", 7u); // replacing keeps the original position
            w.Write(path);
            using var f = new GgufFile(path);
            Assert.Equal(["u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "str", "u64", "i64", "f64", "arr.str", "arr.i32", "arr.f32", "arr.bool", "arr.u8", "arr.empty", "arr.nested"], f.MetadataKeys);
            Assert.Equal((byte)200, f.Metadata["u8"].Value);
            Assert.Equal((sbyte)-100, f.Metadata["i8"].Value);
            Assert.Equal((ushort)60000, f.Metadata["u16"].Value);
            Assert.Equal((short)-30000, f.Metadata["i16"].Value);
            Assert.Equal(7L, f.GetInteger("u32"));
            Assert.Equal(GgufValueType.UInt32, f.Metadata["u32"].Type);
            Assert.Equal(-2_000_000_000L, f.GetInteger("i32"));
            Assert.Equal(1.5, f.GetNumber("f32"));
            Assert.True(f.GetBool("bool"));
            Assert.Equal("héllo ｜ wörld", f.GetString("str"));
            Assert.Equal(ulong.MaxValue, f.Metadata["u64"].Value);
            Assert.Equal(long.MinValue, f.GetInteger("i64"));
            Assert.Equal(Math.PI, f.GetNumber("f64"));
            Assert.Equal(["a", "", "ç"], f.GetArray<string>("arr.str")!);
            Assert.Equal([1, -2, 3], f.GetArray<int>("arr.i32")!);
            Assert.Equal([0.5f, -1f], f.GetArray<float>("arr.f32")!);
            Assert.Equal([true, false], f.GetArray<bool>("arr.bool")!);
            Assert.Equal(new byte[] { 1, 2, 255 }, f.GetArray<byte>("arr.u8"));
            Assert.Empty(f.GetArray<double>("arr.empty")!);
            var n = f.GetArray<GgufValue>("arr.nested")!;
            Assert.Equal([1, 2], (int[])n[0].Value);
            Assert.Equal(["x"], (string[])n[1].Value);
            Assert.Empty(f.Tensors);
            var e = Assert.Throws<ModelFormatException>(() => f.GetString("u8"));
            Assert.Contains("key 'u8' must be a string", e.Message);
        }
        finally { TempFiles.Delete(path); }
    }

    [Theory]
    [InlineData("tiny-qwen2", "f32")]
    [InlineData("tiny-qwen2", "q4_0")]
    [InlineData("tiny-ds2-v3", "f16")]
    [InlineData("tiny-ds2-lite", "q8_0")]
    public void Rewriting_a_fixture_reproduces_its_bytes(string model, string type)
    {
        string src = GgufFixtureTests.ModelPath(model, type);
        string path = TempFiles.Create();
        try
        {
            using (var f = new GgufFile(src))
            {
                var w = new GgufWriter(f.Alignment);
                foreach (var key in f.MetadataKeys) w.Set(key, f.Metadata[key]);
                foreach (var t in f.Tensors)
                    w.AddTensor(t.Name, GgmlTypeInfo.ToDType(t.Type)!.Value, t.Shape, f.GetTensorBytes(t).ToArray());
                w.Write(path);
            }
            Assert.Equal(File.ReadAllBytes(src), File.ReadAllBytes(path));
        }
        finally { TempFiles.Delete(path); }
    }

    [Fact]
    public void Writer_rejects_bad_tensors()
    {
        var w = new GgufWriter();
        Assert.Throws<ArgumentException>(() => w.AddTensor("x", [4, 33], new float[132], DType.Q8_0)); // not whole blocks
        Assert.Throws<ArgumentException>(() => w.AddTensor("x", [4, 32], new float[100], DType.F32)); // wrong count
        Assert.Throws<ArgumentException>(() => w.AddTensor(new string('n', 64), [32], new float[32], DType.F32));
        Assert.Throws<ArgumentException>(() => w.AddTensor("x", DType.F8E4M3, [32], new byte[32]));
        w.AddTensor("x", [32], new float[32], DType.F32);
        Assert.Throws<ArgumentException>(() => w.AddTensor("x", [32], new float[32], DType.F32));
        w.AddTensor("short", DType.F32, [8], s => s.Write(new byte[8]));
        var e = Assert.Throws<InvalidOperationException>(() => w.Write(Stream.Null));
        Assert.Contains("'short'", e.Message);
        Assert.Throws<ArgumentException>(() => new GgufWriter(48));
    }
}
