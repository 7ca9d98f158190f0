using SharpSeek.Models;
using Spectre.Console;

namespace SharpSeek.Cli.Commands;

/// <summary>
/// Shows a model load as a progress bar (bytes of weights paged in) on stderr, and only when stderr is a terminal:
/// scripts and tests that read the output see nothing of it. Stdout stays untouched for answers either way.
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

    /// <summary>Runs <paramref name="load"/> on a worker thread behind the bar (or plainly, without one) and returns its result.</summary>
    public static T Run<T>(string label, Func<IProgress<LoadProgress>?, T> load)
    {
        if (InteractiveStderr() is not { } err) return load(null);
        var bar = new LoadProgressBar();
        var loading = Task.Run(() => load(bar));
        bar.ShowAsync(err, label, loading).GetAwaiter().GetResult();
        return loading.GetAwaiter().GetResult();
    }

    /// <summary>Draws the bar on <paramref name="err"/> until <paramref name="loading"/> ends (however it ends).</summary>
    public async Task ShowAsync(IAnsiConsole err, string label, Task loading)
    {
        await err.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new DownloadedColumn(), new RemainingTimeColumn())
            .StartAsync(async ctx =>
            {
                var task = ctx.AddTask(Markup.Escape(label), autoStart: true, maxValue: 1);
                while (!loading.IsCompleted)
                {
                    Update(task);
                    await Task.WhenAny(loading, Task.Delay(100));
                }
                Update(task);
                task.StopTask();
            });
    }

    private void Update(ProgressTask task)
    {
        long total = Volatile.Read(ref _total), done = Volatile.Read(ref _done);
        if (total <= 0) return;
        task.MaxValue = total;
        task.Value = Math.Min(done, total);
    }
}
