using System.CommandLine;
using System.Text.Json;
using SharpSeek.Generation;
using SharpSeek.Tasks;

namespace SharpSeek.Cli.Commands;

/// <summary>
/// <c>sharpseek eval --model PATH (--data FILE.jsonl | --suite NAME) [--samples k] [--out results.jsonl]</c>: runs the chat
/// model on each problem, extracts the last <c>\boxed{}</c> of the answer part, and prints JSON with pass@1 (and maj@k
/// for k &gt; 1) overall and per category; per-item results go to <c>--out</c>.
/// </summary>
internal static class EvalCommand
{
    public static Command Create()
    {
        var model = CommonOptions.Model();
        var data = new Option<string?>("--data") { Description = "JSONL file, one {\"prompt\": \"...\", \"answer\": \"...\"} per line (optional \"category\", \"difficulty\")" };
        var suite = new Option<string?>("--suite") { Description = $"built-in held-out suite: {string.Join(", ", EvalSuites.Names)}" };
        var samples = new Option<int>("--samples", "-k") { Description = "samples per problem: 1 = greedy; k > 1 samples at temperature 0.6, top-p 0.95 and adds maj@k", DefaultValueFactory = _ => 1 };
        var output = new Option<string?>("--out") { Description = "write per-item results (JSONL) here" };
        var maxTokens = new Option<int>("--max-tokens") { Description = "most tokens generated per answer", DefaultValueFactory = _ => 768 };
        var seed = new Option<ulong>("--seed") { Description = "sampling seed (k > 1)", DefaultValueFactory = _ => 1 };
        var speculate = CommonOptions.Speculate();
        var cmd = new Command("eval", "Evaluate a chat model on verifiable problems: pass@1 and maj@k, overall and per category.")
            { model, data, suite, samples, output, maxTokens, seed, speculate };
        cmd.SetAction(pr =>
        {
            string? file = pr.GetValue(data), name = pr.GetValue(suite);
            if ((file is null) == (name is null)) throw new SharpSeekException("give exactly one of --data FILE.jsonl or --suite NAME");
            int k = pr.GetValue(samples);
            if (k < 1) throw new SharpSeekException($"--samples must be ≥ 1, is {k}");
            var items = file is not null ? EvalItem.ReadJsonl(file) : EvalSuites.Get(name!);
            if (items.Count == 0) throw new SharpSeekException($"{file}: no problems");
            string path = pr.GetValue(model)!;
            CommonOptions.ParseSpeculation(pr.GetValue(speculate));   // a bad value fails before the model loads
            using var loaded = new Evaluator(path);
            using var evaluator = new Evaluator(loaded.Model, loaded.Tokenizer)
            {
                MaxTokens = pr.GetValue(maxTokens),
                Speculation = CommonOptions.Speculation(pr.GetValue(speculate), loaded.Model),
            };
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var results = evaluator.Run(items, k, pr.GetValue(seed), done =>
            {
                if (!Console.IsErrorRedirected && (done % 10 == 0 || done == items.Count)) Console.Error.Write($"\r{done}/{items.Count}");
            });
            if (!Console.IsErrorRedirected) Console.Error.WriteLine();
            var st = evaluator.SpeculationStats;
            long tokens = results.Sum(r => (long)r.Lengths.Sum());
            Console.Error.WriteLine(FormattableString.Invariant(
                $"{tokens} tokens in {clock.Elapsed.TotalSeconds:0.0} s ({tokens / clock.Elapsed.TotalSeconds:0} tok/s); speculate {evaluator.Speculation}: {st.AcceptedTokens}/{st.DraftTokens} drafts accepted"));
            if (pr.GetValue(output) is { } outPath) Evaluator.WriteResults(outPath, results);
            var summary = Evaluator.Summary(results, k, path, file ?? "suite:" + name);
            Console.Out.WriteLine(summary.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            return 0;
        });
        return cmd;
    }
}
