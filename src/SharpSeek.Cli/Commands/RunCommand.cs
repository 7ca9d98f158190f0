using System.CommandLine;
using System.Diagnostics;
using SharpSeek.Chat;
using Spectre.Console;

namespace SharpSeek.Cli.Commands;

/// <summary>
/// <c>sharpseek run [--model …] "prompt"</c>: one answer, streamed. The answer goes to stdout; reasoning goes
/// to stderr, dimmed, so piping the output gives just the answer.
/// </summary>
internal static class RunCommand
{
    public static Command Create()
    {
        var options = new ChatOptions();
        var prompt = new Argument<string>("prompt") { Description = "The question" };
        var system = new Option<string?>("--system") { Description = "A system prompt" };
        var stats = StatsJson.Option();
        var cmd = new Command("run", "Answer one prompt and exit") { prompt, system, stats };
        options.AddTo(cmd);
        cmd.SetAction(async (pr, ct) =>
        {
            var completion = options.Completion(pr);
            bool? think = options.ThinkMode(pr);
            var err = Consoles.Stderr();
            using var pipeline = options.Load(pr);
            var messages = new List<ChatMessage>();
            if (pr.GetValue(system) is { } s) messages.Add(ChatMessage.System(s));
            messages.Add(ChatMessage.User(pr.GetValue(prompt)!));
            var prepared = pipeline.PrepareChat(new ChatPromptRequest(messages) { Think = think });
            var clock = Stopwatch.StartNew();
            TimeSpan first = TimeSpan.Zero;
            int generated = 0;
            using var stream = pipeline.Start(prepared, completion);
            bool reasoned = false;
            await foreach (var chunk in stream.ReadAsync(ct))
            {
                if (first == TimeSpan.Zero) first = clock.Elapsed;
                if (chunk.Usage is { } usage) generated = usage.CompletionTokens;
                if (chunk.Reasoning.Length > 0)
                {
                    reasoned = true;
                    err.Markup($"[dim]{Markup.Escape(chunk.Reasoning)}[/]");
                }
                if (chunk.Content.Length > 0)
                {
                    if (reasoned) { Console.Error.WriteLine(); reasoned = false; }
                    Console.Out.Write(chunk.Content);
                    Console.Out.Flush();
                }
            }
            Console.Out.WriteLine();
            if (pr.GetValue(stats) is { } statsPath)
            {
                var m = pipeline.Scheduler.Metrics;
                StatsJson.Write(statsPath, prepared.Tokens.Length, generated, first, clock.Elapsed, m.DraftTokens, m.AcceptedTokens);
            }
            return 0;
        });
        return cmd;
    }
}
