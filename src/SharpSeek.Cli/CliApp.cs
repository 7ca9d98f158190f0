using System.CommandLine;

namespace SharpSeek.Cli;

/// <summary>Builds the <c>sharpseek</c> command tree and turns every failure into one line on stderr.</summary>
public static class CliApp
{
    public static int Run(string[] args)
    {
        var root = new RootCommand("SharpSeek: DeepSeek-style reasoning models in pure C#.");
        root.Subcommands.Add(TrainCommand.Create());
        try
        {
            return root.Parse(args).Invoke();
        }
        catch (SharpSeekException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 1;
        }
    }
}
