using SharpSeek.Cli;
using SharpSeek.Tests.Engine;
using SharpSeek.Tests.Support;

namespace SharpSeek.Tests.Cli;

/// <summary>The CLI contract used from outside: logits files, generate output, info fields.</summary>
[Collection("Console")]
public sealed class EngineCliTests
{
    private static (int Code, string Out, string Err) Run(params string[] args) => CliRunner.Run(args);

    [Theory]
    [InlineData("v3-tiny", "decode")]
    [InlineData("v3-tiny", "prefill")]
    [InlineData("v2lite-tiny", "decode")]
    [InlineData("v3-tiny-fp8", "prefill")]
    public void LogitsFileMatchesGolden(string name, string mode)
    {
        using var dir = new TempDir();
        int[] tokens = GoldenData.Tokens(name);
        string outFile = dir.File("logits.f32");
        var (code, _, err) = Run("logits", "--model", GoldenData.Dir(name), "--tokens", string.Join(",", tokens), "--out", outFile, "--mode", mode);
        Assert.True(code == 0, err);
        var got = GoldenData.Floats(outFile);
        var expected = GoldenData.Floats(System.IO.Path.Combine(GoldenData.Dir(name), "logits.bin"));
        Assert.Equal(expected.Length, got.Length);
        Assert.True(GoldenData.MaxAbsDiff(got, expected) <= DeepSeekGoldenTests.Tolerance);
    }

    [Fact]
    public void GeneratePrintsTokenIds()
    {
        var (code, stdout, err) = Run("generate", "--model", GoldenData.Dir("v3-tiny"), "--tokens", "0,56,47", "--max-tokens", "5", "--ignore-eos");
        Assert.True(code == 0, err);
        var ids = stdout.Trim().Split(',').Select(int.Parse).ToArray();
        Assert.Equal(5, ids.Length);
        Assert.All(ids, id => Assert.InRange(id, 0, 511));
        Assert.Contains("tok/s", err);
    }

    [Fact]
    public void InfoReportsTheMlaCacheSaving()
    {
        var (code, stdout, err) = Run("info", "--model", GoldenData.Dir("v3-tiny"));
        Assert.True(code == 0, err);
        Assert.Contains("DeepseekV3ForCausalLM", stdout);
        Assert.Contains("(+1 MTP)", stdout);
        // 3 layers × (32 latent + 16 rope) × 4 bytes; plain: 3 × 4 heads × (32 + 24) × 4 bytes.
        Assert.Contains("kv cache / token:  576 bytes", stdout);
        Assert.Contains("plain mha cache:   2,688 bytes", stdout);
        Assert.Contains("BF16", stdout);
    }

    [Theory]
    [InlineData("--tokens", "1,x,3", "'x' is not a token id")]
    [InlineData("--tokens", "0,9999", "token id 9999 is outside the vocabulary")]
    public void BadTokensAreReported(string option, string value, string message)
    {
        var (code, _, err) = Run("generate", "--model", GoldenData.Dir("v3-tiny"), option, value);
        Assert.Equal(1, code);
        Assert.Contains(message, err);
    }
}
