using SharpSeek.Cli;
using SharpSeek.Tests.Support;

namespace SharpSeek.Tests.Cli;

/// <summary><c>run</c> and <c>chat</c> on a tiny random-weight model: exit codes, commands, saved conversations.</summary>
[Collection("Console")]
public sealed class ChatCliTests
{
    private static readonly string Model = Fixtures.Path("llamacpp", "models", "tiny-qwen2-f32.gguf");

    private static (int Code, string Out, string Err) Run(string stdin, params string[] args)
    {
        var (stdout, stderr, input) = (Console.Out, Console.Error, Console.In);
        var o = new StringWriter();
        var e = new StringWriter();
        Console.SetOut(o);
        Console.SetError(e);
        Console.SetIn(new StringReader(stdin));
        try { return (CliApp.Run(args, e), o.ToString(), e.ToString()); }
        finally { Console.SetOut(stdout); Console.SetError(stderr); Console.SetIn(input); }
    }

    [Fact]
    public void Run_answers_and_is_reproducible_with_a_seed()
    {
        var a = Run("", "run", "--model", Model, "-n", "6", "--seed", "7", "--no-think", "Hello");
        var b = Run("", "run", "--model", Model, "-n", "6", "--seed", "7", "--no-think", "Hello");
        Assert.True(a.Code == 0, a.Err);
        Assert.Equal(a.Out, b.Out);
        Assert.NotEqual("", a.Out.Trim('\n'));
    }

    [Fact]
    public void Redirected_output_gets_no_progress_bar()
    {
        // The loading bar is drawn only on a terminal; scripts reading stdout or stderr see the answer alone.
        var r = Run("", "run", "--model", Model, "-n", "4", "--seed", "3", "--no-think", "Hello");
        Assert.True(r.Code == 0, r.Err);
        Assert.DoesNotContain("Loading", r.Err);
        Assert.DoesNotContain('\u001b', r.Err);
        Assert.DoesNotContain('\u001b', r.Out);
        Assert.NotEqual("", r.Out.Trim('\n'));
    }

    [Fact]
    public void Run_rejects_bad_parameters_in_one_line()
    {
        var r = Run("", "run", "--model", Model, "--temperature", "-1", "Hello");
        Assert.Equal(1, r.Code);
        Assert.StartsWith("error: temperature", r.Err);
        var m = Run("", "run", "--model", "no/such-model-here", "Hello");
        Assert.Equal(1, m.Code);
        Assert.Contains("not found", m.Err);
    }

    [Fact]
    public void Chat_keeps_history_and_handles_commands()
    {
        using var dir = new TempDir();
        string file = dir.File("chat.json");
        var r = Run($"hi\n/system be brief\n\"\"\"\nline one\nline two\n\"\"\"\nsecond \\\nline\n/save {file}\n/clear\n/save {file}.2\n/nope\n/exit\n", "chat", "--model", Model, "-n", "4", "--seed", "1");
        Assert.True(r.Code == 0, r.Err);
        string saved = File.ReadAllText(file);
        Assert.Contains("\"be brief\"", saved);
        Assert.Contains("line one\\nline two", saved);
        Assert.Contains("second \\nline", saved);
        Assert.Equal(7, System.Text.Json.JsonDocument.Parse(saved).RootElement.GetArrayLength());
        Assert.Equal(1, System.Text.Json.JsonDocument.Parse(File.ReadAllText(file + ".2")).RootElement.GetArrayLength());
        Assert.Contains("unknown command /nope", r.Out);
    }
}
