using SharpSeek.Models;
using Spectre.Console;

namespace SharpSeek.Cli.Commands;

/// <summary>
/// Shows a model load on stderr, and only when stderr is a terminal (scripts and tests that read the output see nothing
/// of it; stdout stays untouched for answers either way). First the weight files are read through the page cache with a
/// bar of real bytes, speed and time left: on a cold disk that is where a load's time goes. Then the model is built from
/// the cached pages (weights regrouped for the kernels, then paged in), shown as a second bar in bytes paged in.
/// Ctrl+C at any point takes the bars down, brings the cursor back and ends the command (exit code 130).
/// </summary>
internal sealed class LoadProgressBar : IProgress<LoadProgress>
{
    private long _done, _total = -1;

    /// <summary>Called from the loading thread; the bar polls the latest value, so a report never waits on drawing.</summary>
    public void Report(LoadProgress value)
    {
        Volatile.Write(ref _done, value.BytesDone);
        Volatile.Write(ref _total, value.BytesTotal);
    }

    /// <summary>A console on stderr, or null when stderr is redirected or not interactive (then no bar is drawn).</summary>
    public static IAnsiConsole? InteractiveStderr()
    {
        if (Console.IsErrorRedirected) return null;
        var err = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        return err.Profile.Capabilities.Interactive && err.Profile.Capabilities.Ansi ? err : null;
    }

    /// <summary>The files holding a model's weights: the GGUF file, or a directory's safetensors shards.</summary>
    public static IReadOnlyList<string> WeightFiles(string path) =>
        Directory.Exists(path) ? Directory.GetFiles(path, "*.safetensors").Order(StringComparer.Ordinal).ToList()
        : File.Exists(path) ? [path] : [];

    /// <summary>
    /// Runs <paramref name="load"/> behind the bars (or plainly, without them) and returns its result; the files in
    /// <paramref name="files"/> are read first. Ctrl+C throws <see cref="OperationCanceledException"/> once the bars are down.
    /// </summary>
    public static T Run<T>(string label, IReadOnlyList<string> files, Func<IProgress<LoadProgress>?, T> load)
    {
        if (InteractiveStderr() is not { } err) return load(null);
        var bar = new LoadProgressBar();
        using var interrupted = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) => { e.Cancel = true; interrupted.Cancel(); };
        Console.CancelKeyPress += onCancel;
        try
        {
            Task<T>? loading = null;
            err.Progress()
                .AutoClear(true)
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new WhenKnown(new PercentageColumn()), new WhenKnown(new DownloadedColumn()), new WhenKnown(new TransferSpeedColumn()), new WhenKnown(new RemainingTimeColumn()))
                .Start(ctx =>
                {
                    var reading = ctx.AddTask(Markup.Escape($"Reading {label}"), maxValue: Math.Max(1, files.Sum(f => new FileInfo(f).Length)));
                    ReadThrough(files, reading, interrupted.Token);
                    reading.StopTask();
                    if (interrupted.IsCancellationRequested) return;
                    // Building the model: indeterminate until the page-in reports how many bytes it touches.
                    var building = ctx.AddTask(Markup.Escape($"Loading {label}")).IsIndeterminate();
                    loading = Task.Run(() => load(bar));
                    while (!loading.IsCompleted && !interrupted.IsCancellationRequested)
                    {
                        bar.Update(building);
                        Task.WaitAny([loading], 100);
                    }
                    bar.Update(building);
                    building.StopTask();
                });
            if (interrupted.IsCancellationRequested)
            {
                // A load cannot be stopped half-way; let it finish in the background and free what it made.
                loading?.ContinueWith(t => (t.Result as IDisposable)?.Dispose(), TaskContinuationOptions.OnlyOnRanToCompletion);
                throw new OperationCanceledException("interrupted while loading");
            }
            return loading!.GetAwaiter().GetResult();
        }
        finally { Console.CancelKeyPress -= onCancel; }
    }

    /// <summary>Draws the page-in bar on <paramref name="err"/> until <paramref name="loading"/> ends, however it ends (<c>serve</c> loads in the background).</summary>
    public async Task ShowAsync(IAnsiConsole err, string label, Task loading)
    {
        await err.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new WhenKnown(new PercentageColumn()), new WhenKnown(new DownloadedColumn()), new WhenKnown(new RemainingTimeColumn()))
            .StartAsync(async ctx =>
            {
                var task = ctx.AddTask(Markup.Escape(label)).IsIndeterminate();
                while (!loading.IsCompleted)
                {
                    Update(task);
                    await Task.WhenAny(loading, Task.Delay(100));
                }
                Update(task);
                task.StopTask();
            });
    }

    /// <summary>Reads the files once, sequentially, so the model's weights come from the page cache; real bytes on the bar.</summary>
    private static void ReadThrough(IReadOnlyList<string> files, ProgressTask task, CancellationToken stop)
    {
        var buffer = new byte[4 << 20];
        foreach (string file in files)
        {
            using var s = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
            int n;
            while (!stop.IsCancellationRequested && (n = s.Read(buffer)) > 0) task.Increment(n);
            if (stop.IsCancellationRequested) return;
        }
    }

    private void Update(ProgressTask task)
    {
        long total = Volatile.Read(ref _total), done = Volatile.Read(ref _done);
        if (total <= 0) return;
        task.IsIndeterminate = false;
        task.MaxValue = total;
        task.Value = Math.Min(done, total);
    }

    /// <summary>A column that stays empty while its task does not yet know its size (no "0/100 bytes" on an indeterminate bar).</summary>
    private sealed class WhenKnown(ProgressColumn inner) : ProgressColumn
    {
        protected override bool NoWrap => true;

        public override Spectre.Console.Rendering.IRenderable Render(Spectre.Console.Rendering.RenderOptions options, ProgressTask task, TimeSpan deltaTime) =>
            task.IsIndeterminate ? Text.Empty : inner.Render(options, task, deltaTime);
    }
}
