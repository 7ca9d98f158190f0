using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using SharpSeek.Models;
using SharpSeek.Structured;
using SharpSeek.Tokenization;
using SharpSeek.Tools;

namespace SharpSeek.Bench;

/// <summary>
/// What grammar-constrained decoding costs next to a decode step: schema compile time (cold and warm), and the time to
/// compute and apply one step's token mask over real vocabularies (DeepSeek-V3's 129,280 logits, Qwen's 151,936), on the
/// first pass through a grammar (masks computed as positions are reached) and on later passes (cached), against the
/// decode step of a real-shape model measured in the same run. Tokens are drawn uniformly among those the mask allows.
/// </summary>
internal static class StructuredSpeed
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    private static readonly (string Name, string Schema)[] Schemas =
    [
        ("person", """{"type":"object","properties":{"name":{"type":"string","minLength":1,"maxLength":12},"age":{"type":"integer","minimum":0,"maximum":150},"email":{"type":"string","pattern":"^[a-z]{1,8}@[a-z]{1,8}\\.(com|org)$"}},"required":["name","age","email"],"additionalProperties":false}"""),
        ("orders", """{"type":"array","minItems":1,"maxItems":3,"items":{"type":"object","properties":{"id":{"type":"integer","exclusiveMinimum":0,"exclusiveMaximum":1000},"tags":{"type":"array","maxItems":3,"items":{"type":"string","minLength":1,"maxLength":6}}},"required":["id","tags"],"additionalProperties":false}}"""),
        ("formats", """{"type":"object","properties":{"id":{"type":"string","format":"uuid"},"when":{"type":"string","format":"date-time"},"ip":{"type":"string","format":"ipv4"}},"required":["id","when","ip"],"additionalProperties":false}"""),
        ("tree", """{"$ref":"#/$defs/node","$defs":{"node":{"type":"object","properties":{"value":{"type":"integer","minimum":-5,"maximum":5},"children":{"type":"array","maxItems":1,"items":{"$ref":"#/$defs/node"}}},"required":["value","children"],"additionalProperties":false}}}"""),
        ("free-strings", """{"type":"object","properties":{"title":{"type":"string"},"body":{"type":"string"}},"required":["title","body"],"additionalProperties":false}"""),
    ];

    public static void Run(string modelPath, string deepSeekTokenizer, string qwenTokenizer, int steps, int reps)
    {
        using var model = ModelLoader.Load(modelPath);
        var runner = new SharpRunner(model);
        runner.Decode(1, 8);   // warm-up: pages the weights in, JITs the kernels
        var vocabularies = new (string Name, Tokenizer Tok, int Logits, int[] Stops)[]
        {
            ("DeepSeek-V3 (129,280)", Tokenizer.FromFile(deepSeekTokenizer), 129280, [1]),
            ("Qwen2/3 (151,936)", Tokenizer.FromFile(qwenTokenizer), 151936, [151643, 151645]),
        };
        Console.WriteLine($"model {Path.GetFileName(modelPath)}, decode measured over {steps} steps per rep; masks over {steps} steps per walk");
        foreach (var (name, tok, logits, stops) in vocabularies)
        {
            var clock = Stopwatch.StartNew();
            var vocab = TokenVocabulary.From(tok, logits, stops);
            Console.WriteLine(string.Create(Inv, $"\n## {name}: vocabulary index (trie of {vocab.NodeCount} nodes) built in {clock.Elapsed.TotalMilliseconds:0} ms"));
            var grammars = Schemas.Select(s => (s.Name, Grammar: JsonSchemaCompiler.CompileToGrammar(JsonDocument.Parse(s.Schema).RootElement))).ToList();
            grammars.Add(("json_object", JsonSchemaCompiler.AnyObjectGrammar()));
            grammars.Add(("tool call (required, 2 tools)", ToolsGrammar(tok)));
            Console.WriteLine("| grammar | states | compile cold ms | compile warm ms (median of 20) | every position's mask ms | mask µs/step first pass (mean, p99, max) | mask µs/step cached (mean, p50, p99) | decode step ms (same rep) | cached mask / step |");
            Console.WriteLine("|---|---|---|---|---|---|---|---|---|");
            foreach (var (gname, grammar) in grammars)
            {
                clock.Restart();
                var tg = TokenGrammar.Create(grammar, vocab);
                double cold = clock.Elapsed.TotalMilliseconds;
                var warm = new List<double>();
                for (int i = 0; i < 20; i++)
                {
                    clock.Restart();
                    TokenGrammar.Create(grammar, vocab);
                    warm.Add(clock.Elapsed.TotalMilliseconds);
                }
                var first = Walks(tg, steps, seed: 1);
                var all = TokenGrammar.Create(grammar, vocab);
                clock.Restart();
                all.Precompute();
                double precompute = clock.Elapsed.TotalMilliseconds;
                for (int r = 0; r < reps; r++)
                {
                    // Interleaved: a decode rep, then a cached-mask rep over the same walks.
                    double stepMs = 1000 / runner.Decode(1, steps);
                    var cached = Walks(tg, steps, seed: 1);
                    Console.WriteLine(string.Create(Inv,
                        $"| {gname} | {tg.Automaton.TotalStates} | {cold:0.0} | {Median(warm):0.0} | {precompute:0} | {first.Average():0} ({Pct(first, 0.99):0}, {first.Max():0}) | {cached.Average():0} ({Pct(cached, 0.5):0}, {Pct(cached, 0.99):0}) | {stepMs:0.0} | {cached.Average() / 1000 / stepMs * 100:0.00} % |"));
                }
            }
        }
    }

    private static Grammar ToolsGrammar(Tokenizer tok)
    {
        var tools = new[]
        {
            new ToolDefinition("get_weather", "Weather", JsonDocument.Parse("""{"type":"object","properties":{"city":{"type":"string","maxLength":20},"unit":{"enum":["c","f"]}},"required":["city","unit"],"additionalProperties":false}""").RootElement),
            new ToolDefinition("add", "Adds", JsonDocument.Parse("""{"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"integer"}},"required":["a","b"],"additionalProperties":false}""").RootElement),
        };
        var format = tok.TryGetId("<｜tool▁calls▁begin｜>", out _) ? ToolCallFormat.DeepSeek : ToolCallFormat.Hermes;
        var set = new ToolSet(tools, ToolChoice.Required, ParallelCalls: true, format, Fallback: false);
        return set.Grammar(null)!.Compose(startsInReasoning: false);
    }

    /// <summary>Times Mask (compute + apply to logits) at every step of 4 uniform random walks; µs per step.</summary>
    private static List<double> Walks(TokenGrammar grammar, int steps, int seed)
    {
        var v = grammar.Vocabulary;
        var rng = new Random(seed);
        var logits = new float[v.Size];
        var times = new List<double>();
        for (int walk = 0; walk < 4; walk++)
        {
            var c = new GrammarConstraint(grammar);
            for (int s = 0; s < steps && !c.IsFinished; s++)
            {
                Array.Clear(logits);
                long t0 = Stopwatch.GetTimestamp();
                c.Mask(logits);
                times.Add(Stopwatch.GetElapsedTime(t0).TotalMicroseconds);
                int token;
                int tries = 0;
                do token = rng.Next(v.Size); while ((logits[token] != 0 || Array.BinarySearch(v.StopIds, token) >= 0) && ++tries < 4096);
                if (tries == 4096)
                {
                    var allowed = Enumerable.Range(0, v.Size).Where(t => logits[t] == 0 && Array.BinarySearch(v.StopIds, t) < 0).ToArray();
                    if (allowed.Length == 0) break;
                    token = allowed[rng.Next(allowed.Length)];
                }
                c.Accept(token);
            }
        }
        return times;
    }

    private static double Median(List<double> x) => Pct(x, 0.5);

    private static double Pct(List<double> x, double p)
    {
        var s = x.Order().ToArray();
        return s[Math.Min(s.Length - 1, (int)(p * s.Length))];
    }
}
