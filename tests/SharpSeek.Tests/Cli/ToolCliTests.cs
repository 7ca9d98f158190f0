using System.Text.Json;
using SharpSeek.Cli;
using SharpSeek.Tests.Gguf;

using SharpSeek.Tests.Support;

namespace SharpSeek.Tests.Cli;

/// <summary><c>bench</c> (its JSON keys are read by checks outside the repository), <c>quantize</c> and <c>convert</c> from the command line.</summary>
[Collection("Console")]
public sealed class ToolCliTests
{
    private static (int Code, string Out, string Err) Run(params string[] args) => CliRunner.Run(args);

    [Fact]
    public void Bench_json_has_the_documented_keys()
    {
        var (code, stdout, err) = Run("bench", "--model", GgufFixtureTests.ModelPath("tiny-ds2-lite", "q8_0"), "--prompt-tokens", "16", "--gen-tokens", "4", "--reps", "1", "--json");
        Assert.True(code == 0, err);
        using var doc = JsonDocument.Parse(stdout);
        var root = doc.RootElement;
        Assert.True(root.GetProperty("prefill_tps").GetDouble() > 0);
        Assert.True(root.GetProperty("decode_tps").GetDouble() > 0);
        Assert.True(root.GetProperty("rss_bytes").GetInt64() > 0);
        // tiny-ds2-lite: 3 layers × (kv_lora 64 + rope 16) floats.
        Assert.Equal(3 * 80 * 4, root.GetProperty("kv_bytes_per_token").GetInt64());
        Assert.Equal(SharpSeek.Kernels.KernelPaths.Best.ToString().ToLowerInvariant(), root.GetProperty("kernel_path").GetString());
    }

    [Theory]
    [InlineData("bench", "--prompt-tokens", "0")]
    [InlineData("bench", "--reps", "0")]
    public void Bench_rejects_bad_counts(params string[] args)
    {
        var (code, _, err) = Run([.. args, "--model", GgufFixtureTests.ModelPath("tiny-qwen2", "q8_0")]);
        Assert.Equal(1, code);
        Assert.StartsWith("error: --", err);
    }

    [Fact]
    public void Quantize_and_convert_write_loadable_files()
    {
        string q = TempFiles.Create(), c = TempFiles.Create();
        try
        {
            var (code, _, err) = Run("quantize", "--in", GgufFixtureTests.ModelPath("tiny-qwen2", "f32"), "--out", q, "--type", "Q4_0");
            Assert.True(code == 0, err);
            (code, var info, err) = Run("info", "--model", q);
            Assert.True(code == 0, err);
            (code, _, err) = Run("convert", "--in", Engine.GoldenData.Dir("v3-tiny-fp8"), "--out", c);
            Assert.True(code == 0, err);
            (code, _, err) = Run("info", "--model", c);
            Assert.True(code == 0, err);
            (code, _, err) = Run("quantize", "--in", q, "--out", c, "--type", "Q5_1");
            Assert.Equal(1, code);
            Assert.Contains("Q5_1", err);
        }
        finally { TempFiles.Delete(q); TempFiles.Delete(c); }
    }
}
