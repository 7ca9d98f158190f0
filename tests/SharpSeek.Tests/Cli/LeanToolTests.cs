using SharpSeek.Cli;
using SharpSeek.Cli.Commands;
using SharpSeek.Tests.Support;

namespace SharpSeek.Tests.Cli;

/// <summary>
/// The <c>sharpseek</c> tool carries no TorchSharp (chat, run, serve and eval restore no libtorch), and its <c>train</c>
/// command reaches the separate <c>sharpseek-train</c> tool: beside it, from the repository, or on PATH.
/// </summary>
[Collection("Console")]
public sealed class LeanToolTests
{
    [Fact]
    public void The_tool_and_everything_it_loads_have_no_TorchSharp()
    {
        var names = typeof(CliApp).Assembly.GetReferencedAssemblies().Select(a => a.Name!).ToList();
        Assert.Contains("SharpSeek.Engine", names);
        Assert.DoesNotContain(names, n => n.Contains("Torch", StringComparison.OrdinalIgnoreCase) || n == "SharpSeek.Training");
        // This test project references the tool (and the engine and server through it): its dependency list is the tool's closure.
        string deps = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "SharpSeek.Tests.deps.json"));
        Assert.Contains("sharpseek", deps, StringComparison.Ordinal);
        Assert.DoesNotContain("TorchSharp", deps, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("libtorch", deps, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Train_goes_to_the_tool_beside_then_the_repository_then_PATH()
    {
        using var root = new TempDir();
        string repo = Directory.CreateDirectory(root.File("repo")).FullName;
        string app = Directory.CreateDirectory(Path.Combine(repo, "src", "SharpSeek.Cli", "bin", "Release", "net10.0")).FullName;
        string onPath = Directory.CreateDirectory(root.File("tools")).FullName;
        File.WriteAllText(Path.Combine(onPath, TrainForwarder.ToolName), "");

        var fromPath = TrainForwarder.Resolve(app, onPath, "Release")!;
        Assert.Equal(Path.Combine(onPath, TrainForwarder.ToolName), fromPath.FileName);
        Assert.Empty(fromPath.Prefix);
        Assert.Null(TrainForwarder.Resolve(app, "", "Release"));

        string project = Path.Combine(repo, "src", "SharpSeek.Train.Cli", "SharpSeek.Train.Cli.csproj");
        Directory.CreateDirectory(Path.GetDirectoryName(project)!);
        File.WriteAllText(project, "<Project />");
        var fromRepo = TrainForwarder.Resolve(app, onPath, "Debug")!;
        Assert.Equal("dotnet", fromRepo.FileName);
        Assert.Equal(["run", "--project", project, "-c", "Debug", "--"], fromRepo.Prefix);

        File.WriteAllText(Path.Combine(app, TrainForwarder.ToolName), "");
        Assert.Equal(Path.Combine(app, TrainForwarder.ToolName), TrainForwarder.Resolve(app, onPath, "Release")!.FileName);
    }

    [Fact]
    public void Train_runs_the_training_tool_from_the_repository_with_every_argument()
    {
        using var dir = new TempDir();
        string output = dir.File("tasks.jsonl");
        var (code, _, err) = CliRunner.Run("train", "tasks", "--split", "test", "--count", "3", "--seed", "7", "--out", output);
        Assert.True(code == 0, err);
        var lines = File.ReadAllLines(output);
        Assert.Equal(3, lines.Length);
        Assert.All(lines, l => Assert.Contains("\"answer\":", l, StringComparison.Ordinal));
    }
}
