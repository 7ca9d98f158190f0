using SharpSeek.Cli;

namespace SharpSeek.Training.Tests;

/// <summary>The <c>sharpseek-train</c> tool's command line, in-process: its root is the train command, errors are one line.</summary>
[Collection("Console")]
public sealed class TrainToolTests
{
    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var (stdout, stderr) = (Console.Out, Console.Error);
        var o = new StringWriter();
        var e = new StringWriter();
        Console.SetOut(o);
        Console.SetError(e);
        try { return (CommandRunner.Run(TrainCommand.CreateRoot(), args, e), o.ToString(), e.ToString()); }
        finally { Console.SetOut(stdout); Console.SetError(stderr); }
    }

    [Fact]
    public void Tasks_writes_the_problems_eval_reads()
    {
        string file = Path.Combine(Path.GetTempPath(), $"tasks-{Guid.NewGuid():N}.jsonl");
        try
        {
            var (code, _, err) = Run("tasks", "--split", "test", "--count", "4", "--category", "addition", "--out", file);
            Assert.True(code == 0, err);
            var items = EvalItem.ReadJsonl(file);
            Assert.Equal(4, items.Count);
            Assert.All(items, i => Assert.Equal("addition", i.Category));
        }
        finally { File.Delete(file); }
    }

    [Theory]
    [InlineData("error: give --recipe tiny, or a subcommand (pretrain, tasks); see --help")]
    [InlineData("error: unknown recipe 'huge' (tiny)", "--recipe", "huge")]
    [InlineData("error: unknown split 'nope' (train, validation, test)", "tasks", "--split", "nope")]
    public void Bad_arguments_are_one_line(string message, params string[] args)
    {
        var (code, _, err) = Run(args);
        Assert.Equal(1, code);
        Assert.Equal(message, err.Trim());
    }
}
