using System.CommandLine;
using SharpSeek.Cli.Commands;

namespace SharpSeek.Cli;

/// <summary>Builds the <c>sharpseek</c> command tree; <see cref="CommandRunner"/> turns every failure into one line on stderr.</summary>
public static class CliApp
{
    public static RootCommand BuildRoot()
    {
        var root = new RootCommand("SharpSeek: DeepSeek-style reasoning models in pure C#.");
        root.Subcommands.Add(InfoCommand.Create());
        root.Subcommands.Add(LogitsCommand.Create());
        root.Subcommands.Add(GenerateCommand.Create());
        root.Subcommands.Add(TrainForwarder.Create());
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
        root.Subcommands.Add(ShowCommand.Create());
        root.Subcommands.Add(HubCommands.Remove());
        root.Subcommands.Add(EvalCommand.Create());
        root.Subcommands.Add(FuzzCommand.Create());
        return root;
    }

    /// <summary>Runs <c>sharpseek</c>; <c>train …</c> goes to the training tool whole, before parsing (see <see cref="TrainForwarder"/>).</summary>
    public static int Run(string[] args, TextWriter? error = null) =>
        args is ["train", .. var rest]
            ? CommandRunner.Guard(() => TrainForwarder.Run(rest), error)
            // A server drains on SIGTERM itself; System.CommandLine's handler would end the process 2 s after the signal.
            : CommandRunner.Run(BuildRoot(), args, error, handlesSignals: command => command.Name == ServeCommand.Name);
}
