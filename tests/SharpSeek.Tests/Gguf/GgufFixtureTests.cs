using SharpSeek.Formats.Gguf;
using SharpSeek.Tensors;

namespace SharpSeek.Tests.Gguf;

/// <summary>
/// The 12 llama.cpp oracle GGUFs: every file reads, quantized files decode close to the F32 file, and our encoders reproduce
/// them byte for byte. Only the F32 originals are committed; the others are derived from them and checked against the
/// originals' hashes when made (<see cref="DerivedGguf"/>), which is this last check done once per file. With
/// <c>SHARPSEEK_FIXTURES</c> naming the original set, the check here reads the independent writer's files.
/// </summary>
public class GgufFixtureTests
{
    public static readonly string[] Models = ["tiny-qwen2", "tiny-ds2-lite", "tiny-ds2-v3"];
    public static readonly string[] Types = ["f32", "f16", "q8_0", "q4_0"];

    public static TheoryData<string, string> AllFiles()
    {
        var d = new TheoryData<string, string>();
        foreach (var m in Models) foreach (var t in Types) d.Add(m, t);
        return d;
    }

    public static TheoryData<string, string> QuantizedFiles()
    {
        var d = new TheoryData<string, string>();
        foreach (var m in Models) foreach (var t in Types.Skip(1)) d.Add(m, t);
        return d;
    }

    internal static string ModelPath(string model, string type) => Fixtures.Path("llamacpp", "models", $"{model}-{type}.gguf");

    [Theory]
    [MemberData(nameof(AllFiles))]
    public void Reads_every_fixture_and_decodes_every_tensor(string model, string type)
    {
        string path = ModelPath(model, type);
        Assert.True(File.Exists(path), $"missing fixture {path}");
        using var f = new GgufFile(path);
        Assert.Equal(3u, f.Version);
        Assert.Equal(32, f.Alignment);
        Assert.Equal(model == "tiny-qwen2" ? "qwen2" : "deepseek2", f.Architecture);
        Assert.Equal(300, f.GetArray<string>("tokenizer.ggml.tokens")!.Length);
        Assert.Equal(40, f.GetArray<string>("tokenizer.ggml.merges")!.Length);
        Assert.Equal(300, f.GetArray<int>("tokenizer.ggml.token_type")!.Length);
        Assert.Equal(296, f.GetInteger("tokenizer.ggml.bos_token_id"));
        Assert.NotEmpty(f.Tensors);
        var expectedType = type switch { "f32" => GgmlType.F32, "f16" => GgmlType.F16, "q8_0" => GgmlType.Q8_0, _ => GgmlType.Q4_0 };
        Assert.Equal(expectedType, f.TensorsByName["token_embd.weight"].Type);
        foreach (var info in f.Tensors)
        {
            var t = f.GetTensor(info.Name);
            Assert.Equal(info.Shape, t.Shape);
            Assert.Equal(info.ByteLength, t.ByteLength);
            if (!t.ToFloat32().All(float.IsFinite)) Assert.Fail($"{info.Name}: non-finite value");
        }
    }

    [Theory]
    [MemberData(nameof(QuantizedFiles))]
    public void Quantized_files_decode_within_the_format_error_bound_of_the_f32_file(string model, string type)
    {
        using var f32 = new GgufFile(ModelPath(model, "f32"));
        using var q = new GgufFile(ModelPath(model, type));
        Assert.Equal(f32.Tensors.Select(t => t.Name), q.Tensors.Select(t => t.Name));
        int quantized = 0;
        foreach (var info in q.Tensors)
        {
            float[] want = f32.GetTensor(info.Name).ToFloat32();
            float[] got = q.GetTensor(info.Name).ToFloat32();
            Assert.Equal(want.Length, got.Length);
            if (info.Type == GgmlType.F32)
            {
                Assert.Equal(want, got);
                continue;
            }
            quantized++;
            int bs = info.Type == GgmlType.F16 ? 1 : 32;
            for (int b = 0; b < want.Length; b += bs)
            {
                float amax = 0;
                for (int j = b; j < b + bs; j++) amax = Math.Max(amax, Math.Abs(want[j]));
                for (int j = b; j < b + bs; j++)
                {
                    // F16: half an ulp (2^-11 relative); Q8_0: half a step (amax/254) plus the fp16 rounding of d times 127;
                    // Q4_0: the reference quantizer clips −max to +7/8·max, so up to amax/8, plus fp16 rounding of d.
                    double bound = info.Type switch
                    {
                        GgmlType.F16 => Math.Abs(want[j]) * Math.Pow(2, -11) + 1e-7,
                        GgmlType.Q8_0 => amax * (0.5 / 127 + Math.Pow(2, -11)) + 1e-9,
                        _ => amax * (1.0 / 8 + Math.Pow(2, -10)) + 1e-9,
                    };
                    if (!(Math.Abs(got[j] - want[j]) <= bound)) Assert.Fail($"{info.Name}[{j}]: {got[j]} vs {want[j]} (bound {bound})");
                }
            }
        }
        Assert.True(quantized > 10);
    }

    [Theory]
    [MemberData(nameof(QuantizedFiles))]
    public void Our_encoders_reproduce_the_fixture_payloads_byte_for_byte(string model, string type)
    {
        using var f32 = new GgufFile(ModelPath(model, "f32"));
        using var q = new GgufFile(ModelPath(model, type));
        int compared = 0;
        foreach (var info in q.Tensors)
        {
            var dtype = GgmlTypeInfo.ToDType(info.Type)!.Value;
            if (dtype == DType.F32) continue;
            byte[] ours = GgufEncoding.Encode(dtype, f32.GetTensor(info.Name).ToFloat32());
            byte[] theirs = q.GetTensorBytes(info).ToArray();
            Assert.True(theirs.AsSpan().SequenceEqual(ours), $"{info.Name} ({info.Type}) differs at byte {FirstDifference(ours, theirs)}");
            compared++;
        }
        Assert.True(compared > 10);
    }

    private static int FirstDifference(byte[] a, byte[] b)
    {
        for (int i = 0; i < Math.Min(a.Length, b.Length); i++) if (a[i] != b[i]) return i;
        return Math.Min(a.Length, b.Length);
    }
}
