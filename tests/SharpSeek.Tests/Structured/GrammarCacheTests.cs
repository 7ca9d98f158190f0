using System.Text.Json;
using SharpSeek.Structured;

namespace SharpSeek.Tests.Structured;

/// <summary>A schema is compiled once per vocabulary and reused; least recently used grammars leave first; failures are not kept.</summary>
public sealed class GrammarCacheTests
{
    private static OutputGrammar Schema(string json) => OutputGrammar.JsonSchema(JsonDocument.Parse(json).RootElement);

    [Fact]
    public void The_same_schema_is_compiled_once_and_shared_between_requests()
    {
        var cache = new GrammarCache(GrammarKit.DeepSeek.Value);
        string person = SchemaCases.All.Single(c => c.Name == "person").Schema;
        var first = cache.Get(Schema(person), startsInReasoning: false);
        var grammars = Enumerable.Range(0, 16).AsParallel().Select(_ => cache.Get(Schema(person), startsInReasoning: false)).ToList();
        Assert.All(grammars, g => Assert.Same(first, g));
        Assert.Equal(1, cache.Count);
        // Thinking first is another grammar.
        Assert.NotSame(first, cache.Get(Schema(person), startsInReasoning: true));
        Assert.Equal(2, cache.Count);
    }

    [Fact]
    public void The_least_recently_used_grammar_leaves_first()
    {
        var cache = new GrammarCache(GrammarKit.Bytes, capacity: 2);
        var a = cache.Get(Schema("""{"const":1}"""), false);
        var b = cache.Get(Schema("""{"const":2}"""), false);
        Assert.Same(a, cache.Get(Schema("""{"const":1}"""), false));   // a is now the most recent
        cache.Get(Schema("""{"const":3}"""), false);                     // b leaves
        Assert.Equal(2, cache.Count);
        Assert.Same(a, cache.Get(Schema("""{"const":1}"""), false));
        Assert.NotSame(b, cache.Get(Schema("""{"const":2}"""), false));
    }

    [Fact]
    public void A_schema_that_fails_is_not_kept()
    {
        var cache = new GrammarCache(GrammarKit.Bytes);
        var bad = Schema("""{"not":{}}""");
        Assert.Throws<SchemaException>(() => cache.Get(bad, false));
        Assert.Equal(0, cache.Count);
        Assert.Throws<SchemaException>(() => cache.Get(bad, false));
    }
}
