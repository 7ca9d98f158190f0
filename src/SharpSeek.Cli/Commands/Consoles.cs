using Spectre.Console;

namespace SharpSeek.Cli.Commands;

/// <summary>
/// Spectre consoles over the CLI's output streams. Colours and cursor codes go only to a terminal: Spectre decides ANSI
/// support from TERM alone, so <c>sharpseek chat | tee log</c> would otherwise fill the file with escape codes.
/// </summary>
internal static class Consoles
{
    public static IAnsiConsole Stdout() => For(Console.Out, Console.IsOutputRedirected);

    public static IAnsiConsole Stderr() => For(Console.Error, Console.IsErrorRedirected);

    private static IAnsiConsole For(TextWriter writer, bool redirected) => AnsiConsole.Create(new AnsiConsoleSettings
    {
        Out = new AnsiConsoleOutput(writer),
        Ansi = redirected ? AnsiSupport.No : AnsiSupport.Detect,
        ColorSystem = redirected ? ColorSystemSupport.NoColors : ColorSystemSupport.Detect,
    });
}
