using System.Text;
using System.Text.Json;
using SharpSeek.Structured;
using static SharpSeek.Structured.GrammarExpr;

namespace SharpSeek.Tools;

/// <summary>
/// A function the model may call: OpenAI's <c>{"type": "function", "function": {name, description, parameters, strict}}</c>.
/// With <see cref="Strict"/>, the arguments the model writes are forced to validate against <see cref="Parameters"/>.
/// </summary>
public sealed record ToolDefinition(string Name, string? Description = null, JsonElement? Parameters = null)
{
    /// <summary>Whether the arguments must follow <see cref="Parameters"/> (grammar-constrained).</summary>
    public bool Strict { get; init; }

    /// <summary>The client's whole tool object, when it came as JSON (templates render it as sent).</summary>
    public JsonElement? Definition { get; init; }

    /// <summary>The tool as a chat template sees it.</summary>
    public Chat.ChatTool ToChatTool() => new(Name, Description, Parameters) { Definition = Definition };
}

/// <summary>OpenAI's <c>tool_choice</c>.</summary>
public enum ToolChoiceMode
{
    /// <summary>The model decides whether to call tools.</summary>
    Auto,
    /// <summary>No calls: the model answers in text (tools are not offered).</summary>
    None,
    /// <summary>At least one call, to any tool.</summary>
    Required,
    /// <summary>A call to one named function.</summary>
    Function,
}

/// <summary>OpenAI's <c>tool_choice</c>: a mode, and the function's name for <see cref="ToolChoiceMode.Function"/>.</summary>
public sealed record ToolChoice(ToolChoiceMode Mode, string? Function = null)
{
    public static ToolChoice Auto { get; } = new(ToolChoiceMode.Auto);
    public static ToolChoice None { get; } = new(ToolChoiceMode.None);
    public static ToolChoice Required { get; } = new(ToolChoiceMode.Required);
    public static ToolChoice Named(string function) => new(ToolChoiceMode.Function, function);
    public bool Forced => Mode is ToolChoiceMode.Required or ToolChoiceMode.Function;
}

/// <summary>
/// The tools of one request, resolved for a model: what is offered, the choice, whether several calls may come at
/// once, the model's call format, and whether the tools are described by the system-prompt fallback because the model's
/// template has no tool format of its own.
/// </summary>
public sealed record ToolSet(IReadOnlyList<ToolDefinition> Tools, ToolChoice Choice, bool ParallelCalls, ToolCallFormat Format, bool Fallback)
{
    /// <summary>Checks names (OpenAI's rule: 1-64 of a-z, A-Z, 0-9, _ and -; unique) and that a named choice exists.</summary>
    /// <exception cref="ToolException">naming the field at fault.</exception>
    public void Validate()
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < Tools.Count; i++)
        {
            string name = Tools[i].Name;
            if (name.Length is 0 or > 64 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-'))
                throw new ToolException($"tools[{i}].function.name", $"tool name '{name}' must be 1 to 64 letters, digits, '_' or '-'");
            if (!seen.Add(name)) throw new ToolException($"tools[{i}].function.name", $"tool name '{name}' appears twice");
            if (Tools[i].Parameters is { } p && p.ValueKind is not (JsonValueKind.Object or JsonValueKind.True))
                throw new ToolException($"tools[{i}].function.parameters", "'parameters' must be a JSON Schema object");
        }
        if (Choice.Forced && Tools.Count == 0) throw new ToolException("tool_choice", $"tool_choice '{Choice.Mode.ToString().ToLowerInvariant()}' needs tools");
        if (Choice.Mode == ToolChoiceMode.Function && !seen.Contains(Choice.Function ?? ""))
            throw new ToolException("tool_choice", $"tool_choice names function '{Choice.Function}', which is not among the tools ({string.Join(", ", Tools.Select(t => t.Name))})");
    }

    /// <summary>Whether the answer is read for tool calls.</summary>
    public bool ParsesCalls => Choice.Mode != ToolChoiceMode.None && Tools.Count > 0;

    /// <summary>
    /// The grammar the answer must follow, or null when it is free: a forced choice is a call block (its arguments following
    /// each tool's schema); <c>auto</c> with a strict tool or a response format is free text (or that format) optionally
    /// followed by a call block, where strict tools' arguments follow their schemas and the others' are any JSON object.
    /// </summary>
    public OutputGrammar? Grammar(OutputGrammar? answer)
    {
        if (!ParsesCalls) return answer;
        if (Choice.Mode == ToolChoiceMode.Auto && answer is null && !Tools.Any(t => t.Strict)) return null;
        return new CallsOutput(this, answer);
    }

    private sealed class CallsOutput(ToolSet set, OutputGrammar? answer) : OutputGrammar
    {
        public override string Key { get; } = BuildKey(set, answer);

        private static string BuildKey(ToolSet set, OutputGrammar? answer)
        {
            var sb = new StringBuilder("tools:").Append(set.Format.Name).Append('|').Append(set.Choice.Mode).Append(':').Append(set.Choice.Function)
                .Append('|').Append(set.ParallelCalls).Append('|').Append(answer?.Key);
            foreach (var t in set.Tools) sb.Append('|').Append(t.Name).Append(t.Strict ? "!" : "").Append(t.Parameters?.GetRawText());
            return sb.ToString();
        }

        public override GrammarExpr Build(JsonSchemaCompiler compiler)
        {
            var offered = new List<(string, GrammarExpr)>();
            for (int i = 0; i < set.Tools.Count; i++)
            {
                var t = set.Tools[i];
                if (set.Choice.Mode == ToolChoiceMode.Function && t.Name != set.Choice.Function) continue;
                offered.Add((t.Name, Arguments(compiler, t, i)));
            }
            var calls = set.Format.Calls(offered, set.ParallelCalls);
            if (set.Choice.Forced) return calls;
            // auto: the response format's answer, or free text that may end in a call block.
            return answer is not null ? Alt(answer.Build(compiler), calls) : Seq(TextGrammar.Without(set.Format.Marker), Optional(calls));
        }

        private GrammarExpr Arguments(JsonSchemaCompiler compiler, ToolDefinition t, int index)
        {
            if (!t.Strict && !set.Choice.Forced) return Ref(compiler.Any.Object);
            if (t.Parameters is not { } p) return Literal("{}");
            try { return compiler.Compile(p); }
            catch (SchemaException e)
            {
                throw new ToolException($"tools[{index}].function.parameters", $"tool '{t.Name}': {e.Message}", e.Keyword);
            }
        }
    }
}

/// <summary>A tool request the model cannot serve: names the request field (<c>tools[0].function.parameters</c>, <c>tool_choice</c>) and the schema keyword, if any.</summary>
public sealed class ToolException(string field, string message, string? keyword = null) : SharpSeekException(message)
{
    public string Field { get; } = field;
    public string? Keyword { get; } = keyword;
}
