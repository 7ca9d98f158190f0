using SharpSeek.Cli;

namespace SharpSeek.Tests.Support;

/// <summary>Runs the <c>sharpseek</c> command in-process with stdout and stderr captured (tests using it share the "Console" collection).</summary>
public static class CliRunner
{
    public static (int Code, string Out, string Err) Run(params string[] args)
    {
        var (stdout, stderr) = (Console.Out, Console.Error);
        var o = new StringWriter();
        var e = new StringWriter();
        Console.SetOut(o);
        Console.SetError(e);
        try { return (CliApp.Run(args, e), o.ToString(), e.ToString()); }
        finally { Console.SetOut(stdout); Console.SetError(stderr); }
    }
}
