using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using RadLine;
using SharpSeek.Chat;
using SharpSeek.Generation;
using SharpSeek.Serving;
using Spectre.Console;

namespace SharpSeek.Cli.Commands;

/// <summary>
/// <c>sharpseek chat [--model …] [--verbose]</c>: an interactive conversation. Answers stream; reasoning is shown dimmed
/// before the answer. On a terminal the line is edited with RadLine (arrows, Home/End, history with Up/Down); a line
/// ending in <c>\</c> continues on the next one, and <c>"""</c> opens and closes a block. Commands: see <c>/help</c>.
/// Ctrl+C stops an answer or clears the line; Ctrl+D or <c>/exit</c> quits. No command error ends the session, and when
/// the conversation outgrows the context the oldest turns are dropped (the system prompt stays) with a notice.
/// </summary>
internal static class ChatCommand
{
    public static Command Create()
    {
        var options = new ChatOptions();
        var system = new Option<string?>("--system") { Description = "A system prompt" };
        var verbose = new Option<bool>("--verbose") { Description = "After each answer, print its tokens and speed (tokens/s) and the prompt's" };
        var cmd = new Command("chat", "Chat with a model in the terminal") { system, verbose };
        options.AddTo(cmd);
        cmd.SetAction(pr =>
        {
            var completion = options.Completion(pr);
            var console = Consoles.Stdout();
            // Piped or captured output keeps its lines as written (Spectre would wrap them at 80 columns).
            if (Console.IsOutputRedirected) console.Profile.Width = 10_000;
            using var terminal = TerminalGuard.Install();
            using var pipeline = options.Load(pr);
            var session = new ChatSession(pipeline, completion, options.ThinkMode(pr), console)
            {
                System = pr.GetValue(system),
                Verbose = pr.GetValue(verbose),
            };
            CancellationTokenSource? answering = null, reading = null;
            ConsoleCancelEventHandler onCancel = (_, e) =>
            {
                // Ctrl+C stops the answer while one streams and clears the line being edited; it never ends the session.
                if (Volatile.Read(ref answering) is { } cts) { e.Cancel = true; cts.Cancel(); }
                else if (Volatile.Read(ref reading) is { } line) { e.Cancel = true; line.Cancel(); }
            };
            Console.CancelKeyPress += onCancel;
            try
            {
                IChatInput input = (IChatInput?)LineEditorInput.TryCreate(console, () => Volatile.Write(ref reading, new CancellationTokenSource()), () => Interlocked.Exchange(ref reading, null)?.Dispose(), () => Volatile.Read(ref reading)?.Token ?? default)
                    ?? new ReaderInput(Console.In);
                session.Run(input, () => Volatile.Write(ref answering, new CancellationTokenSource()), () => Interlocked.Exchange(ref answering, null)?.Dispose(), () => Volatile.Read(ref answering)?.Token ?? default);
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

/// <summary>Where the chat's lines come from: the first line of a message, or a continuation line (<c>... </c>).</summary>
internal interface IChatInput
{
    /// <summary>A line, or null at the end of input; <see cref="LineCancelledException"/> when Ctrl+C cleared it.</summary>
    string? ReadLine(bool continuation);

    /// <summary>Keeps a sent message for the history (Up arrow).</summary>
    void Remember(string message);
}

/// <summary>Ctrl+C while a line was being edited: the line is dropped, the session goes on.</summary>
internal sealed class LineCancelledException : Exception;

/// <summary>Plain lines from a reader (pipes, files, tests).</summary>
internal sealed class ReaderInput(TextReader reader) : IChatInput
{
    public string? ReadLine(bool continuation) => reader.ReadLine();

    public void Remember(string message) { }
}

/// <summary>RadLine's line editor on a terminal: cursor keys, Home/End, word moves, history on Up/Down, Ctrl+D to quit.</summary>
internal sealed class LineEditorInput : IChatInput
{
    private readonly LineEditor _editor;
    private readonly SwitchingPrompt _prompt = new();
    private readonly Action _begin, _end;
    private readonly Func<CancellationToken> _token;

    /// <param name="source">Where keys come from; null: the terminal (tests pass their own).</param>
    internal LineEditorInput(IAnsiConsole console, IInputSource? source, Action begin, Action end, Func<CancellationToken> token)
    {
        _editor = new LineEditor(console, source) { Prompt = _prompt };
        _editor.KeyBindings.Add<PreviousHistoryCommand>(ConsoleKey.UpArrow);
        _editor.KeyBindings.Add<NextHistoryCommand>(ConsoleKey.DownArrow);
        _editor.KeyBindings.Add(ConsoleKey.D, ConsoleModifiers.Control, () => new EndOfInputCommand());
        (_begin, _end, _token) = (begin, end, token);
    }

    /// <summary>The editor when stdin and stdout are a terminal that RadLine can drive; else null (read plain lines).</summary>
    public static LineEditorInput? TryCreate(IAnsiConsole console, Action begin, Action end, Func<CancellationToken> token) =>
        !Console.IsInputRedirected && !Console.IsOutputRedirected && LineEditor.IsSupported(console) ? new LineEditorInput(console, null, begin, end, token) : null;

    public string? ReadLine(bool continuation)
    {
        _prompt.Continuation = continuation;
        _begin();
        try
        {
            var token = _token();
            string? line = _editor.ReadLine(token).GetAwaiter().GetResult();
            // RadLine ends a cancelled read either with OperationCanceledException (cancelled while it waits for a key)
            // or with null, as for Ctrl+D (cancelled between two polls); Ctrl+C must never end the session.
            if (line is null && token.IsCancellationRequested) throw new LineCancelledException();
            return line;
        }
        catch (OperationCanceledException)
        {
            throw new LineCancelledException();
        }
        finally { _end(); }
    }

    public void Remember(string message) => _editor.History.Add(message);

    private sealed class SwitchingPrompt : ILineEditorPrompt
    {
        public bool Continuation { get; set; }

        public (Markup Markup, int Margin) GetPrompt(ILineEditorState state, int line) =>
            (new Markup(Continuation ? "[green]...[/]" : "[bold green]>>>[/]"), 1);
    }

    /// <summary>Ctrl+D on an empty line ends the input, as in a shell.</summary>
    private sealed class EndOfInputCommand : LineEditorCommand
    {
        public override void Execute(LineEditorContext context)
        {
            if (context.Buffer.Length == 0) context.Submit(SubmitAction.Cancel);
        }
    }
}

/// <summary>
/// Shows the cursor again however the process ends (normal return, an exception, Ctrl+C, SIGTERM): progress bars and
/// the line editor hide it while they draw, and a hidden cursor must not outlive the program.
/// </summary>
internal sealed class TerminalGuard : IDisposable
{
    private const string ShowCursor = "\u001b[?25h";
    private static int s_installed;

    public static TerminalGuard Install()
    {
        if (Interlocked.Exchange(ref s_installed, 1) == 0) AppDomain.CurrentDomain.ProcessExit += (_, _) => Restore();
        return new TerminalGuard();
    }

    public static void Restore()
    {
        try
        {
            if (!Console.IsErrorRedirected) Console.Error.Write(ShowCursor);
            else if (!Console.IsOutputRedirected) Console.Out.Write(ShowCursor);
        }
        catch (IOException) { }
    }

    public void Dispose() => Restore();
}

/// <summary>
/// Which messages still fit the context: the system prompt always, then the newest turns. When the prompt plus room
/// for an answer (<c>reserve</c>) exceeds the context, whole turns (a user message and the answer after it) are dropped,
/// oldest first; the newest user message is never dropped, and if it alone does not fit, nothing fits.
/// </summary>
internal static class ConversationWindow
{
    /// <summary>Room left for an answer: the answer's token limit, but at most a quarter of the context.</summary>
    public static int Reserve(int maxTokens, int context) => Math.Max(1, Math.Min(maxTokens, context / 4));

    /// <returns>The turns dropped from the front of <paramref name="history"/> (0 when it all fits), or -1 when even the newest message does not fit.</returns>
    public static int Fit(string? system, IReadOnlyList<ChatMessage> history, Func<IReadOnlyList<ChatMessage>, int> countTokens, int context, int reserve)
    {
        int start = 0, dropped = 0;
        while (true)
        {
            var window = new List<ChatMessage>();
            if (system is not null) window.Add(ChatMessage.System(system));
            for (int i = start; i < history.Count; i++) window.Add(history[i]);
            if (countTokens(window) + reserve <= context) return dropped;
            // Drop the oldest turn: its user message and everything up to the next user message.
            int next = start + 1;
            while (next < history.Count && history[next].Role != "user") next++;
            if (next >= history.Count) return -1;
            start = next;
            dropped++;
        }
    }
}

/// <summary>The chat loop, apart from the console so tests can drive it.</summary>
internal sealed class ChatSession(ChatPipeline pipeline, CompletionOptions options, bool? think, IAnsiConsole console)
{
    private readonly List<ChatMessage> _history = [];
    private CompletionOptions _options = options;
    private bool? _think = think;   // null: as the model's template decides

    private PreparedPrompt Prepare(IReadOnlyList<ChatMessage> messages) => pipeline.PrepareChat(new ChatPromptRequest(messages) { Think = _think });

    public string? System { get; set; }
    public bool Verbose { get; set; }
    public IReadOnlyList<ChatMessage> History => _history;
    public CompletionOptions Options => _options;

    private const string Commands = "/help /set /clear /save FILE /exit";

    public void Run(TextReader input, Action begin, Action end, Func<CancellationToken> token) => Run(new ReaderInput(input), begin, end, token);

    public void Run(IChatInput input, Action begin, Action end, Func<CancellationToken> token)
    {
        console.MarkupLine($"[grey]{Markup.Escape(pipeline.Bundle.Name)} · {Commands} · end a line with \\ or use \"\"\" for several lines · Ctrl+D quits[/]");
        while (true)
        {
            if (input is ReaderInput) console.Markup("[bold green]>>> [/]");
            string? text;
            try { text = ReadMessage(input); }
            catch (LineCancelledException)
            {
                console.MarkupLine("[grey](Ctrl+D or /exit to quit)[/]");
                continue;
            }
            if (text is null) break;
            if (text.Trim().Length == 0) continue;
            input.Remember(text);
            try
            {
                if (text.StartsWith('/'))
                {
                    if (!Command(text.Trim())) break;
                    continue;
                }
                _history.Add(ChatMessage.User(text));
                if (!FitContext()) continue;
                begin();
                try { Answer(token()); }
                finally { end(); }
            }
            catch (Exception e) when (e is SharpSeekException or IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException or JsonException or InvalidOperationException)
            {
                // A command or an answer failed: say so and keep the conversation.
                console.MarkupLine($"[red]error:[/] {Markup.Escape(e.Message)}");
                if (_history.Count > 0 && _history[^1].Role == "user" && !text.StartsWith('/')) _history.RemoveAt(_history.Count - 1);
            }
        }
    }

    /// <summary>Drops the oldest turns when the conversation no longer fits, with a one-line notice; false when the newest message alone is too long.</summary>
    private bool FitContext()
    {
        int context = pipeline.Scheduler.ContextSize;
        int reserve = ConversationWindow.Reserve(_options.MaxTokens, context);
        int dropped = ConversationWindow.Fit(System, _history, CountTokens, context, reserve);
        if (dropped < 0)
        {
            long length = CountTokens(System is null ? [_history[^1]] : [ChatMessage.System(System), _history[^1]]);
            _history.RemoveAt(_history.Count - 1);
            console.MarkupLine($"[red]error:[/] that message takes {length} tokens; with room for an answer ({reserve}) it does not fit the {context}-token context. Send a shorter one.");
            return false;
        }
        if (dropped > 0)
        {
            for (int i = 0; i < dropped; i++)
            {
                _history.RemoveAt(0);
                while (_history.Count > 0 && _history[0].Role != "user") _history.RemoveAt(0);
            }
            console.MarkupLine($"[yellow]the conversation outgrew the {context}-token context: the oldest {Plural(dropped, "turn")} dropped{(System is null ? "" : ", the system prompt kept")}[/]");
        }
        return true;
    }

    /// <summary>
    /// The prompt's length in tokens. Tokenizing stops once a prompt cannot fit the context, so a window that long
    /// counts as its estimated length (always more than the context), which is all <see cref="ConversationWindow.Fit"/> needs.
    /// </summary>
    private int CountTokens(IReadOnlyList<ChatMessage> messages)
    {
        try { return Prepare(messages).Tokens.Length; }
        catch (PromptTooLongException e) { return (int)Math.Min(int.MaxValue / 2, e.PromptTokens); }
    }

    private static string Plural(int n, string word) => n == 1 ? $"{word} was" : $"{n} {word}s were";

    /// <summary>Handles a slash command; false to quit. Errors are thrown as exceptions and reported by the loop.</summary>
    private bool Command(string line)
    {
        int space = line.IndexOf(' ', StringComparison.Ordinal);
        string verb = space < 0 ? line : line[..space], arg = space < 0 ? "" : line[(space + 1)..].Trim();
        switch (verb)
        {
            case "/exit" or "/quit" or "/bye":
                return false;
            case "/help" or "/?":
                console.MarkupLine(Markup.Escape(string.Join('\n',
                    "/help                     this list",
                    "/set                      show the settings",
                    "/set temperature X        sampling temperature (0 = greedy)",
                    "/set top_p X              nucleus sampling threshold (1 = off)",
                    "/set max_tokens N         most tokens per answer, reasoning included",
                    "/set think on|off         reason before answering (models that do)",
                    "/set system TEXT          the system prompt (/set system alone removes it; /system TEXT too)",
                    "/clear                    forget the conversation (the system prompt stays)",
                    "/save FILE                write the conversation as JSON",
                    "/exit                     quit (also /bye, Ctrl+D)",
                    "Ctrl+C stops an answer; Up/Down recall earlier messages; a line ending in \\ continues, \"\"\" opens a block.")));
                return true;
            case "/clear":
                _history.Clear();
                console.MarkupLine("[grey]conversation cleared[/]");
                return true;
            case "/system":
                SetSystem(arg);
                return true;
            case "/set":
                Set(arg);
                return true;
            case "/save":
                if (arg.Length == 0) throw new ArgumentException("usage: /save FILE");
                try
                {
                    File.WriteAllText(arg, JsonSerializer.Serialize(Messages().Select(m => new { role = m.Role, content = m.Content, reasoning_content = m.ReasoningContent }), new JsonSerializerOptions { WriteIndented = true }));
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
                {
                    throw new SharpSeekException($"cannot save to {arg}: {e.Message}");
                }
                console.MarkupLine($"[grey]saved {_history.Count} messages to {Markup.Escape(arg)}[/]");
                return true;
            default:
                console.MarkupLine($"[red]unknown command {Markup.Escape(verb)}[/] [grey](/help lists them)[/]");
                return true;
        }
    }

    private void SetSystem(string text)
    {
        System = text.Length == 0 ? null : text;
        console.MarkupLine(System is null ? "[grey]system prompt removed[/]" : "[grey]system prompt set[/]");
    }

    private void Set(string arg)
    {
        if (arg.Length == 0)
        {
            var s = _options.Sampling;
            console.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
                $"temperature {s.Temperature} · top_p {s.TopP} · max_tokens {_options.MaxTokens} · think {(_think switch { true => "on", false => "off", null => "as the model decides" })} · system {(System is null ? "(none)" : "\"" + System + "\"")}")));
            return;
        }
        int space = arg.IndexOf(' ', StringComparison.Ordinal);
        string name = (space < 0 ? arg : arg[..space]).ToLowerInvariant(), value = space < 0 ? "" : arg[(space + 1)..].Trim();
        switch (name)
        {
            case "system":
                SetSystem(value);
                return;
            case "temperature" or "temp":
                SetSampling(_options.Sampling with { Temperature = Number(name, value) });
                break;
            case "top_p" or "top-p":
                SetSampling(_options.Sampling with { TopP = Number(name, value) });
                break;
            case "max_tokens" or "max-tokens":
                if (!int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out int max) || max <= 0)
                    throw new SharpSeekException($"max_tokens must be a whole number > 0, not '{value}'");
                _options = _options with { MaxTokens = max };
                break;
            case "think":
                _think = value switch
                {
                    "on" or "true" or "1" => true,
                    "off" or "false" or "0" => false,
                    _ => throw new SharpSeekException($"think is on or off, not '{value}'"),
                };
                break;
            default:
                throw new SharpSeekException($"unknown setting '{name}' (temperature, top_p, max_tokens, think, system)");
        }
        console.MarkupLine($"[grey]{Markup.Escape(name)} set to {Markup.Escape(value)}[/]");
    }

    private void SetSampling(SamplingOptions sampling)
    {
        sampling.Validate();
        _options = _options with { Sampling = sampling };
    }

    private static float Number(string name, string value) =>
        float.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out float x) ? x : throw new SharpSeekException($"{name} must be a number, not '{value}'");

    private List<ChatMessage> Messages() => System is null ? [.. _history] : [ChatMessage.System(System), .. _history];

    private void Answer(CancellationToken ct)
    {
        var prepared = Prepare(Messages());
        var reasoning = new StringBuilder();
        var content = new StringBuilder();
        bool stopped = false;
        var clock = Stopwatch.StartNew();
        TimeSpan firstToken = TimeSpan.Zero;
        CompletionUsage? usage = null;
        using (var stream = pipeline.Start(prepared, _options))
        {
            try
            {
                foreach (var chunk in stream.ReadAsync(ct).ToBlockingEnumerable(ct))
                {
                    if (firstToken == TimeSpan.Zero && (chunk.Reasoning.Length > 0 || chunk.Content.Length > 0)) firstToken = clock.Elapsed;
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
                    if (chunk.Usage is { } u)
                    {
                        usage = u;
                        if (reasoning.Length > 0) console.Markup($"\n[grey](thought for {u.ReasoningTokens} tokens)[/]");
                    }
                }
            }
            catch (OperationCanceledException)
            {
                stopped = true;
                console.Markup("\n[yellow](stopped)[/]");
            }
        }
        console.WriteLine();
        if (Verbose && usage is { } done) console.MarkupLine($"[grey]{Markup.Escape(Speed(done, firstToken, clock.Elapsed))}[/]");
        if (content.Length > 0 || !stopped)
            _history.Add(new ChatMessage("assistant", content.ToString()) { ReasoningContent = reasoning.Length > 0 ? reasoning.ToString() : null });
        else _history.RemoveAt(_history.Count - 1);
    }

    /// <summary>"42 tokens in 1.20 s (35.0 tokens/s) · prompt 118 tokens (96 cached) in 0.31 s (380.6 tokens/s)": answer and prompt speed.</summary>
    internal static string Speed(CompletionUsage u, TimeSpan firstToken, TimeSpan total)
    {
        double gen = Math.Max((total - firstToken).TotalSeconds, 1e-6), prompt = Math.Max(firstToken.TotalSeconds, 1e-6);
        int evaluated = u.PromptTokens - u.CachedTokens;
        // The first token comes with the prompt's pass; the rest are decode steps.
        return string.Create(CultureInfo.InvariantCulture,
            $"{u.CompletionTokens} tokens in {total.TotalSeconds:0.00} s ({Math.Max(0, u.CompletionTokens - 1) / gen:0.0} tokens/s) · prompt {u.PromptTokens} tokens{(u.CachedTokens > 0 ? $" ({u.CachedTokens} cached)" : "")} in {firstToken.TotalSeconds:0.00} s ({evaluated / prompt:0.0} tokens/s)");
    }

    /// <summary>One message: a line, lines joined by a trailing backslash, or a """ block; null at end of input.</summary>
    internal static string? ReadMessage(TextReader input) => ReadMessage(new ReaderInput(input));

    internal static string? ReadMessage(IChatInput input)
    {
        string? line = input.ReadLine(continuation: false);
        if (line is null) return null;
        if (line.Trim() == "\"\"\"")
        {
            var block = new StringBuilder();
            while ((line = input.ReadLine(continuation: true)) is not null && line.Trim() != "\"\"\"") block.Append(block.Length > 0 ? "\n" : "").Append(line);
            return block.ToString();
        }
        var sb = new StringBuilder();
        while (line is not null && line.EndsWith('\\'))
        {
            sb.Append(line, 0, line.Length - 1).Append('\n');
            line = input.ReadLine(continuation: true);
        }
        return sb.Append(line).ToString();
    }
}
