using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using SharpSeek.Generation;
using SharpSeek.Models;

namespace SharpSeek.Cli.Commands;

/// <summary>
/// <c>sharpseek generate --model PATH --tokens 1,2,3 --max-tokens N [--temperature --top-p --top-k --min-p --repetition-penalty --seed --stop]</c>:
/// prints the generated token ids, comma-separated, on one line of stdout; timing goes to stderr.
/// </summary>
internal static class GenerateCommand
{
    public static Command Create()
    {
        var model = CommonOptions.Model();
        var tokens = CommonOptions.Tokens();
        var maxTokens = new Option<int>("--max-tokens", "-n") { Description = "Tokens to generate at most", DefaultValueFactory = _ => 32 };
        var temperature = new Option<float>("--temperature", "-t") { Description = "Sampling temperature; 0 = greedy", DefaultValueFactory = _ => 0f };
        var topP = new Option<float>("--top-p") { Description = "Nucleus sampling threshold (1 = off)", DefaultValueFactory = _ => 1f };
        var topK = new Option<int>("--top-k") { Description = "Keep the k most likely tokens (0 = off)", DefaultValueFactory = _ => 0 };
        var minP = new Option<float>("--min-p") { Description = "Drop tokens below min-p × the best one (0 = off)", DefaultValueFactory = _ => 0f };
        var repetition = new Option<float>("--repetition-penalty") { Description = "Penalty for tokens already in the sequence (1 = off)", DefaultValueFactory = _ => 1f };
        var seed = new Option<ulong?>("--seed") { Description = "Sampling seed (reproducible output)" };
        var stop = new Option<string?>("--stop") { Description = "Extra comma-separated stop token ids (EOS always stops)" };
        var ignoreEos = new Option<bool>("--ignore-eos") { Description = "Do not stop at the model's EOS tokens" };
        var speculate = CommonOptions.Speculate();
        var stats = StatsJson.Option();
        var cmd = new Command("generate", "Generate token ids after a prompt of token ids")
            { model, tokens, maxTokens, temperature, topP, topK, minP, repetition, seed, stop, ignoreEos, speculate, stats };
        cmd.SetAction(pr =>
        {
            int[] prompt = CommonOptions.ParseTokens(pr.GetValue(tokens)!);
            var sampling = new SamplingOptions
            {
                Temperature = pr.GetValue(temperature),
                TopP = pr.GetValue(topP),
                TopK = pr.GetValue(topK),
                MinP = pr.GetValue(minP),
                RepetitionPenalty = pr.GetValue(repetition),
                Seed = pr.GetValue(seed),
            };
            sampling.Validate();
            int max = pr.GetValue(maxTokens);
            if (max < 0) throw new SharpSeekException($"--max-tokens must be ≥ 0, is {max}");
            var stops = pr.GetValue(stop) is { } s ? CommonOptions.ParseTokens(s, "--stop") : [];
            CommonOptions.ParseSpeculation(pr.GetValue(speculate));   // a bad value fails before the model loads

            var load = Stopwatch.StartNew();
            using var m = ModelLoader.Load(pr.GetValue(model)!);
            load.Stop();
            var gen = new Generator(m);
            var options = new GenerationOptions
            {
                MaxTokens = max, Sampling = sampling, StopTokens = stops, IgnoreEos = pr.GetValue(ignoreEos),
                Speculation = CommonOptions.Speculation(pr.GetValue(speculate), m),
            };
            var output = new List<int>(max);
            var clock = Stopwatch.StartNew();
            TimeSpan firstToken = TimeSpan.Zero;
            foreach (int t in gen.Generate(prompt, options))
            {
                if (output.Count == 0) firstToken = clock.Elapsed;
                output.Add(t);
            }
            clock.Stop();
            Console.Out.WriteLine(string.Join(",", output));
            double decodeSeconds = (clock.Elapsed - firstToken).TotalSeconds;
            string rate = output.Count > 1 ? (output.Count - 1) / decodeSeconds is var r ? r.ToString("0.00", CultureInfo.InvariantCulture) : "" : "n/a";
            var spec = gen.LastSpeculation;
            string drafts = options.Speculation.Enabled ? string.Create(CultureInfo.InvariantCulture, $"; speculate {options.Speculation}: {spec.AcceptedTokens}/{spec.DraftTokens} drafts accepted ({spec.AcceptRate:P0})") : "";
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"load {load.Elapsed.TotalSeconds:0.00} s; prompt {prompt.Length} tokens in {firstToken.TotalSeconds:0.000} s; {output.Count} tokens generated, decode {rate} tok/s{drafts}; finish: {gen.LastFinishReason.ToString().ToLowerInvariant()}"));
            if (pr.GetValue(stats) is { } statsPath)
                StatsJson.Write(statsPath, prompt.Length, output.Count, firstToken, clock.Elapsed, spec.DraftTokens, spec.AcceptedTokens);
            return 0;
        });
        return cmd;
    }
}
