using SharpSeek.Formats.Gguf;
using SharpSeek.Models;
using Xunit.Abstractions;

namespace SharpSeek.LlamaCpp.Tests;

/// <summary>
/// Qwen3 (<c>Qwen3ForCausalLM</c>, GGUF <c>qwen3</c>; DeepSeek-R1-0528-Qwen3-8B is one): a random-weight checkpoint of a
/// small Qwen3 shape, converted by <c>convert</c>, against llama.cpp's logits for the same file, and the Hugging Face
/// checkpoint against its GGUF through the engine's two loaders.
/// </summary>
public sealed class Qwen3Tests(ITestOutputHelper output)
{
    /// <summary>48 positions: BOS, then ids spread over the whole vocabulary (trained tokens and padding alike).</summary>
    internal static readonly int[] Tokens = [0, .. Enumerable.Range(1, 47).Select(i => (i * 197 + 31) % 512)];

    private void Report(string what, Comparison c, double logitRms)
    {
        string line = $"[qwen3-llamacpp] {what}: {c} (logit rms {logitRms:0.000})";
        output.WriteLine(line);
        Console.WriteLine(line);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void F32_logits_match_llama_cpp(bool tied)
    {
        using var dir = new TempDir();
        string hf = dir.File("hf"), gguf = dir.File("qwen3-f32.gguf");
        RandomCheckpoint.Write(hf, new DenseShape { Tied = tied });
        GgufExporter.Convert(hf, gguf, null);
        using (var f = new GgufFile(gguf))
        {
            Assert.Equal("qwen3", f.Architecture);
            Assert.Equal(GgmlType.F32, f.TensorsByName["blk.1.attn_q_norm.weight"].Type);
            Assert.Equal(128u, (ulong)f.GetInteger("qwen3.attention.key_length")!);
            Assert.Equal(!tied, f.ContainsTensor("output.weight"));
        }
        var want = LlamaCpp.Logits(gguf, Tokens);
        var got = Logits.Ours(gguf, Tokens);
        var c = Logits.Compare(got, want, 512);
        Report($"F32 {(tied ? "tied" : "untied")}", c, Logits.Rms(want));
        Assert.True(Logits.Rms(want) > 0.3, "llama.cpp's logits are nearly flat; the comparison would prove little");
        Assert.True(c.MaxAbs <= 1e-4, $"max |Δlogit| {c.MaxAbs} against llama.cpp");

        // The same weights through the Hugging Face loader.
        var fromHf = Logits.Compare(Logits.Ours(hf, Tokens), got, 512);
        Report($"F32 {(tied ? "tied" : "untied")} safetensors vs GGUF", fromHf, Logits.Rms(got));
        Assert.True(fromHf.MaxAbs <= 1e-5, $"safetensors vs GGUF: max |Δlogit| {fromHf.MaxAbs}");
    }
}
