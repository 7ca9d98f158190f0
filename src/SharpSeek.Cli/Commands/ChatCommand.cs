using System.CommandLine;
using System.Text;
using System.Text.Json;
using SharpSeek.Chat;
using SharpSeek.Serving;
using Spectre.Console;

namespace SharpSeek.Cli.Commands;

/// <summary>
/// <c>sharpseek chat [--model …]</c>: an interactive conversation. Answers stream; reasoning is shown dimmed before
/// the answer. A line ending in <c>\</c> continues on the next one, and <c>"""</c> opens and closes a block.
/// Commands: <c>/clear</c>, <c>/system TEXT</c>, <c>/save FILE</c>, <c>/exit</c>. Ctrl+C stops the answer, not the program.
/// </summary>
internal static class ChatCommand
{
    public static Command Create()
    {
        var options = new ChatOptions();
        var system = new Option<string?>("--system") { Description = "A system prompt" };
        var cmd = new Command("chat", "Chat with a model in the terminal") { system };
        options.AddTo(cmd);
        cmd.SetAction(pr =>
        {
            var completion = options.Completion(pr);
            bool? think = options.ThinkMode(pr);
            var console = AnsiConsole.Console;
            using var pipeline = options.Load(pr);
            var session = new ChatSession(pipeline, completion, think, console) { System = pr.GetValue(system) };
            CancellationTokenSource? answering = null;
            ConsoleCancelEventHandler onCancel = (_, e) =>
            {
                // While an answer streams, Ctrl+C stops it; at the prompt it ends the program as usual.
                if (Volatile.Read(ref answering) is { } cts) { e.Cancel = true; cts.Cancel(); }
            };
            Console.CancelKeyPress += onCancel;
            try
            {
                session.Run(Console.In, () => Volatile.Write(ref answering, new CancellationTokenSource()), () => Interlocked.Exchange(ref answering, null)?.Dispose(), () => Volatile.Read(ref answering)?.Token ?? default);
            }
            finally
            {
                Console.CancelKeyPress -= onCancel;
            }
            return 0;
        });
        return cmd;
    }
}

/// <summary>The chat loop, apart from the console so tests can drive it.</summary>
internal sealed class ChatSession(ChatPipeline pipeline, CompletionOptions options, bool? think, IAnsiConsole console)
{
    private readonly List<ChatMessage> _history = [];

    public string? System { get; set; }
    public IReadOnlyList<ChatMessage> History => _history;

    public void Run(TextReader input, Action begin, Action end, Func<CancellationToken> token)
    {
        console.MarkupLine($"[grey]{Markup.Escape(pipeline.Bundle.Name)} · /clear /system TEXT /save FILE /exit · end a line with \\ or use \"\"\" for several lines[/]");
        while (true)
        {
            console.Markup("[bold green]>>> [/]");
            string? text = ReadMessage(input);
            if (text is null) break;
            if (text.Trim().Length == 0) continue;
            if (text.StartsWith('/'))
            {
                if (!Command(text.Trim())) break;
                continue;
            }
            _history.Add(ChatMessage.User(text));
            begin();
            try { Answer(token()); }
            finally { end(); }
        }
    }

    /// <summary>Handles a slash command; false to quit.</summary>
    private bool Command(string line)
    {
        int space = line.IndexOf(' ', StringComparison.Ordinal);
        string verb = space < 0 ? line : line[..space], arg = space < 0 ? "" : line[(space + 1)..].Trim();
        switch (verb)
        {
            case "/exit" or "/quit" or "/bye":
                return false;
            case "/clear":
                _history.Clear();
                console.MarkupLine("[grey]conversation cleared[/]");
                return true;
            case "/system":
                System = arg.Length == 0 ? null : arg;
                console.MarkupLine(System is null ? "[grey]system prompt removed[/]" : "[grey]system prompt set[/]");
                return true;
            case "/save":
                if (arg.Length == 0) { console.MarkupLine("[red]usage: /save FILE[/]"); return true; }
                File.WriteAllText(arg, JsonSerializer.Serialize(Messages().Select(m => new { role = m.Role, content = m.Content, reasoning_content = m.ReasoningContent }), new JsonSerializerOptions { WriteIndented = true }));
                console.MarkupLine($"[grey]saved {_history.Count} messages to {Markup.Escape(arg)}[/]");
                return true;
            default:
                console.MarkupLine($"[red]unknown command {Markup.Escape(verb)}[/] [grey](/clear /system /save /exit)[/]");
                return true;
        }
    }

    private List<ChatMessage> Messages() => System is null ? [.. _history] : [ChatMessage.System(System), .. _history];

    private void Answer(CancellationToken ct)
    {
        var prepared = pipeline.PrepareChat(new ChatPromptRequest(Messages()) { Think = think });
        var reasoning = new StringBuilder();
        var content = new StringBuilder();
        bool stopped = false;
        using (var stream = pipeline.Start(prepared, options))
        {
            try
            {
                foreach (var chunk in stream.ReadAsync(ct).ToBlockingEnumerable(ct))
                {
                    if (chunk.Reasoning.Length > 0)
                    {
                        if (reasoning.Length == 0) console.MarkupLine("[dim italic]Thinking…[/]");
                        reasoning.Append(chunk.Reasoning);
                        console.Markup($"[dim]{Markup.Escape(chunk.Reasoning)}[/]");
                    }
                    if (chunk.Content.Length > 0)
                    {
                        if (content.Length == 0 && reasoning.Length > 0) console.WriteLine("\n");
                        content.Append(chunk.Content);
                        console.Write(new Text(chunk.Content));
                    }
                    if (chunk.Usage is { } u && reasoning.Length > 0)
                        console.Markup($"\n[grey](thought for {u.ReasoningTokens} tokens)[/]");
                }
            }
            catch (OperationCanceledException)
            {
                stopped = true;
                console.Markup("\n[yellow](stopped)[/]");
            }
        }
        console.WriteLine();
        if (content.Length > 0 || !stopped)
            _history.Add(new ChatMessage("assistant", content.ToString()) { ReasoningContent = reasoning.Length > 0 ? reasoning.ToString() : null });
        else _history.RemoveAt(_history.Count - 1);
    }

    /// <summary>One message: a line, lines joined by a trailing backslash, or a """ block; null at end of input.</summary>
    internal static string? ReadMessage(TextReader input)
    {
        string? line = input.ReadLine();
        if (line is null) return null;
        if (line.Trim() == "\"\"\"")
        {
            var block = new StringBuilder();
            while ((line = input.ReadLine()) is not null && line.Trim() != "\"\"\"") block.Append(block.Length > 0 ? "\n" : "").Append(line);
            return block.ToString();
        }
        var sb = new StringBuilder();
        while (line is not null && line.EndsWith('\\'))
        {
            sb.Append(line, 0, line.Length - 1).Append('\n');
            line = input.ReadLine();
        }
        return sb.Append(line).ToString();
    }
}
