using System.Diagnostics;
using System.Text;

namespace SharpSeek.Tests.Tokenization;

/// <summary>The <c>sharpseek tokenize</c> contract, run as a process (its stdout is what outside checks read).</summary>
public sealed class TokenizeCommandTests
{
    /// <summary>Runs <c>sharpseek tokenize ARGS</c> with <paramref name="stdin"/>.</summary>
    internal static (int Code, string Out, string Err) Cli(string stdin, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardInputEncoding = new UTF8Encoding(false),
        };
        psi.ArgumentList.Add("exec");
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "sharpseek.dll"));
        psi.ArgumentList.Add("tokenize");
        foreach (string a in args) psi.ArgumentList.Add(a);
        using Process p = Process.Start(psi)!;
        var outTask = p.StandardOutput.ReadToEndAsync();
        var errTask = p.StandardError.ReadToEndAsync();
        p.StandardInput.Write(stdin);
        p.StandardInput.Close();
        Assert.True(p.WaitForExit(180_000), "sharpseek tokenize timed out");
        return (p.ExitCode, outTask.Result, errTask.Result);
    }

    private static string DeepSeek => Fixtures.Path("tokenizers", "deepseek-v3");

    [Fact]
    public void Encodes_json_lines_without_bos_unless_asked()
    {
        var (code, output, err) = Cli("\"Hello!\"\n\"x 123\"\n", "--tokenizer", DeepSeek);
        Assert.True(code == 0, err);
        string[] expected =
        [
            "[" + string.Join(',', TokenizerFixtures.DeepSeekV3.Encode("Hello!")) + "]",
            "[" + string.Join(',', TokenizerFixtures.DeepSeekV3.Encode("x 123")) + "]",
        ];
        Assert.Equal(string.Join('\n', expected) + "\n", output);
        var (code2, output2, _) = Cli("\"Hello!\"\n", "--tokenizer", Path.Combine(DeepSeek, "tokenizer.json"), "--add-special");
        Assert.Equal(0, code2);
        Assert.StartsWith("[0,", output2);
    }

    [Fact]
    public void Decodes_json_lines_and_inline_ids()
    {
        var (code, output, err) = Cli("[19923,3]\n[30594]\n", "--tokenizer", DeepSeek, "--decode");
        Assert.True(code == 0, err);
        Assert.Equal("\"Hello!\"\n\"" + TokenizerFixtures.DeepSeekV3.Decode([30594]) + "\"\n", output);
        var (code2, output2, _) = Cli("", "--model", DeepSeek, "--decode", "19923,3");
        Assert.Equal(0, code2);
        Assert.Equal("Hello!\n", output2);
        var (code3, output3, _) = Cli("", "--model", DeepSeek, "--text", "Hello!");
        Assert.Equal(0, code3);
        Assert.Equal("19923,3\n", output3);
    }

    [Fact]
    public void Bad_input_gives_one_clear_line()
    {
        var (code, _, err) = Cli("not json\n", "--tokenizer", DeepSeek);
        Assert.Equal(1, code);
        Assert.Contains("stdin line 1", err);
        var (code2, _, err2) = Cli("", "--tokenizer", DeepSeek, "--decode", "5,999999999");
        Assert.Equal(1, code2);
        Assert.Contains("outside the vocabulary", err2);
        var (code3, _, err3) = Cli("", "--tokenizer", "/no/such/dir/tokenizer.json", "--text", "hi");
        Assert.Equal(1, code3);
        Assert.Contains("not found", err3);
    }
}
