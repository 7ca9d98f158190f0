using System.Text.Json;
using static SharpSeek.Structured.GrammarExpr;

namespace SharpSeek.Structured;

/// <summary>
/// What a constrained answer must be: a JSON object, a value of a JSON schema, or (see the tool-call formats) a call.
/// <see cref="Key"/> identifies the grammar for caching; <see cref="Build"/> writes the answer's expression.
/// </summary>
public abstract class OutputGrammar
{
    /// <summary>A stable text identifying this grammar (two outputs with equal keys build equal grammars).</summary>
    public abstract string Key { get; }

    /// <summary>The expression of the answer, adding any rules it needs to <paramref name="compiler"/>'s grammar.</summary>
    public abstract GrammarExpr Build(JsonSchemaCompiler compiler);

    /// <summary>Any JSON object (<c>response_format: {"type": "json_object"}</c>, Ollama <c>format: "json"</c>).</summary>
    public static OutputGrammar JsonObject { get; } = new JsonObjectOutput();

    /// <summary>A value of <paramref name="schema"/>. The schema is compiled when first used (errors are <see cref="SchemaException"/>s).</summary>
    public static OutputGrammar JsonSchema(JsonElement schema) => new JsonSchemaOutput(schema.Clone());

    /// <summary>
    /// The grammar of a whole completion: the answer, or — when the prompt leaves the model inside a reasoning block —
    /// free reasoning text up to <c>&lt;/think&gt;</c>, at most two newlines, then the answer (think freely, answer strictly).
    /// Stop tokens are never part of it: they are allowed only once the answer is complete.
    /// </summary>
    public Grammar Compose(bool startsInReasoning)
    {
        var g = new Grammar("completion");
        var compiler = new JsonSchemaCompiler(g);
        var answer = Build(compiler);
        g.Define(0, startsInReasoning ? Seq(TextGrammar.Until("</think>"), Repeat(Byte((byte)'\n'), 0, 2), answer) : answer);
        return g;
    }

    private sealed class JsonObjectOutput : OutputGrammar
    {
        public override string Key => "json_object";
        public override GrammarExpr Build(JsonSchemaCompiler compiler) => Ref(compiler.Any.Object);
    }

    private sealed class JsonSchemaOutput(JsonElement schema) : OutputGrammar
    {
        public override string Key { get; } = "json_schema:" + schema.GetRawText();
        public override GrammarExpr Build(JsonSchemaCompiler compiler) => compiler.Compile(schema);
    }
}
