using System.CommandLine;
using SharpSeek.Cli.Commands;

namespace SharpSeek.Cli;

/// <summary>Builds the <c>sharpseek</c> command tree and turns every failure into one line on stderr.</summary>
public static class CliApp
{
    public static RootCommand BuildRoot()
    {
        var root = new RootCommand("SharpSeek: DeepSeek-style reasoning models in pure C#.");
        root.Subcommands.Add(InfoCommand.Create());
        root.Subcommands.Add(LogitsCommand.Create());
        root.Subcommands.Add(GenerateCommand.Create());
        root.Subcommands.Add(TrainCommand.Create());
        root.Subcommands.Add(TokenizeCommand.Create());
        root.Subcommands.Add(BenchCommand.Create());
        root.Subcommands.Add(QuantizeCommand.Create());
        root.Subcommands.Add(ConvertCommand.Create());
        root.Subcommands.Add(RunCommand.Create());
        root.Subcommands.Add(ChatCommand.Create());
        root.Subcommands.Add(ServeCommand.Create());
        root.Subcommands.Add(GatewayCommand.Create());
        root.Subcommands.Add(HubCommands.Pull());
        root.Subcommands.Add(HubCommands.List());
        root.Subcommands.Add(HubCommands.Remove());
        root.Subcommands.Add(EvalCommand.Create());
        root.Subcommands.Add(FuzzCommand.Create());
        return root;
    }

    public static int Run(string[] args, TextWriter? error = null)
    {
        error ??= Console.Error;
        var config = new InvocationConfiguration { EnableDefaultExceptionHandler = false };
        try
        {
            var parse = BuildRoot().Parse(args);
            // A server drains on SIGTERM itself; System.CommandLine's handler would end the process 2 s after the signal.
            if (parse.CommandResult.Command.Name == ServeCommand.Name) config.ProcessTerminationTimeout = null;
            return parse.Invoke(config);
        }
        catch (SharpSeekException e)
        {
            error.WriteLine($"error: {e.Message}");
            return 1;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"error: {e.Message}");
            return 1;
        }
        catch (Exception e)
        {
            // Anything else is our bug; still one line, with the type so it can be reported.
            error.WriteLine($"error: internal error ({e.GetType().Name}): {e.Message}");
            return 70;
        }
    }
}
