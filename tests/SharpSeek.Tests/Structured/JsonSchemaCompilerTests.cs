using System.Text.Json;
using SharpSeek.Structured;
using SharpSeek.Tests.Support;

namespace SharpSeek.Tests.Structured;

/// <summary>
/// Schema → grammar, checked from outside: outputs sampled uniformly among the allowed tokens of DeepSeek-V3's real
/// vocabulary are validated by JsonSchema.Net, and at sampled steps the mask is compared with a token-by-token
/// simulation over the whole vocabulary.
/// </summary>
public sealed class JsonSchemaCompilerTests
{
    public static TheoryData<string> Names() => [.. SchemaCases.All.Select(c => c.Name)];

    [Theory]
    [MemberData(nameof(Names))]
    public void Uniformly_sampled_outputs_validate(string name)
    {
        string schema = SchemaCases.All.Single(c => c.Name == name).Schema;
        var g = GrammarKit.Schema(schema, GrammarKit.DeepSeek.Value);
        var rng = new Random(StableSeed.Of(name));
        for (int i = 0; i < 40; i++)
        {
            var (text, finished, _) = GrammarKit.Walk(g, rng, 600, closeBias: name == "map");
            Assert.True(finished, $"{name}: not finished after 600 tokens: {text}");
            GrammarKit.AssertValid(schema, text);
        }
    }

    [Fact]
    public void Masks_equal_token_by_token_simulation_over_the_whole_vocabulary()
    {
        var v = GrammarKit.DeepSeek.Value;
        var rng = new Random(11);
        foreach (string name in (string[])["person", "tree", "shape", "scalars", "map"])
        {
            var g = GrammarKit.Schema(SchemaCases.All.Single(c => c.Name == name).Schema, v);
            int step = 0;
            GrammarKit.Walk(g, rng, 40, closeBias: true, check: c =>
            {
                if (step++ % 4 == 0) GrammarKit.AssertMaskExact(c, v);
            });
        }
        var any = TokenGrammar.Create(JsonSchemaCompiler.AnyObjectGrammar(), v);
        int s2 = 0;
        GrammarKit.Walk(any, rng, 40, closeBias: true, check: c => { if (s2++ % 4 == 0) GrammarKit.AssertMaskExact(c, v); });
    }

    [Fact]
    public void Json_object_mode_generates_any_object()
    {
        var g = TokenGrammar.Create(JsonSchemaCompiler.AnyObjectGrammar(), GrammarKit.DeepSeek.Value);
        var rng = new Random(5);
        int finished = 0;
        for (int i = 0; i < 30; i++)
        {
            var (text, done, _) = GrammarKit.Walk(g, rng, 400, closeBias: true);
            if (!done) continue;
            finished++;
            using var doc = JsonDocument.Parse(text);
            Assert.Equal(JsonValueKind.Object, doc.RootElement.ValueKind);
            Assert.Equal(text, JsonGrammar.Compact(doc.RootElement));   // compact: no whitespace between tokens
        }
        Assert.True(finished >= 20, $"only {finished} of 30 walks finished");
    }

    [Fact]
    public void Properties_come_in_schema_order_and_optional_ones_may_be_left_out()
    {
        var g = GrammarKit.Schema("""{"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"boolean"},"c":{"type":"null"}},"required":["b"]}""", GrammarKit.Bytes);
        foreach (string ok in (string[])["{\"b\":true}", "{\"a\":1,\"b\":false}", "{\"b\":true,\"c\":null}", "{\"a\":-5,\"b\":true,\"c\":null}"])
            Assert.True(GrammarKit.Matches(g, ok), ok);
        foreach (string bad in (string[])["{}", "{\"a\":1}", "{\"b\":true,\"a\":1}", "{\"b\":true,}", "{,\"b\":true}", "{\"b\": true}", "{\"b\":true,\"d\":1}"])
            Assert.False(GrammarKit.Matches(g, bad), bad);
    }

    [Fact]
    public void Arrays_respect_min_and_max_items_and_tuples()
    {
        var g = GrammarKit.Schema("""{"type":"array","items":{"type":"integer","minimum":0,"maximum":9},"minItems":2,"maxItems":3}""", GrammarKit.Bytes);
        foreach (string ok in (string[])["[1,2]", "[0,0,9]"]) Assert.True(GrammarKit.Matches(g, ok), ok);
        foreach (string bad in (string[])["[]", "[1]", "[1,2,3,4]", "[1,,2]", "[10,1]"]) Assert.False(GrammarKit.Matches(g, bad), bad);
        var t = GrammarKit.Schema("""{"prefixItems":[{"type":"boolean"},{"type":"null"}],"items":{"type":"integer"}}""", GrammarKit.Bytes);
        foreach (string ok in (string[])["[]", "[true]", "[false,null]", "[true,null,1,2]"]) Assert.True(GrammarKit.Matches(t, ok), ok);
        foreach (string bad in (string[])["[null]", "[true,1]", "[true,null,null]"]) Assert.False(GrammarKit.Matches(t, bad), bad);
    }

    [Fact]
    public void Recursive_refs_nest_through_grammar_rules()
    {
        var g = GrammarKit.Schema("""{"$defs":{"l":{"type":"array","items":{"$ref":"#/$defs/l"}}},"$ref":"#/$defs/l"}""", GrammarKit.Bytes);
        foreach (string ok in (string[])["[]", "[[]]", "[[],[[[]]]]"]) Assert.True(GrammarKit.Matches(g, ok), ok);
        foreach (string bad in (string[])["[[]", "[1]", "[[],]"]) Assert.False(GrammarKit.Matches(g, bad), bad);
        var self = GrammarKit.Schema("""{"type":"object","properties":{"next":{"$ref":"#"}},"additionalProperties":false}""", GrammarKit.Bytes);
        Assert.True(GrammarKit.Matches(self, """{"next":{"next":{}}}"""));
    }

    [Theory]
    [InlineData("""{"oneOf":[{"type":"string"}]}""", "oneOf", "#")]
    [InlineData("""{"type":"object","properties":{"x":{"not":{"type":"null"}}}}""", "not", "#/properties/x")]
    [InlineData("""{"type":"number","minimum":0}""", "minimum", "#")]
    [InlineData("""{"type":"string","format":"hostname"}""", "format", "#")]
    [InlineData("""{"type":"strin"}""", "type", "#")]
    [InlineData("""{"$ref":"https://example.com/s.json"}""", "$ref", "#")]
    [InlineData("""{"$ref":"#/$defs/missing"}""", "$ref", "#")]
    [InlineData("""{"type":"array","uniqueItems":true}""", "uniqueItems", "#")]
    [InlineData("""{"type":"string","pattern":"(?<=a)b"}""", "pattern", "#")]
    [InlineData("""{"type":"string","pattern":"^a$","maxLength":3}""", "pattern", "#")]
    [InlineData("""{"type":"integer","minimum":5,"maximum":4}""", "minimum", "#")]
    [InlineData("""{"type":"object","properties":{"a":{"type":"string"}},"additionalProperties":{"type":"string"}}""", "additionalProperties", "#")]
    [InlineData("""{"type":"object","required":["x"],"additionalProperties":false}""", "required", "#")]
    [InlineData("""{"items":[{"type":"string"}]}""", "items", "#")]
    [InlineData("""{"nullable":true,"type":"string"}""", "nullable", "#")]
    [InlineData("""{"allOf":[{"type":"string"},{"type":"integer"}]}""", "type", "#/allOf/1")]
    [InlineData("""{"type":"string","enum":["a"],"maxLength":3}""", "maxLength", "#")]
    public void Unsupported_or_invalid_schemas_name_the_keyword_and_place(string schema, string keyword, string path)
    {
        var e = Assert.Throws<SchemaException>(() => JsonSchemaCompiler.CompileToGrammar(JsonDocument.Parse(schema).RootElement));
        Assert.Equal(keyword, e.Keyword);
        Assert.Equal(path, e.Path);
        Assert.Contains(keyword, e.Message);
    }
}
