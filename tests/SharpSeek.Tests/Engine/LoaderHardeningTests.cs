using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;
using SharpSeek.Diagnostics;
using SharpSeek.Formats.Gguf;
using SharpSeek.Models;
using SharpSeek.Tests.Support;
using static SharpSeek.Tests.Support.TestSafetensors;

namespace SharpSeek.Tests.Engine;

/// <summary>
/// Issue 17.6–17.9: inputs that used to load as garbage, allocate gigabytes, loop for minutes or escape as the wrong
/// exception are now one <see cref="ModelFormatException"/> naming the file and the key or tensor, at once.
/// The models are the fuzzer's seeds (<see cref="FuzzSeeds"/>): a tiny DeepSeek-V3 as safetensors and as GGUF.
/// </summary>
public sealed class LoaderHardeningTests : IDisposable
{
    private readonly TempDir _dir = new();

    public LoaderHardeningTests() => FuzzSeeds.WriteHuggingFace(_dir.Path);

    public void Dispose() => _dir.Dispose();

    private ModelFormatException Fails(string? path = null)
    {
        var clock = Stopwatch.StartNew();
        var e = Assert.ThrowsAny<Exception>(() => ModelLoader.Load(path ?? _dir.Path).Dispose());
        Assert.True(e is ModelFormatException, $"expected a ModelFormatException, got {e.GetType().Name}: {e.Message}");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"the refusal took {clock.Elapsed}");
        Assert.DoesNotContain('\n', e.Message);
        return (ModelFormatException)e;
    }

    private void EditConfig(string from, string to)
    {
        string text = File.ReadAllText(_dir.File("config.json"));
        Assert.Contains(from, text);
        File.WriteAllText(_dir.File("config.json"), text.Replace(from, to));
    }

    // ---- 17.9: the safetensors layout ----

    [Fact]
    public void A_header_length_three_bytes_short_is_refused()
    {
        var tensors = Read(_dir.File("model.safetensors"));
        string header = Header(tensors) + "   ";
        Write(_dir.File("model.safetensors"), tensors, headerOverride: header, headerLengthOverride: Encoding.UTF8.GetByteCount(header) - 3);
        var e = Fails();
        Assert.Contains("model.safetensors", e.Message);
        Assert.Contains("3 bytes belong to no tensor", e.Message);
    }

    [Fact]
    public void Tensors_with_a_hole_or_an_overlap_are_refused()
    {
        var tensors = Read(_dir.File("model.safetensors"));
        // The last tensor's bytes are dropped from the header's account but stay in the file: a hole at the end.
        Write(_dir.File("model.safetensors"), tensors, headerOverride: Header(tensors[..^1]));
        Assert.Contains("belong to no tensor", Fails().Message);

        // Two tensors of one size swapped in the header but not in the data is fine; one pointed at the other's bytes is not.
        string header = Header(tensors);
        var a = tensors[0];
        var b = tensors.First(t => t != a && t.Data.Length == a.Data.Length);
        string offsetsOfB = header[(header.IndexOf($"\"{b.Name}\"", StringComparison.Ordinal))..];
        offsetsOfB = offsetsOfB[offsetsOfB.IndexOf("\"data_offsets\":", StringComparison.Ordinal)..];
        offsetsOfB = offsetsOfB[..(offsetsOfB.IndexOf(']') + 1)];
        string start = header[(header.IndexOf($"\"{a.Name}\"", StringComparison.Ordinal))..];
        string offsetsOfA = start[start.IndexOf("\"data_offsets\":", StringComparison.Ordinal)..];
        offsetsOfA = offsetsOfA[..(offsetsOfA.IndexOf(']') + 1)];
        Write(_dir.File("model.safetensors"), tensors, headerOverride: header.Replace($"\"{a.Name}\":{{\"dtype\":\"{a.DType}\",\"shape\":[{string.Join(",", a.Shape)}],{offsetsOfA}",
            $"\"{a.Name}\":{{\"dtype\":\"{a.DType}\",\"shape\":[{string.Join(",", a.Shape)}],{offsetsOfB}", StringComparison.Ordinal));
        var e = Fails();
        Assert.True(e.Message.Contains("overlaps", StringComparison.Ordinal) || e.Message.Contains("hole", StringComparison.Ordinal), e.Message);
    }

    [Fact]
    public void A_duplicate_header_key_is_refused()
    {
        var tensors = Read(_dir.File("model.safetensors"));
        var last = tensors[^1];
        string header = Header(tensors);
        string entry = header[header.IndexOf($"\"{last.Name}\"", StringComparison.Ordinal)..^1];
        Write(_dir.File("model.safetensors"), tensors, headerOverride: header[..^1] + "," + entry + "}");
        var e = Fails();
        Assert.Contains($"key '{last.Name}' appears twice", e.Message);
    }

    // ---- 17.8: other exception types ----

    [Fact]
    public void Invalid_utf8_in_a_header_or_config_is_a_format_error()
    {
        var tensors = Read(_dir.File("model.safetensors"));
        byte[] header = Encoding.UTF8.GetBytes(Header(tensors));
        int at = Array.IndexOf(header, (byte)'"') + 1;
        header[at] = 0xC3;
        header[at + 1] = 0x28;
        using (var f = File.Create(_dir.File("model.safetensors")))
        {
            f.Write(BitConverter.GetBytes((long)header.Length));
            f.Write(header);
            foreach (var t in tensors) f.Write(t.Data);
        }
        Assert.Contains("model.safetensors: header: invalid UTF-8 at byte", Fails().Message);

        Write(_dir.File("model.safetensors"), tensors);
        byte[] config = File.ReadAllBytes(_dir.File("config.json"));
        int q = Array.IndexOf(config, (byte)'"') + 1;
        config[q] = 0xFF;
        File.WriteAllBytes(_dir.File("config.json"), config);
        Assert.Contains("config.json: invalid UTF-8 at byte", Fails().Message);
    }

    [Fact]
    public void A_lone_surrogate_escape_in_config_is_a_format_error()
    {
        EditConfig("\"model_type\": \"deepseek_v3\"", "\"model_type\": \"deepseek_v3\", \"name\": \"\\ud800\"");
        Assert.Contains("lone surrogate", Fails().Message);
    }

    [Fact]
    public void Weight_block_size_of_strings_is_a_format_error()
    {
        EditConfig("\"tie_word_embeddings\": false", "\"tie_word_embeddings\": false, \"quantization_config\": {\"quant_method\": \"fp8\", \"weight_block_size\": [\"a\", \"a\"]}");
        Assert.Contains("weight_block_size", Fails().Message);
    }

    [Theory]
    [InlineData("\"qk_rope_head_dim\": 4", "\"qk_rope_head_dim\": 0", "qk_rope_head_dim")]
    [InlineData("\"qk_rope_head_dim\": 4", "\"qk_rope_head_dim\": 3", "qk_rope_head_dim")]
    [InlineData("\"rope_theta\": 10000", "\"rope_theta\": 0", "rope_theta")]
    [InlineData("\"rope_theta\": 10000", "\"rope_theta\": -10000", "rope_theta")]
    [InlineData("\"rms_norm_eps\": 1e-6", "\"rms_norm_eps\": -1e-6", "rms_norm_eps")]
    [InlineData("\"routed_scaling_factor\": 2.5", "\"routed_scaling_factor\": 0", "routed_scaling_factor")]
    [InlineData("\"beta_fast\": 32", "\"beta_fast\": 0", "rope_scaling.beta_fast")]
    public void Numeric_config_values_are_validated_on_load(string from, string to, string key)
    {
        // 17.6: these used to load and produce NaN activations (or throw ArgumentOutOfRangeException from RoPE).
        EditConfig(from, to);
        Assert.Contains($"config.json: key '{key}'", Fails().Message);
    }

    // ---- 17.7: counts and sizes are checked against the tensors before anything is allocated ----

    [Theory]
    [InlineData("\"num_hidden_layers\": 2", "\"num_hidden_layers\": 2147483647", "num_hidden_layers")]
    [InlineData("\"num_nextn_predict_layers\": 1", "\"num_nextn_predict_layers\": 2147483647", "num_nextn_predict_layers")]
    [InlineData("\"qk_rope_head_dim\": 4", "\"qk_rope_head_dim\": 2147483646", "qk_rope_head_dim")]
    [InlineData("\"n_routed_experts\": 4", "\"n_routed_experts\": 2147483600", "n_routed_experts")]
    public void Huge_counts_fail_at_once_naming_the_key(string from, string to, string key)
    {
        EditConfig(from, to);
        Assert.Contains($"key '{key}", Fails().Message);
    }

    // ---- the same through GGUF ----

    private string Gguf(Action<byte[]>? patch = null)
    {
        string path = _dir.File("model.gguf");
        using var scratch = new TempDir();
        FuzzSeeds.WriteGguf(path, scratch.Path);
        if (patch is not null)
        {
            var bytes = File.ReadAllBytes(path);
            patch(bytes);
            File.WriteAllBytes(path, bytes);
        }
        return path;
    }

    /// <summary>The offset of the value of metadata key <paramref name="key"/> (after its 4-byte type).</summary>
    private static int ValueOf(byte[] file, string key)
    {
        byte[] k = Encoding.UTF8.GetBytes(key);
        int at = file.AsSpan().IndexOf(k);
        Assert.True(at > 0, key);
        return at + k.Length + 4;
    }

    [Fact]
    public void Gguf_seed_loads()
    {
        using var m = ModelLoader.Load(Gguf());
        Assert.Equal(2, m.Config.NumHiddenLayers);
    }

    [Fact]
    public void Gguf_block_count_of_two_to_the_31_fails_at_once()
    {
        string path = Gguf(b => BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(ValueOf(b, "deepseek2.block_count")), int.MaxValue));
        Assert.Contains("key 'deepseek2.block_count'", Fails(path).Message);
    }

    [Theory]
    [InlineData("deepseek2.rope.freq_base", 0f)]
    [InlineData("deepseek2.rope.freq_base", -1f)]
    [InlineData("deepseek2.attention.layer_norm_rms_epsilon", -1e-6f)]
    public void Gguf_numeric_values_are_validated_on_load(string key, float value)
    {
        string path = Gguf(b => BinaryPrimitives.WriteSingleLittleEndian(b.AsSpan(ValueOf(b, key)), value));
        Assert.Contains($"key '{key}'", Fails(path).Message);
    }

    [Theory]
    [InlineData("")]
    [InlineData("h")]
    [InlineData("h e x")]
    [InlineData(" e")]
    public void Gguf_malformed_merges_are_a_format_error(string merge)
    {
        string path = _dir.File("vocab.gguf");
        string[] tokens = [.. Enumerable.Range(0, 256).Select(b => SharpSeek.Tokenization.ByteLevel.ByteToChar((byte)b).ToString()), "he"];
        new GgufWriter()
            .Set("general.architecture", "llama")
            .Set("tokenizer.ggml.model", "gpt2")
            .Set("tokenizer.ggml.tokens", GgufValue.Array(tokens))
            .Set("tokenizer.ggml.merges", GgufValue.Array(["h e", merge]))
            .Write(path);
        var e = Assert.ThrowsAny<Exception>(() => GgufTokenizer.Load(path).Encode("the"));
        Assert.True(e is ModelFormatException, $"{e.GetType().Name}: {e.Message}");
        Assert.Contains("tokenizer.ggml.merges", e.Message);
    }
}
