using SharpSeek.Formats.Gguf;
using Xunit.Abstractions;

namespace SharpSeek.LlamaCpp.Tests;

/// <summary>
/// The dense DeepSeek releases other than Qwen3, each as a random-weight model of its architecture with its config's
/// attention and rope settings (sizes made small): written as a Hugging Face checkpoint, converted by <c>convert</c>, and
/// the engine's logits on that GGUF held against llama.cpp's (F32, ≤ 1e-4), and against the Hugging Face checkpoint
/// through the other loader. The rope settings are the releases' own: DeepSeek-LLM θ 10⁴; DeepSeek-Coder θ 10⁵ with
/// linear ×4; R1-Distill-Llama (Llama 3.1/3.3) θ 5·10⁵ with Llama-3 scaling ×8 from 8192; R1-Distill-Qwen (Qwen2.5)
/// q/k/v biases, θ 10⁴ (1.5B/7B) or 10⁶ (14B/32B).
/// </summary>
public sealed class DenseReleaseTests(ITestOutputHelper output)
{
    private static DenseShape Llama(int kvHeads, double theta, Dictionary<string, object>? scaling) => new()
    {
        Architecture = "LlamaForCausalLM", ModelType = "llama", QkNorm = false,
        Heads = 4, KvHeads = kvHeads, HeadDim = 64, RopeTheta = theta, RopeScaling = scaling,
    };

    public static TheoryData<string> Releases => ["DeepSeek-LLM-7B", "DeepSeek-LLM-67B", "DeepSeek-Coder-6.7B", "DeepSeek-Coder-33B", "R1-Distill-Llama-8B", "R1-Distill-Qwen-1.5B", "R1-Distill-Qwen-14B"];

    private static DenseShape Shape(string release) => release switch
    {
        // MHA (30 layers × 32 heads) / GQA (67B: 64 heads, 8 KV heads); no rope scaling.
        "DeepSeek-LLM-7B" => Llama(4, 10_000, null),
        "DeepSeek-LLM-67B" => Llama(2, 10_000, null),
        // 1.3B/6.7B are MHA, 33B is GQA (56 heads, 8 KV); all with linear rope scaling ×4 over θ 100000.
        "DeepSeek-Coder-6.7B" => Llama(4, 100_000, new() { ["type"] = "linear", ["factor"] = 4.0 }),
        "DeepSeek-Coder-33B" => Llama(2, 100_000, new() { ["type"] = "linear", ["factor"] = 4.0 }),
        "R1-Distill-Llama-8B" => Llama(2, 500_000, new()
        {
            ["rope_type"] = "llama3", ["factor"] = 8.0, ["low_freq_factor"] = 1.0, ["high_freq_factor"] = 4.0, ["original_max_position_embeddings"] = 8192,
        }),
        "R1-Distill-Qwen-1.5B" => new DenseShape
        {
            Architecture = "Qwen2ForCausalLM", ModelType = "qwen2", QkNorm = false, QkvBias = true,
            Heads = 4, KvHeads = 2, HeadDim = 64, RopeTheta = 10_000,
        },
        "R1-Distill-Qwen-14B" => new DenseShape
        {
            Architecture = "Qwen2ForCausalLM", ModelType = "qwen2", QkNorm = false, QkvBias = true,
            Heads = 4, KvHeads = 1, HeadDim = 64, RopeTheta = 1_000_000,
        },
        _ => throw new ArgumentException(release),
    };

    [Theory, MemberData(nameof(Releases))]
    public void F32_logits_match_llama_cpp(string release)
    {
        var shape = Shape(release);
        using var dir = new TempDir();
        string hf = dir.File("hf"), gguf = dir.File("model-f32.gguf");
        RandomCheckpoint.Write(hf, shape);
        GgufExporter.Convert(hf, gguf, null);
        var want = LlamaCpp.Logits(gguf, Qwen3Tests.Tokens);
        var got = Logits.Ours(gguf, Qwen3Tests.Tokens);
        var c = Logits.Compare(got, want, shape.Vocab);
        var fromHf = Logits.Compare(Logits.Ours(hf, Qwen3Tests.Tokens), got, shape.Vocab);
        string line = $"[dense-llamacpp] {release} ({shape.ModelType}): vs llama.cpp {c}; safetensors vs GGUF max |Δ| {fromHf.MaxAbs:0.000000} (logit rms {Logits.Rms(want):0.000})";
        output.WriteLine(line);
        Console.WriteLine(line);
        Assert.True(Logits.Rms(want) > 0.3, "llama.cpp's logits are nearly flat; the comparison would prove little");
        Assert.True(c.MaxAbs <= 1e-4, $"{release}: max |Δlogit| {c.MaxAbs} against llama.cpp");
        Assert.True(fromHf.MaxAbs <= 1e-4, $"{release}: safetensors vs GGUF max |Δlogit| {fromHf.MaxAbs}");
    }
}
