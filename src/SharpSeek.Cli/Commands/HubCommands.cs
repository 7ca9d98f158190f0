using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using SharpSeek.Hub;
using Spectre.Console;

namespace SharpSeek.Cli.Commands;

/// <summary>
/// <c>sharpseek pull OWNER/REPO[@REV][:QUANT|:FILE]</c>, <c>sharpseek list</c>, <c>sharpseek rm OWNER/REPO</c>: models in the
/// Hugging Face hub cache (<c>HF_HUB_CACHE</c> / <c>HF_HOME</c>), fetched from <c>HF_ENDPOINT</c> with <c>HF_TOKEN</c>.
/// </summary>
internal static class HubCommands
{
    public static Command Pull()
    {
        var reference = new Argument<string>("model") { Description = "owner/repo, owner/repo:QUANT (e.g. :Q4_K_M) or owner/repo:FILE, optionally owner/repo@revision" };
        var cmd = new Command("pull", "Download a model from the Hugging Face hub into the hub cache: one quantization of a GGUF repository (Q4_K_M unless asked; else the smallest), or the files a safetensors model needs; resumable, checksummed") { reference };
        cmd.SetAction(async (pr, ct) =>
        {
            using var http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
            var client = new HubClient(http);
            var r = HubReference.Parse(pr.GetValue(reference)!);
            var err = Console.Error;
            var listing = await client.ListAsync(r.Repo, r.Revision, ct);
            var plan = PullPlan.Choose(r.Repo, listing.Files, r.Selector);
            long cached = client.CachedBytes(listing, plan);
            err.WriteLine($"{r.Repo} at {listing.Commit[..Math.Min(12, listing.Commit.Length)]}: {plan.Why}");
            foreach (var f in plan.Files) err.WriteLine($"  {f.Path}  {PullPlan.FormatBytes(f.Size)}");
            err.WriteLine(cached >= plan.Bytes ? $"{PullPlan.FormatBytes(plan.Bytes)}, already in the cache"
                : cached > 0 ? $"{PullPlan.FormatBytes(plan.Bytes - cached)} to download ({PullPlan.FormatBytes(plan.Bytes)} in all; {PullPlan.FormatBytes(cached)} already here, resuming)"
                : $"{PullPlan.FormatBytes(plan.Bytes)} to download");
            string snapshot;
            try
            {
                var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(err) });
                if (console.Profile.Capabilities.Interactive && cached < plan.Bytes)
                {
                    snapshot = "";
                    await console.Progress().AutoClear(false).HideCompleted(false)
                        .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new DownloadedColumn(), new TransferSpeedColumn(), new RemainingTimeColumn())
                        .StartAsync(async p =>
                        {
                            var tasks = new Dictionary<string, ProgressTask>();
                            var progress = new Callback(x =>
                            {
                                lock (tasks)
                                {
                                    if (!tasks.TryGetValue(x.File, out var task)) tasks[x.File] = task = p.AddTask(Markup.Escape(x.File), maxValue: Math.Max(1, x.Total));
                                    task.Value = x.Completed;
                                }
                            });
                            snapshot = await client.DownloadAsync(listing, plan, progress, ct);
                        });
                }
                else snapshot = await client.DownloadAsync(listing, plan, new TextProgress(err), ct);
            }
            catch (OperationCanceledException)
            {
                err.WriteLine($"interrupted; what was downloaded is kept: run 'sharpseek pull {r}' again to resume");
                return 130;
            }
            Console.Out.WriteLine(plan.ModelFile is { } model ? Path.Combine(snapshot, model.Path) : snapshot);
            return 0;
        });
        return cmd;
    }

    public static Command List()
    {
        var json = new Option<bool>("--json") { Description = "One JSON object per model instead of the table" };
        var cmd = new Command("list", "List the models in the hub cache: name, format, quantization, size, modified") { json };
        cmd.SetAction(pr =>
        {
            var models = HubCache.List();
            if (pr.GetValue(json))
            {
                foreach (var m in models)
                    Console.Out.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
                    {
                        ["name"] = m.Name, ["format"] = Format(m.Format), ["quantization"] = m.Quantization, ["size"] = m.Bytes,
                        ["modified"] = m.Modified.ToString("O", CultureInfo.InvariantCulture), ["path"] = m.Path,
                    }));
                return 0;
            }
            if (models.Count == 0)
            {
                Console.Out.WriteLine($"No models in the hub cache ({HubCache.Root}).");
                Console.Out.WriteLine("Pull one with: sharpseek pull OWNER/REPO[:QUANT]   e.g. sharpseek pull unsloth/DeepSeek-R1-Distill-Qwen-1.5B-GGUF:Q4_K_M");
                Console.Out.WriteLine("(the bundled model, models/sharpseek-tiny, needs no pull: sharpseek chat)");
                return 0;
            }
            var console = Consoles.Stdout();
            var table = new Table().Border(TableBorder.Simple)
                .AddColumn("NAME").AddColumn("FORMAT").AddColumn("QUANTIZATION").AddColumn(new TableColumn("SIZE").RightAligned()).AddColumn("MODIFIED");
            foreach (var m in models)
                table.AddRow(Markup.Escape(m.Name), Format(m.Format), Markup.Escape(m.Quantization), PullPlan.FormatBytes(m.Bytes), Ago(m.Modified));
            console.Write(table);
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

    private static string Format(RepoFormat f) => f == RepoFormat.Gguf ? "gguf" : "safetensors";

    /// <summary>"3 minutes ago", "2 days ago": how long since <paramref name="utc"/>.</summary>
    internal static string Ago(DateTime utc)
    {
        var d = DateTime.UtcNow - utc;
        static string Unit(double n, string unit) => $"{(int)n} {unit}{((int)n == 1 ? "" : "s")} ago";
        return d.TotalSeconds < 60 ? "just now"
            : d.TotalMinutes < 60 ? Unit(d.TotalMinutes, "minute")
            : d.TotalHours < 24 ? Unit(d.TotalHours, "hour")
            : d.TotalDays < 60 ? Unit(d.TotalDays, "day")
            : utc.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
    }

    /// <summary>Reports on the calling thread (<see cref="Progress{T}"/> would post to the pool and reorder updates).</summary>
    private sealed class Callback(Action<PullProgress> report) : IProgress<PullProgress>
    {
        public void Report(PullProgress value) => report(value);
    }

    /// <summary>Progress for logs (stderr not a terminal): a line per file every 10 % or 10 s, with bytes, speed and time left.</summary>
    private sealed class TextProgress(TextWriter w) : IProgress<PullProgress>
    {
        private string? _file;
        private long _start;
        private readonly Stopwatch _clock = new();
        private TimeSpan _lastLine;
        private int _lastTenth = -1;

        public void Report(PullProgress p)
        {
            if (p.File != _file) { _file = p.File; _start = p.Completed; _clock.Restart(); _lastLine = TimeSpan.Zero; _lastTenth = -1; }
            int tenth = p.Total > 0 ? (int)(10 * p.Completed / p.Total) : -1;
            bool done = p.Total > 0 && p.Completed >= p.Total;
            if (tenth == _lastTenth && !done && _clock.Elapsed - _lastLine < TimeSpan.FromSeconds(10)) return;
            if (done && _lastTenth == 10) return;
            _lastTenth = done ? 10 : tenth;
            _lastLine = _clock.Elapsed;
            double seconds = Math.Max(_clock.Elapsed.TotalSeconds, 1e-3), speed = (p.Completed - _start) / seconds;
            string eta = speed > 0 && p.Total > p.Completed ? $", {Duration(TimeSpan.FromSeconds((p.Total - p.Completed) / speed))} left" : "";
            string pct = p.Total > 0 ? $" ({100.0 * p.Completed / p.Total:0} %)" : "";
            w.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{p.File}: {PullPlan.FormatBytes(p.Completed)} / {PullPlan.FormatBytes(p.Total)}{pct}, {PullPlan.FormatBytes((long)speed)}/s{eta}"));
        }

        private static string Duration(TimeSpan t) => t.TotalHours >= 1 ? $"{(int)t.TotalHours}h{t.Minutes:00}m" : t.TotalMinutes >= 1 ? $"{(int)t.TotalMinutes}m{t.Seconds:00}s" : $"{Math.Max(1, (int)t.TotalSeconds)}s";
    }
}
