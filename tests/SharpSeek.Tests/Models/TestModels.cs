using SharpSeek.Formats.Gguf;
using SharpSeek.Models;
using SharpSeek.Tests.Gguf;

namespace SharpSeek.Tests.Models;

/// <summary>
/// The fixture models the batch-invariance tests run on, by name: llama.cpp's GGUFs (DeepSeek MLA with and without q-LoRA, Qwen2
/// GQA with biases) in f32, q8_0 and q4_0; the same requantized to Q4_K_M (K-quant kernels on Q8_K activations); DeepSeek's own
/// safetensors checkpoints (kv_b_proj whole, F32 and FP8 with block scales); and one quantized file loaded in the file's layout
/// (groups packed on the fly).
/// </summary>
internal static class TestModels
{
    public static readonly string[] Names =
    [
        "tiny-ds2-v3-f32", "tiny-ds2-v3-q8_0", "tiny-ds2-v3-q4_0", "tiny-ds2-v3-Q4_K_M",
        "tiny-ds2-lite-f32", "tiny-ds2-lite-q4_0",
        "tiny-qwen2-f32", "tiny-qwen2-q8_0", "tiny-qwen2-q4_0", "tiny-qwen2-Q4_K_M",
        "deepseek/v3-tiny-fp8", "deepseek/v2lite-tiny", "tiny-ds2-lite-q8_0 (file layout)",
    ];

    private static readonly Dictionary<string, string> Requantized = [];
    private static readonly object Gate = new();

    public static Transformer Load(string name)
    {
        if (name.StartsWith("deepseek/", StringComparison.Ordinal)) return ModelLoader.Load(Fixtures.Path("deepseek", name["deepseek/".Length..]));
        if (name.EndsWith(" (file layout)", StringComparison.Ordinal))
            return ModelLoader.Load(Fixtures.Path("llamacpp", "models", name[..name.IndexOf(' ')] + ".gguf"), new LoadOptions { GroupRows = false });
        if (name.EndsWith("-Q4_K_M", StringComparison.Ordinal)) return ModelLoader.Load(Quantized(name[..^"-Q4_K_M".Length]));
        return ModelLoader.Load(Fixtures.Path("llamacpp", "models", name + ".gguf"));
    }

    /// <summary>The f32 fixture requantized to Q4_K_M once per test run (its 256-column matrices take Q4_K/Q6_K).</summary>
    private static string Quantized(string model)
    {
        lock (Gate)
        {
            if (Requantized.TryGetValue(model, out var path)) return path;
            path = TempFiles.Create();
            GgufExporter.Requantize(GgufFixtureTests.ModelPath(model, "f32"), path, QuantizationTarget.Q4_K_M);
            using (var f = new GgufFile(path))
                if (!f.Tensors.Any(t => t.Type is GgmlType.Q4_K or GgmlType.Q6_K)) throw new InvalidOperationException($"{model}: no K-quant tensor after requantization");
            Requantized[model] = path;
            return path;
        }
    }

    public static TheoryData<string> Cases => new(Names);
}
