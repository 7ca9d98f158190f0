using System.Text;
using System.Text.Json;
using Json.Schema;
using SharpSeek.Structured;
using SharpSeek.Tokenization;

namespace SharpSeek.Tests.Structured;

/// <summary>Helpers for grammar tests: byte-level matching, random walks through a real vocabulary, the exhaustive mask check, and the independent validator.</summary>
public static class GrammarKit
{
    /// <summary>Byte tokens 0..255, EOS = 256.</summary>
    public static readonly TokenVocabulary Bytes = TokenVocabulary.FromBytes(
        [.. Enumerable.Range(0, 257).Select(i => i < 256 ? new[] { (byte)i } : [])], new Dictionary<int, string> { [256] = "<eos>" }, [256]);

    private static readonly Lazy<Tokenizer> DeepSeekTokenizer = new(() => Tokenizer.FromFile(Fixtures.Path("tokenizers", "deepseek-v3")));
    private static readonly Lazy<Tokenizer> QwenTokenizer = new(() => Tokenizer.FromFile(Fixtures.Path("tokenizers", "qwen3")));

    /// <summary>DeepSeek-V3's real vocabulary (129,280 logits, EOS 1).</summary>
    public static readonly Lazy<TokenVocabulary> DeepSeek = new(() => TokenVocabulary.From(DeepSeekTokenizer.Value, 129280, [1]));

    /// <summary>Qwen's real vocabulary (151,936 logits, stops &lt;|endoftext|&gt; and &lt;|im_end|&gt;).</summary>
    public static readonly Lazy<TokenVocabulary> Qwen = new(() => TokenVocabulary.From(QwenTokenizer.Value, 151936, [151643, 151645]));

    public static Tokenizer DeepSeekTok => DeepSeekTokenizer.Value;

    /// <summary>Whether <paramref name="grammar"/> matches <paramref name="text"/> exactly (byte by byte).</summary>
    public static bool Matches(TokenGrammar grammar, string text) => Matches(grammar, Encoding.UTF8.GetBytes(text));

    public static bool Matches(TokenGrammar grammar, byte[] bytes)
    {
        var c = new GrammarConstraint(grammar);
        foreach (byte b in bytes)
        {
            if (!c.IsAllowed(b)) return false;
            c.Accept(b);
        }
        return c.IsComplete;
    }

    public static TokenGrammar ForBytes(Grammar g) => TokenGrammar.Create(g, Bytes);

    public static TokenGrammar Schema(string schema, TokenVocabulary vocab) =>
        TokenGrammar.Create(JsonSchemaCompiler.CompileToGrammar(JsonDocument.Parse(schema).RootElement), vocab);

    /// <summary>
    /// Samples tokens uniformly among those the mask allows until only a stop token may follow (or <paramref name="maxTokens"/>);
    /// with <paramref name="closeBias"/>, half the time it prefers an allowed one-byte structural token so open strings close.
    /// Returns the text and whether it finished.
    /// </summary>
    public static (string Text, bool Finished, int Tokens) Walk(TokenGrammar grammar, Random rng, int maxTokens, bool closeBias = false, Action<GrammarConstraint>? check = null)
    {
        var v = grammar.Vocabulary;
        var structural = Structural(v);
        var c = new GrammarConstraint(grammar);
        var bytes = new List<byte>();
        var allowed = new List<int>();
        for (int step = 0; step < maxTokens; step++)
        {
            check?.Invoke(c);
            var bits = c.ComputeAllowed();
            int count = c.AllowedCount();
            Assert.True(count > 0, "the mask allows nothing");
            if (c.IsComplete && (c.IsFinished || rng.Next(4) == 0)) return (Encoding.UTF8.GetString([.. bytes]), true, step);
            int token = -1;
            if (closeBias && rng.Next(2) == 0)
            {
                var ok = structural.Where(c.WasAllowed).ToList();
                if (ok.Count > 0) token = ok[rng.Next(ok.Count)];
            }
            if (token < 0 && count > v.Size / 16)
            {
                // Most tokens are allowed: draw until one is (uniform among the allowed ones).
                do token = rng.Next(v.Size); while (!c.WasAllowed(token) || Array.BinarySearch(v.StopIds, token) >= 0);
            }
            if (token < 0)
            {
                allowed.Clear();
                for (int w = 0; w < bits.Length; w++)
                    for (ulong b = bits[w]; b != 0; b &= b - 1)
                    {
                        int t = w * 64 + System.Numerics.BitOperations.TrailingZeroCount(b);
                        if (Array.BinarySearch(v.StopIds, t) < 0) allowed.Add(t);
                    }
                if (allowed.Count == 0) return (Encoding.UTF8.GetString([.. bytes]), true, step);
                token = allowed[rng.Next(allowed.Count)];
            }
            c.Accept(token);
            bytes.AddRange(v.Bytes(token).ToArray());
        }
        return (Encoding.UTF8.GetString([.. bytes]), false, maxTokens);
    }

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<TokenVocabulary, int[]> StructuralTokens = new();

    private static int[] Structural(TokenVocabulary v) => StructuralTokens.GetValue(v, v =>
        [.. Enumerable.Range(0, v.Size).Where(t => v.Bytes(t) is { Length: 1 } b && "\"}],:0123456789".Contains((char)b[0]))]);

    /// <summary>The mask equals, token by token over the whole vocabulary, what simulating each token on the full stacks allows.</summary>
    public static void AssertMaskExact(GrammarConstraint c, TokenVocabulary v)
    {
        c.ComputeAllowed();
        for (int t = 0; t < v.Size; t++)
        {
            bool masked = c.WasAllowed(t), simulated = c.IsAllowed(t);
            if (masked != simulated)
                Assert.Fail($"token {t} ({Encoding.UTF8.GetString(v.Bytes(t))}) at position {c.Position}: mask says {masked}, simulation says {simulated}");
        }
    }

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, JsonSchema> Schemas = new();

    /// <summary>Validates <paramref name="json"/> against <paramref name="schema"/> with JsonSchema.Net (formats asserted, as it does by default).</summary>
    public static void AssertValid(string schema, string json)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(json); }
        catch (JsonException e) { Assert.Fail($"not JSON ({e.Message}): {json}"); return; }
        using (doc)
        {
            var result = Schemas.GetOrAdd(schema, s => JsonSchema.FromText(s)).Evaluate(doc.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
            if (!result.IsValid)
            {
                var errors = result.Details?.Where(d => d.Errors is not null).SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation} {e.Key}: {e.Value}")) ?? [];
                Assert.Fail($"invalid against {schema}: {json}\n{string.Join("\n", errors)}");
            }
        }
    }
}
