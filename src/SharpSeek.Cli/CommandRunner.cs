using System.CommandLine;

namespace SharpSeek.Cli;

/// <summary>Runs a command tree and turns every failure into one line on stderr (shared by <c>sharpseek</c> and <c>sharpseek-train</c>).</summary>
public static class CommandRunner
{
    /// <summary>
    /// Parses and invokes <paramref name="args"/>. A command for which <paramref name="handlesSignals"/> is true handles
    /// SIGTERM and Ctrl+C itself (System.CommandLine's own handler would end the process 2 s after the signal).
    /// </summary>
    public static int Run(RootCommand root, string[] args, TextWriter? error = null, Func<Command, bool>? handlesSignals = null)
    {
        var config = new InvocationConfiguration { EnableDefaultExceptionHandler = false };
        return Guard(() =>
        {
            var parse = root.Parse(args);
            if (handlesSignals?.Invoke(parse.CommandResult.Command) == true) config.ProcessTerminationTimeout = null;
            return parse.Invoke(config);
        }, error);
    }

    /// <summary>Runs <paramref name="body"/>; an exception becomes one line on <paramref name="error"/> and exit code 1 (70 for our bugs).</summary>
    public static int Guard(Func<int> body, TextWriter? error = null)
    {
        error ??= Console.Error;
        try
        {
            return body();
        }
        catch (OperationCanceledException)
        {
            // Ctrl+C where nothing else handled it (while loading, during a pull): not an error, and no stack trace.
            error.WriteLine("interrupted");
            return 130;
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
