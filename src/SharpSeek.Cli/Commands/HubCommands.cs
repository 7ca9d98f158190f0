using System.CommandLine;
using System.Globalization;
using SharpSeek.Hub;
using Spectre.Console;

namespace SharpSeek.Cli.Commands;

/// <summary>
/// <c>sharpseek pull OWNER/REPO[@REV]</c>, <c>sharpseek list</c>, <c>sharpseek rm OWNER/REPO</c>: models in the Hugging Face
/// hub cache (<c>HF_HUB_CACHE</c> / <c>HF_HOME</c>), fetched from <c>HF_ENDPOINT</c> with <c>HF_TOKEN</c>.
/// </summary>
internal static class HubCommands
{
    public static Command Pull()
    {
        var reference = new Argument<string>("repo") { Description = "owner/repo or owner/repo@revision" };
        var cmd = new Command("pull", "Download a model from the Hugging Face hub into the hub cache (resumable, SHA-256 checked)") { reference };
        cmd.SetAction(async (pr, ct) =>
        {
            using var http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
            var client = new HubClient(http);
            string repo = pr.GetValue(reference)!;
            var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
            string snapshot;
            if (console.Profile.Capabilities.Interactive)
            {
                snapshot = "";
                await console.Progress().AutoClear(false).StartAsync(async p =>
                {
                    var tasks = new Dictionary<string, ProgressTask>();
                    var progress = new Progress<PullProgress>(x =>
                    {
                        if (!tasks.TryGetValue(x.File, out var task)) tasks[x.File] = task = p.AddTask(Markup.Escape(x.File), maxValue: Math.Max(1, x.Total));
                        task.Value = x.Completed;
                    });
                    snapshot = await client.PullAsync(repo, progress, ct);
                });
            }
            else snapshot = await client.PullAsync(repo, null, ct);
            Console.Out.WriteLine(snapshot);
            return 0;
        });
        return cmd;
    }

    public static Command List()
    {
        var cmd = new Command("list", "List the models in the hub cache");
        cmd.SetAction(_ =>
        {
            foreach (var (repo, snapshots, bytes) in HubCache.List())
                Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{repo}\t{bytes / 1e6:0.0} MB\t{string.Join(",", snapshots.Select(s => s.Length > 12 ? s[..12] : s))}"));
            return 0;
        });
        return cmd;
    }

    public static Command Remove()
    {
        var reference = new Argument<string>("repo") { Description = "owner/repo" };
        var cmd = new Command("rm", "Remove a model from the hub cache") { reference };
        cmd.SetAction(pr =>
        {
            string repo = pr.GetValue(reference)!;
            if (!HubCache.Remove(repo)) throw new SharpSeekException($"{repo} is not in the hub cache ({HubCache.Root})");
            Console.Out.WriteLine($"removed {repo}");
            return 0;
        });
        return cmd;
    }
}
