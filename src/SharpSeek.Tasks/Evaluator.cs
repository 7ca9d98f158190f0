using System.Text.Json;
using System.Text.Json.Nodes;
using SharpSeek.Chat;
using SharpSeek.Generation;
using SharpSeek.Models;
using SharpSeek.Tokenization;

namespace SharpSeek.Tasks;

/// <summary>One evaluated item: its k completions, their extracted answers, and the majority answer.</summary>
public sealed record EvalResult(EvalItem Item, IReadOnlyList<string> Completions, IReadOnlyList<string?> Predictions, IReadOnlyList<bool> Correct, string? Majority, bool MajorityCorrect, IReadOnlyList<int> Lengths);

/// <summary>Accuracy of a group of results.</summary>
public sealed record EvalScore(int Items, double PassAt1, double MajAtK, double ThinkShare, double MeanLength);

/// <summary>
/// Runs a chat model on evaluation items through the C# engine: the chat template with its generation prompt,
/// greedy decoding for one sample (temperature 0.6, top-p 0.95 for k &gt; 1, as R1 reports), the last boxed answer.
/// </summary>
public sealed class Evaluator : IDisposable
{
    private readonly Transformer _model;
    private readonly Tokenizer _tokenizer;
    private readonly ChatTemplate _template;

    public Evaluator(string modelDirectory)
    {
        _model = ModelLoader.Load(modelDirectory);
        _tokenizer = Tokenizer.FromFile(modelDirectory);
        _template = ChatTemplate.For(_tokenizer);
    }

    public Evaluator(Transformer model, Tokenizer tokenizer)
    {
        _model = model;
        _tokenizer = tokenizer;
        _template = ChatTemplate.For(tokenizer);
        _owned = false;
    }

    private readonly bool _owned = true;

    public Tokenizer Tokenizer => _tokenizer;
    public Transformer Model => _model;
    public ChatTemplate Template => _template;
    public int MaxTokens { get; init; } = 768;

    /// <summary>The prompt tokens of one user message, generation prompt included.</summary>
    public int[] PromptTokens(string prompt) => _template.Encode(_tokenizer, [new ChatMessage("user", prompt)]);

    /// <summary>Speculative decoding of every completion (<c>eval --speculate</c>).</summary>
    public Speculation Speculation { get; init; } = Speculation.None;

    /// <summary>Drafted and accepted tokens of every completion so far.</summary>
    public SpeculationStats SpeculationStats => _step.Speculation;

    private DecodeStep? _stepField;
    private DecodeStep _step => _stepField ??= new DecodeStep(_model);

    /// <summary>Generates one completion; returns its text and tokens (EOS excluded).</summary>
    public (string Text, int[] Tokens) Complete(int[] prompt, SamplingOptions sampling) => CompleteMany([(prompt, sampling)])[0];

    /// <summary>
    /// One completion per entry of <paramref name="samplings"/> after the same prompt, decoded together. Each completion is
    /// exactly what <see cref="Complete"/> gives with its sampling options: the batch only changes the speed.
    /// </summary>
    public List<(string Text, int[] Tokens)> CompleteMany(int[] prompt, IReadOnlyList<SamplingOptions> samplings) =>
        CompleteMany([.. samplings.Select(s => (prompt, s))]);

    /// <summary>
    /// Completions of any prompts, all decoded together in the shared <see cref="DecodeStep"/> (prefill chunks and decode rows of
    /// every sequence in each forward, each weight read once per step for all of them). Each completion is what it would be
    /// alone with its sampling options (greedy ones bit for bit): the batch only changes the speed.
    /// </summary>
    public List<(string Text, int[] Tokens)> CompleteMany(IReadOnlyList<(int[] Prompt, SamplingOptions Sampling)> requests)
    {
        var sequences = new List<DecodeSequence>(requests.Count);
        var results = new (string, int[])[requests.Count];
        for (int i = 0; i < requests.Count; i++)
        {
            var (prompt, sampling) = requests[i];
            int max = Math.Min(MaxTokens, _model.Config.MaxPositionEmbeddings - prompt.Length);
            if (max <= 0) { results[i] = ("", []); continue; }
            var options = new GenerationOptions { MaxTokens = max, Sampling = sampling, Speculation = Speculation };
            sequences.Add(new DecodeSequence(_model, prompt, options, _model.CreateState(prompt.Length + max)) { Tag = i });
        }
        while (sequences.Any(s => !s.IsDone)) _step.Run(sequences);
        foreach (var s in sequences)
        {
            if (s.Error is { } e) throw new SharpSeekException($"completion {(int)s.Tag!} failed: {e.Message}", e);
            int[] tokens = [.. s.Output];
            results[(int)s.Tag!] = (_tokenizer.Decode(tokens), tokens);
        }
        return [.. results];
    }

    public EvalResult Evaluate(EvalItem item, int samples, ulong seed) => EvaluateMany([item], samples, [seed])[0];

    /// <summary>Items per batch of <see cref="Run"/>: their completions decode together.</summary>
    public int Batch { get; init; } = 16;

    public List<EvalResult> Run(IReadOnlyList<EvalItem> items, int samples, ulong seed = 1, Action<int>? progress = null)
    {
        var results = new List<EvalResult>(items.Count);
        for (int at = 0; at < items.Count; at += Batch)
        {
            int n = Math.Min(Batch, items.Count - at);
            results.AddRange(EvaluateMany(items.Skip(at).Take(n).ToList(), samples, [.. Enumerable.Range(at, n).Select(i => seed + (ulong)i * 1000)]));
            progress?.Invoke(at + n);
        }
        return results;
    }

    /// <summary>Items with their seeds, every sample of every item decoded together.</summary>
    private List<EvalResult> EvaluateMany(IReadOnlyList<EvalItem> items, int samples, ulong[] seeds)
    {
        var requests = new List<(int[], SamplingOptions)>();
        foreach (var (item, seed) in items.Zip(seeds))
        {
            var prompt = PromptTokens(item.Prompt);
            for (int s = 0; s < samples; s++)
                requests.Add((prompt, samples == 1 ? SamplingOptions.Greedy : new SamplingOptions { Temperature = 0.6f, TopP = 0.95f, Seed = seed + (ulong)s }));
        }
        var outputs = CompleteMany(requests);
        var results = new List<EvalResult>(items.Count);
        for (int i = 0; i < items.Count; i++)
        {
            var item = items[i];
            var completions = new List<string>();
            var preds = new List<string?>();
            var correct = new List<bool>();
            var lengths = new List<int>();
            foreach (var (text, tokens) in outputs.Skip(i * samples).Take(samples))
            {
                string? p = AnswerExtractor.Extract(text, _template.PromptOpensReasoning([new ChatMessage("user", item.Prompt)]));
                completions.Add(text);
                preds.Add(p);
                correct.Add(AnswerExtractor.Matches(p, item.Answer));
                lengths.Add(tokens.Length);
            }
            string? majority = preds.Where(p => p is not null).GroupBy(p => p).OrderByDescending(g => g.Count()).ThenBy(g => preds.IndexOf(g.Key)).Select(g => g.Key).FirstOrDefault();
            results.Add(new EvalResult(item, completions, preds, correct, majority, AnswerExtractor.Matches(majority, item.Answer), lengths));
        }
        return results;
    }

    public static EvalScore Score(IReadOnlyCollection<EvalResult> results) => results.Count == 0 ? new EvalScore(0, 0, 0, 0, 0) : new EvalScore(
        results.Count,
        results.Average(r => r.Correct.Count(c => c) / (double)r.Correct.Count),
        results.Average(r => r.MajorityCorrect ? 1.0 : 0.0),
        results.Average(r => r.Completions.Count(AnswerExtractor.HasThink) / (double)r.Completions.Count),
        results.Average(r => r.Lengths.Average()));

    /// <summary>The summary JSON: overall, per category, per difficulty and per category/difficulty.</summary>
    public static JsonObject Summary(IReadOnlyList<EvalResult> results, int samples, string model, string data)
    {
        JsonObject Obj(EvalScore s)
        {
            var o = new JsonObject { ["n"] = s.Items, ["pass@1"] = Math.Round(s.PassAt1, 4) };
            if (samples > 1) o[$"maj@{samples}"] = Math.Round(s.MajAtK, 4);
            o["think_share"] = Math.Round(s.ThinkShare, 4);
            o["mean_response_tokens"] = Math.Round(s.MeanLength, 1);
            return o;
        }
        var all = Score(results);
        var root = new JsonObject { ["model"] = model, ["data"] = data, ["items"] = results.Count, ["samples"] = samples, ["pass@1"] = Math.Round(all.PassAt1, 4) };
        if (samples > 1) root[$"maj@{samples}"] = Math.Round(all.MajAtK, 4);
        root["think_share"] = Math.Round(all.ThinkShare, 4);
        root["mean_response_tokens"] = Math.Round(all.MeanLength, 1);
        var cats = new JsonObject();
        foreach (var g in results.GroupBy(r => r.Item.Category).OrderBy(g => g.Key, StringComparer.Ordinal)) cats[g.Key] = Obj(Score(g.ToList()));
        root["categories"] = cats;
        var diffs = new JsonObject();
        foreach (var g in results.Where(r => r.Item.Difficulty.Length > 0).GroupBy(r => r.Item.Difficulty).OrderBy(g => g.Key, StringComparer.Ordinal)) diffs[g.Key] = Obj(Score(g.ToList()));
        if (diffs.Count > 0) root["difficulties"] = diffs;
        var both = new JsonObject();
        foreach (var g in results.Where(r => r.Item.Difficulty.Length > 0).GroupBy(r => r.Item.Category + "/" + r.Item.Difficulty).OrderBy(g => g.Key, StringComparer.Ordinal)) both[g.Key] = Obj(Score(g.ToList()));
        if (both.Count > 0) root["category_difficulty"] = both;
        return root;
    }

    public static void WriteResults(string path, IEnumerable<EvalResult> results)
    {
        using var w = new StreamWriter(path);
        foreach (var r in results)
        {
            var o = new JsonObject
            {
                ["prompt"] = r.Item.Prompt, ["answer"] = r.Item.Answer, ["category"] = r.Item.Category, ["difficulty"] = r.Item.Difficulty,
                ["predictions"] = new JsonArray(r.Predictions.Select(p => (JsonNode?)JsonValue.Create(p)).ToArray()),
                ["correct"] = new JsonArray(r.Correct.Select(c => (JsonNode?)JsonValue.Create(c)).ToArray()),
                ["majority"] = r.Majority, ["majority_correct"] = r.MajorityCorrect,
                ["completions"] = new JsonArray(r.Completions.Select(c => (JsonNode?)JsonValue.Create(c)).ToArray()),
            };
            w.WriteLine(o.ToJsonString(new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
        }
    }

    /// <summary>The problems a per-item results file (<see cref="WriteResults"/>) has wrong in its first sample: prompt, answer, the extracted prediction.</summary>
    public static List<(string Prompt, string Answer, string? Predicted)> ReadFailures(string path)
    {
        var failures = new List<(string, string, string?)>();
        foreach (string line in File.ReadLines(path))
        {
            if (string.IsNullOrWhiteSpace(line)) continue;
            var o = JsonNode.Parse(line)!;
            if (o["correct"]![0]!.GetValue<bool>()) continue;
            failures.Add((o["prompt"]!.GetValue<string>(), o["answer"]!.GetValue<string>(), o["predictions"]![0]?.GetValue<string>()));
        }
        return failures;
    }

    public void Dispose()
    {
        if (_owned) _model.Dispose();
    }
}
