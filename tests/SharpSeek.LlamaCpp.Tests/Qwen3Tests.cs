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

    public static TheoryData<string> QuantizedTypes => ["F16", "BF16", "Q8_0", "Q4_0", "Q4_K_M"];

    /// <summary>
    /// Every other type the engine reads, written by <c>convert</c> (F16/BF16 from a checkpoint in that dtype, the quantized
    /// ones with <c>--type</c> from F32). llama.cpp rounds the activations to the weights' partner type before each
    /// product (F16, BF16, Q8_0 or Q8_K blocks), the engine too for the quantized types, so the two agree closely but
    /// not to 1e-4: compared by top-1 and top-5 agreement, with max |Δ| reported. Prefill and decode separately. For
    /// Q4_K/Q6_K both take Q8_K activations as llama.cpp does, so Q4_K_M is held to 1e-4 like F32.
    /// </summary>
    [Theory, MemberData(nameof(QuantizedTypes))]
    public void Every_other_type_agrees_with_llama_cpp(string type)
    {
        using var dir = new TempDir();
        string hf = dir.File("hf"), gguf = dir.File($"qwen3-{type}.gguf");
        bool stored = type is "F16" or "BF16";
        RandomCheckpoint.Write(hf, new DenseShape { DType = stored ? type : "F32" });
        GgufExporter.Convert(hf, gguf, stored ? null : QuantizationPlan.Parse(type));
        using (var f = new GgufFile(gguf))
        {
            var types = f.Tensors.Where(t => t.Ne.Length == 2).Select(t => GgmlTypeInfo.Name(t.Type)).Distinct().Order().ToArray();
            string[] expected = type switch { "Q4_K_M" => ["Q4_K", "Q6_K"], _ => [type] };
            Assert.Equal(expected, types);
        }
        var want = LlamaCpp.Logits(gguf, Tokens);
        var got = Logits.Ours(gguf, Tokens);
        var c = Logits.Compare(got, want, 512);
        var d = Logits.Compare(Logits.Ours(gguf, Tokens, decode: true), want, 512);
        Report(type + " prefill", c, Logits.Rms(want));
        Report(type + " decode", d, Logits.Rms(want));
        if (stored)
        {
            // The same F16/BF16 values through the Hugging Face loader.
            var fromHf = Logits.Compare(Logits.Ours(hf, Tokens), got, 512);
            Assert.True(fromHf.MaxAbs <= 1e-5, $"{type} safetensors vs GGUF: max |Δlogit| {fromHf.MaxAbs}");
        }
        foreach (var (mode, x) in new[] { ("prefill", c), ("decode", d) })
        {
            Assert.True(x.Top1Agree >= x.Positions - 2, $"{mode}: top-1 agreement {x.Top1Agree}/{x.Positions}");
            Assert.True(x.Top5Overlap >= 4.5, $"{mode}: top-5 overlap {x.Top5Overlap}");
            if (type == "Q4_K_M") Assert.True(x.MaxAbs <= 1e-4, $"{mode}: max |Δlogit| {x.MaxAbs} with Q8_K activations on both sides");
        }
    }

    /// <summary>
    /// DeepSeek-R1-0528-Qwen3-8B's <c>rope_scaling</c> exactly as its config.json has it: YaRN ×4 from 32768, plus
    /// <c>attn_factor</c> 0.878 (= 1/(1 + 0.1·ln 4), vLLM's key, which would cancel YaRN's attention factor there). Hugging
    /// Face transformers does not read that key, and llama.cpp's qwen3 does not read the GGUF key its converter writes for
    /// it (<c>rope.scaling.yarn_attn_factor</c>); both scale cos/sin by 1 + 0.1·ln 4, and so does the engine. Checked
    /// against llama.cpp on the file as <c>convert</c> writes it and with llama.cpp's converter's extra key.
    /// </summary>
    [Fact]
    public void R1_0528_Qwen3_8B_yarn_rope_scaling_matches_llama_cpp()
    {
        using var dir = new TempDir();
        string hf = dir.File("hf"), gguf = dir.File("yarn.gguf"), withKey = dir.File("yarn-attn-factor.gguf"), plain = dir.File("plain.gguf");
        RandomCheckpoint.Write(hf, new DenseShape
        {
            RopeScaling = new() { ["attn_factor"] = 0.8782488562869419, ["factor"] = 4.0, ["original_max_position_embeddings"] = 32768, ["rope_type"] = "yarn" },
        });
        GgufExporter.Convert(hf, gguf, null);
        using (var f = new GgufFile(gguf))
        {
            Assert.Equal("yarn", f.GetString("qwen3.rope.scaling.type"));
            Assert.Equal(32768L, f.GetInteger("qwen3.rope.scaling.original_context_length"));
        }
        GgufEdit.WithMetadata(gguf, withKey, new Dictionary<string, GgufValue?> { ["qwen3.rope.scaling.yarn_attn_factor"] = GgufValue.Float32(0.8782488562869419f) });
        foreach (string file in (string[])[gguf, withKey])
        {
            var c = Logits.Compare(Logits.Ours(file, Tokens), LlamaCpp.Logits(file, Tokens), 512);
            Report("F32 YaRN " + Path.GetFileNameWithoutExtension(file), c, 1);
            Assert.True(c.MaxAbs <= 1e-4, $"{Path.GetFileName(file)}: max |Δlogit| {c.MaxAbs} against llama.cpp");
        }
        var fromHf = Logits.Compare(Logits.Ours(hf, Tokens), Logits.Ours(gguf, Tokens), 512);
        Assert.True(fromHf.MaxAbs <= 1e-5, $"safetensors vs GGUF with YaRN: max |Δlogit| {fromHf.MaxAbs}");
        // Not vacuous: without the scaling the same weights give other logits.
        GgufEdit.WithMetadata(gguf, plain, new Dictionary<string, GgufValue?> { ["qwen3.rope.scaling.type"] = null, ["qwen3.rope.scaling.factor"] = null });
        Assert.True(Logits.Compare(Logits.Ours(plain, Tokens), Logits.Ours(gguf, Tokens), 512).MaxAbs > 0.1, "YaRN changed nothing");
    }
}
