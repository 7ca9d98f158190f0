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
    public ChatTemplate Template => _template;
    public int MaxTokens { get; init; } = 768;

    /// <summary>The prompt tokens of one user message, generation prompt included.</summary>
    public int[] PromptTokens(string prompt) => _template.Encode(_tokenizer, [new ChatMessage("user", prompt)]);

    /// <summary>Generates one completion; returns its text and tokens (EOS excluded).</summary>
    public (string Text, int[] Tokens) Complete(int[] prompt, SamplingOptions sampling)
    {
        var gen = new Generator(_model);
        int max = Math.Min(MaxTokens, _model.Config.MaxPositionEmbeddings - prompt.Length);
        if (max <= 0) return ("", []);
        var tokens = gen.Generate(prompt, new GenerationOptions { MaxTokens = max, Sampling = sampling }).ToArray();
        return (_tokenizer.Decode(tokens), tokens);
    }

    /// <summary>
    /// One completion per entry of <paramref name="samplings"/> after the same prompt, decoded together
    /// (<see cref="Transformer.ForwardDecodeBatch"/>: each weight read once per step for all of them). Each completion is
    /// exactly what <see cref="Complete"/> gives with its sampling options: the batch only changes the speed.
    /// </summary>
    public List<(string Text, int[] Tokens)> CompleteMany(int[] prompt, IReadOnlyList<SamplingOptions> samplings)
    {
        int n = samplings.Count, v = _model.Config.VocabSize;
        int max = Math.Min(MaxTokens, _model.Config.MaxPositionEmbeddings - prompt.Length);
        var outputs = new List<int>[n];
        for (int i = 0; i < n; i++) outputs[i] = [];
        if (max > 0 && n > 0)
        {
            var stops = new HashSet<int>(_model.Config.EosTokenIds);
            var states = new InferenceState[n];
            var samplers = new Sampler[n];
            var logits = new float[(long)n * v];
            for (int i = 0; i < n; i++)
            {
                states[i] = _model.CreateState(Math.Min(_model.Config.MaxPositionEmbeddings, prompt.Length + max));
                samplers[i] = new Sampler(v, samplings[i]);
                foreach (int t in prompt) samplers[i].Observe(t);
                _model.Forward(states[i], prompt, logits.AsSpan(i * v, v));
            }
            // live[j] is still generating and its logits are row j of the last pass (the prompt pass has row i for sequence i).
            List<int> live = [.. Enumerable.Range(0, n)], stillLive = new(n);
            var liveStates = new List<InferenceState>(n);
            var next = new int[n];
            while (live.Count > 0)
            {
                stillLive.Clear();
                for (int j = 0; j < live.Count; j++)
                {
                    int i = live[j], tok = samplers[i].Sample(logits.AsSpan(j * v, v));
                    if (stops.Contains(tok)) continue;
                    outputs[i].Add(tok);
                    if (outputs[i].Count == max || states[i].Length >= states[i].MaxSequence) continue;
                    samplers[i].Observe(tok);
                    next[stillLive.Count] = tok;
                    stillLive.Add(i);
                }
                (live, stillLive) = (stillLive, live);
                if (live.Count == 0) break;
                liveStates.Clear();
                foreach (int i in live) liveStates.Add(states[i]);
                _model.ForwardDecodeBatch(liveStates, next.AsSpan(0, live.Count), logits.AsSpan(0, live.Count * v));
            }
        }
        return outputs.Select(o => (_tokenizer.Decode(o.ToArray()), o.ToArray())).ToList();
    }

    public EvalResult Evaluate(EvalItem item, int samples, ulong seed)
    {
        var prompt = PromptTokens(item.Prompt);
        var completions = new List<string>();
        var preds = new List<string?>();
        var correct = new List<bool>();
        var lengths = new List<int>();
        var samplings = Enumerable.Range(0, samples)
            .Select(s => samples == 1 ? SamplingOptions.Greedy : new SamplingOptions { Temperature = 0.6f, TopP = 0.95f, Seed = seed + (ulong)s }).ToList();
        var outputs = samples == 1 ? [Complete(prompt, samplings[0])] : CompleteMany(prompt, samplings);
        foreach (var (text, tokens) in outputs)
        {
            string? p = AnswerExtractor.Extract(text, _template.PromptOpensReasoning([new ChatMessage("user", item.Prompt)]));
            completions.Add(text);
            preds.Add(p);
            correct.Add(AnswerExtractor.Matches(p, item.Answer));
            lengths.Add(tokens.Length);
        }
        string? majority = preds.Where(p => p is not null).GroupBy(p => p).OrderByDescending(g => g.Count()).ThenBy(g => preds.IndexOf(g.Key)).Select(g => g.Key).FirstOrDefault();
        return new EvalResult(item, completions, preds, correct, majority, AnswerExtractor.Matches(majority, item.Answer), lengths);
    }

    public List<EvalResult> Run(IReadOnlyList<EvalItem> items, int samples, ulong seed = 1, Action<int>? progress = null)
    {
        var results = new List<EvalResult>(items.Count);
        for (int i = 0; i < items.Count; i++)
        {
            results.Add(Evaluate(items[i], samples, seed + (ulong)i * 1000));
            progress?.Invoke(i + 1);
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
