using SharpSeek.Models;
using SharpSeek.Tests.Support;
using static SharpSeek.Tests.Support.TestSafetensors;

namespace SharpSeek.Tests.Engine;

/// <summary>Broken checkpoints and configs give one clear line naming the file and the tensor or key; nothing crashes.</summary>
public sealed class BadInputTests
{
    private static readonly string Source = GoldenData.Dir("v2lite-tiny");

    private static TempDir Copy() => new TempDir().CopyFrom(Source, "config.json", "model.safetensors");

    private static ModelFormatException Fails(string dir)
    {
        var e = Assert.ThrowsAny<SharpSeekException>(() => ModelLoader.Load(dir).Dispose());
        Assert.DoesNotContain('\n', e.Message);
        return Assert.IsType<ModelFormatException>(e);
    }

    private static void Rewrite(TempDir dir, Func<List<Tensor>, List<Tensor>> change)
    {
        var tensors = Read(dir.File("model.safetensors"));
        Write(dir.File("model.safetensors"), change(tensors));
    }

    [Fact]
    public void TruncatedFile()
    {
        using var dir = Copy();
        var bytes = File.ReadAllBytes(dir.File("model.safetensors"));
        File.WriteAllBytes(dir.File("model.safetensors"), bytes[..(bytes.Length / 2)]);
        var e = Fails(dir.Path);
        Assert.Contains("model.safetensors", e.Message);
        Assert.Contains("truncated", e.Message);
        Assert.Contains("tensor '", e.Message);
    }

    [Fact]
    public void FileShorterThanHeaderLength()
    {
        using var dir = Copy();
        File.WriteAllBytes(dir.File("model.safetensors"), [1, 2, 3]);
        Assert.Contains("too short", Fails(dir.Path).Message);
    }

    [Theory]
    [InlineData(long.MaxValue)]
    [InlineData(1L << 40)]
    [InlineData(-5L)]
    public void HeaderLengthBeyondFile(long claimed)
    {
        using var dir = Copy();
        var tensors = Read(dir.File("model.safetensors"));
        Write(dir.File("model.safetensors"), tensors, headerLengthOverride: claimed);
        var e = Fails(dir.Path);
        Assert.Contains("model.safetensors", e.Message);
        Assert.Contains("header length", e.Message);
    }

    [Fact]
    public void MalformedHeaderJson()
    {
        using var dir = Copy();
        Write(dir.File("model.safetensors"), [], headerOverride: "{\"a\": [1, 2");
        Assert.Contains("malformed JSON header", Fails(dir.Path).Message);
    }

    [Fact]
    public void OffsetsOutOfRange()
    {
        using var dir = Copy();
        var tensors = Read(dir.File("model.safetensors"));
        string header = Header(tensors).Replace("\"model.norm.weight\":{\"dtype\":\"F32\",\"shape\":[64],\"data_offsets\":[", "\"model.norm.weight\":{\"dtype\":\"F32\",\"shape\":[64],\"data_offsets\":[999999999,");
        int cut = header.IndexOf("999999999,", StringComparison.Ordinal);
        Assert.True(cut > 0, "test setup: norm entry not found");
        // Drop the original begin offset that followed our inserted number.
        int comma = header.IndexOf(',', cut + 10);
        header = header[..(cut + 10)] + header[(comma + 1)..];
        Write(dir.File("model.safetensors"), tensors, headerOverride: header);
        var e = Fails(dir.Path);
        Assert.Contains("model.norm.weight", e.Message);
    }

    [Fact]
    public void MissingTensor()
    {
        using var dir = Copy();
        Rewrite(dir, t => t.Where(x => x.Name != "model.layers.1.mlp.experts.5.up_proj.weight").ToList());
        var e = Fails(dir.Path);
        Assert.Contains("missing tensor 'model.layers.1.mlp.experts.5.up_proj.weight'", e.Message);
    }

    [Fact]
    public void ExtraTensor()
    {
        using var dir = Copy();
        Rewrite(dir, t => [.. t, F32("model.layers.0.self_attn.mystery.weight", [4], i => i)]);
        var e = Fails(dir.Path);
        Assert.Contains("unexpected tensor 'model.layers.0.self_attn.mystery.weight'", e.Message);
        Assert.Contains("model.safetensors", e.Message);
    }

    [Fact]
    public void MisshapedTensor()
    {
        using var dir = Copy();
        Rewrite(dir, t => t.Select(x => x.Name == "model.layers.0.self_attn.o_proj.weight" ? x with { Shape = [x.Shape[1], x.Shape[0]] } : x).ToList());
        var e = Fails(dir.Path);
        Assert.Contains("'model.layers.0.self_attn.o_proj.weight' has shape [48, 64], expected [64, 48]", e.Message);
    }

    [Fact]
    public void ByteSizeDisagreesWithShape()
    {
        using var dir = Copy();
        Rewrite(dir, t => t.Select(x => x.Name == "model.norm.weight" ? x with { Shape = [65] } : x).ToList());
        var e = Fails(dir.Path);
        Assert.Contains("model.norm.weight", e.Message);
        Assert.Contains("needs 260 bytes", e.Message);
    }

    [Fact]
    public void UnsupportedDType()
    {
        using var dir = Copy();
        Rewrite(dir, t => t.Select(x => x.Name == "model.norm.weight" ? x with { DType = "I32" } : x).ToList());
        var e = Fails(dir.Path);
        Assert.Contains("'model.norm.weight' has unsupported dtype I32", e.Message);
    }

    [Fact]
    public void Fp8WithoutScales()
    {
        using var dir = new TempDir().CopyFrom(GoldenData.Dir("v3-tiny-fp8"), "config.json", "model.safetensors");
        Rewrite(dir, t => t.Where(x => x.Name != "model.layers.0.self_attn.o_proj.weight_scale_inv").ToList());
        var e = Fails(dir.Path);
        Assert.Contains("'model.layers.0.self_attn.o_proj.weight' has no block scales", e.Message);
    }

    [Fact]
    public void Fp8ScalesOfWrongShape()
    {
        using var dir = new TempDir().CopyFrom(GoldenData.Dir("v3-tiny-fp8"), "config.json", "model.safetensors");
        Rewrite(dir, t => t.Select(x => x.Name == "model.layers.0.self_attn.o_proj.weight_scale_inv" ? x with { Shape = [x.Shape[1], x.Shape[0]] } : x).ToList());
        var e = Fails(dir.Path);
        Assert.Contains("o_proj.weight_scale_inv", e.Message);
        Assert.Contains("expected [2, 1]", e.Message);
    }

    [Fact]
    public void MalformedConfig()
    {
        using var dir = Copy();
        File.WriteAllText(dir.File("config.json"), "{ \"hidden_size\": 64, ");
        Assert.Contains("config.json: malformed JSON", Fails(dir.Path).Message);
    }

    [Fact]
    public void ConfigKeyOfWrongType()
    {
        using var dir = Copy();
        File.WriteAllText(dir.File("config.json"), File.ReadAllText(dir.File("config.json")).Replace("\"hidden_size\": 64", "\"hidden_size\": \"big\""));
        Assert.Contains("config.json: key 'hidden_size' must be a non-negative integer", Fails(dir.Path).Message);
    }

    [Fact]
    public void ConfigMissingKey()
    {
        using var dir = Copy();
        File.WriteAllText(dir.File("config.json"), File.ReadAllText(dir.File("config.json")).Replace("\"kv_lora_rank\": 32,", ""));
        Assert.Contains("config.json: missing key 'kv_lora_rank'", Fails(dir.Path).Message);
    }

    [Fact]
    public void UnsupportedArchitecture()
    {
        using var dir = Copy();
        File.WriteAllText(dir.File("config.json"), File.ReadAllText(dir.File("config.json"))
            .Replace("DeepseekV2ForCausalLM", "MambaForCausalLM").Replace("deepseek_v2", "mamba"));
        var e = Fails(dir.Path);
        Assert.Contains("unsupported architecture 'MambaForCausalLM'", e.Message);
        foreach (var a in ModelConfig.SupportedArchitectures) Assert.Contains(a, e.Message);
    }

    /// <summary>DeepSeek-V3.2 would load as V3 and attend densely where it was trained sparse: refused by name, in both formats.</summary>
    [Fact]
    public void DeepSeekV32SparseAttentionIsRefusedByName()
    {
        using var dir = Copy();
        File.WriteAllText(dir.File("config.json"), File.ReadAllText(dir.File("config.json"))
            .Replace("DeepseekV2ForCausalLM", "DeepseekV32ForCausalLM").Replace("deepseek_v2", "deepseek_v32"));
        var e = Fails(dir.Path);
        Assert.Contains("config.json: architecture 'DeepseekV32ForCausalLM' is DeepSeek-V3.2", e.Message);
        Assert.Contains("sparse attention (DSA", e.Message);

        string gguf = dir.File("v32.gguf");
        new SharpSeek.Formats.Gguf.GgufWriter().Set("general.architecture", "deepseek32").Write(gguf);
        e = Fails(gguf);
        Assert.Contains("v32.gguf: architecture 'deepseek32' (key 'general.architecture') is DeepSeek-V3.2", e.Message);
        Assert.Contains("not supported yet", e.Message);
    }

    [Fact]
    public void ConfigGroupsInconsistent()
    {
        using var dir = Copy();
        File.WriteAllText(dir.File("config.json"), File.ReadAllText(dir.File("config.json")).Replace("\"n_group\": 1", "\"n_group\": 3"));
        Assert.Contains("key 'n_group' (3) must divide n_routed_experts (8)", Fails(dir.Path).Message);
    }

    [Fact]
    public void IndexPointsToMissingShard()
    {
        using var dir = Copy();
        File.WriteAllText(dir.File("model.safetensors.index.json"), "{\"weight_map\": {\"model.norm.weight\": \"model-00002-of-00002.safetensors\"}}");
        var e = Fails(dir.Path);
        Assert.Contains("model-00002-of-00002.safetensors", e.Message);
        Assert.Contains("missing", e.Message);
    }

    [Fact]
    public void IndexEscapingTheDirectoryIsRefused()
    {
        using var dir = Copy();
        File.WriteAllText(dir.File("model.safetensors.index.json"), "{\"weight_map\": {\"model.norm.weight\": \"../model.safetensors\"}}");
        Assert.Contains("outside the model directory", Fails(dir.Path).Message);
    }

    [Fact]
    public void MalformedIndex()
    {
        using var dir = Copy();
        File.WriteAllText(dir.File("model.safetensors.index.json"), "[1,2");
        Assert.Contains("model.safetensors.index.json: malformed JSON", Fails(dir.Path).Message);
    }

    [Fact]
    public void ShardedCheckpointLoadsAndMatches()
    {
        // Split the fixture into two shards with an index: the same logits must come out.
        using var dir = new TempDir().CopyFrom(Source, "config.json");
        var tensors = Read(System.IO.Path.Combine(Source, "model.safetensors"));
        var first = tensors.Take(tensors.Count / 2).ToList();
        var second = tensors.Skip(tensors.Count / 2).ToList();
        Write(dir.File("model-00001-of-00002.safetensors"), first);
        Write(dir.File("model-00002-of-00002.safetensors"), second);
        var map = first.Select(t => $"\"{t.Name}\": \"model-00001-of-00002.safetensors\"")
            .Concat(second.Select(t => $"\"{t.Name}\": \"model-00002-of-00002.safetensors\""));
        File.WriteAllText(dir.File("model.safetensors.index.json"), "{\"metadata\": {}, \"weight_map\": {" + string.Join(",", map) + "}}");
        using var sharded = ModelLoader.Load(dir.Path);
        using var single = ModelLoader.Load(Source);
        int[] tokens = GoldenData.Tokens("v2lite-tiny")[..8];
        var a = new float[tokens.Length * single.Config.VocabSize];
        var b = new float[a.Length];
        sharded.Forward(sharded.CreateState(), tokens, a, allLogits: true);
        single.Forward(single.CreateState(), tokens, b, allLogits: true);
        Assert.Equal(b, a);
    }

    [Fact]
    public void CliReportsOneLineAndExitCode()
    {
        using var dir = Copy();
        File.WriteAllText(dir.File("config.json"), "not json");
        var err = new StringWriter();
        int rc = SharpSeek.Cli.CliApp.Run(["info", "--model", dir.Path], err);
        Assert.Equal(1, rc);
        string text = err.ToString().TrimEnd();
        Assert.StartsWith("error: config.json: malformed JSON", text);
        Assert.DoesNotContain('\n', text);
    }
}
