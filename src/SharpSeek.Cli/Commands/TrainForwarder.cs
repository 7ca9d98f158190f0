using System.CommandLine;
using System.Diagnostics;
using System.Reflection;

namespace SharpSeek.Cli.Commands;

/// <summary>
/// <c>sharpseek train …</c>: training needs TorchSharp and libtorch (~600 MB), which this tool does not carry, so the
/// command runs <c>sharpseek-train</c> with the same arguments: the one beside this tool, else the repository's
/// <c>src/SharpSeek.Train.Cli</c> through <c>dotnet run</c> when this tool runs from a checkout, else the one on PATH.
/// </summary>
internal static class TrainForwarder
{
    public const string ToolName = "sharpseek-train";

    /// <summary>The entry in the command list; <see cref="CliApp.Run"/> forwards <c>train …</c> before parsing, so every argument (help included) reaches the training tool.</summary>
    public static Command Create()
    {
        var cmd = new Command("train", $"Train DeepSeek-architecture models (runs {ToolName}, which carries TorchSharp): --recipe tiny, pretrain, tasks; see 'sharpseek train --help'.")
        {
            TreatUnmatchedTokensAsErrors = false,
        };
        cmd.SetAction(parse => Run([.. parse.UnmatchedTokens]));
        return cmd;
    }

    /// <summary>Where the training tool is: a program and the arguments that come before the user's.</summary>
    public sealed record Target(string FileName, string[] Prefix);

    public static Target? Resolve(string baseDirectory, string? pathVariable, string configuration)
    {
        string beside = Path.Combine(baseDirectory, ToolName);
        if (File.Exists(beside)) return new Target(beside, []);
        for (var dir = new DirectoryInfo(baseDirectory); dir is not null; dir = dir.Parent)
        {
            string project = Path.Combine(dir.FullName, "src", "SharpSeek.Train.Cli", "SharpSeek.Train.Cli.csproj");
            if (File.Exists(project)) return new Target("dotnet", ["run", "--project", project, "-c", configuration, "--"]);
        }
        foreach (string d in (pathVariable ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            string onPath = Path.Combine(d, ToolName);
            if (File.Exists(onPath)) return new Target(onPath, []);
        }
        return null;
    }

    public static int Run(string[] args)
    {
        string configuration = typeof(TrainForwarder).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Release";
        var target = Resolve(AppContext.BaseDirectory, Environment.GetEnvironmentVariable("PATH"), configuration)
            ?? throw new SharpSeekException($"training lives in the {ToolName} tool (it carries TorchSharp), which is not installed: "
                + $"'dotnet pack src/SharpSeek.Train.Cli -c Release -o nupkg' and 'dotnet tool install --global --add-source ./nupkg SharpSeek.Train.Cli', "
                + "or in the repository 'dotnet run --project src/SharpSeek.Train.Cli -c Release -- ARGS'");
        var psi = new ProcessStartInfo(target.FileName) { UseShellExecute = false };
        foreach (string a in target.Prefix.Concat(args)) psi.ArgumentList.Add(a);
        // Ctrl+C reaches the child from the terminal; this process only waits for it to stop and passes on its exit code.
        ConsoleCancelEventHandler keep = (_, e) => e.Cancel = true;
        Console.CancelKeyPress += keep;
        try
        {
            using var child = Process.Start(psi) ?? throw new SharpSeekException($"could not start {target.FileName}");
            child.WaitForExit();
            return child.ExitCode;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new SharpSeekException($"could not start {target.FileName}: {e.Message}");
        }
        finally
        {
            Console.CancelKeyPress -= keep;
        }
    }
}
