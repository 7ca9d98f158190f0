using System.Text.Json;
using SharpSeek.Chat;
using SharpSeek.Serving;
using SharpSeek.Structured;
using SharpSeek.Tools;

namespace SharpSeek.Server;

/// <summary>
/// Reads the tool and output-format fields of a chat request (OpenAI's <c>tools</c>, <c>tool_choice</c>,
/// <c>parallel_tool_calls</c>, <c>response_format</c>; Ollama's <c>tools</c> and <c>format</c>) and writes tool calls back.
/// Every field a client relies on is honoured or refused with a 400 that names it.
/// </summary>
internal static class ToolsJson
{
    /// <summary>A request's tool fields as read, before its model is known.</summary>
    public sealed record Request(IReadOnlyList<ToolDefinition> Tools, ToolChoice Choice, bool ParallelCalls)
    {
        /// <summary>The tools resolved for the model that serves the request (its call format; names and choice checked).</summary>
        public ToolSet Resolve(ChatPipeline pipeline)
        {
            try { return pipeline.ResolveTools(Tools, Choice, ParallelCalls); }
            catch (ToolException e) { throw ApiException.BadRequest(e.Message, e.Field); }
        }
    }

    /// <summary>OpenAI's tool fields; null when the request has no tools.</summary>
    public static Request? ReadOpenAi(JsonElement body)
    {
        if (body.TryGetProperty("functions", out var f) && f.ValueKind != JsonValueKind.Null)
            throw ApiException.BadRequest("'functions' is deprecated and not supported; send 'tools' with {\"type\": \"function\", \"function\": {...}}", "functions");
        if (body.TryGetProperty("function_call", out var fc) && fc.ValueKind != JsonValueKind.Null)
            throw ApiException.BadRequest("'function_call' is deprecated and not supported; use 'tool_choice'", "function_call");
        var tools = Definitions(RequestJson.Array(body, "tools"));
        var choice = Choice(body, tools.Count > 0);
        bool parallel = RequestJson.Bool(body, "parallel_tool_calls") ?? true;
        if (tools.Count == 0 && choice is null) return null;
        return new Request(tools, choice ?? ToolChoice.Auto, parallel);
    }

    /// <summary>
    /// Ollama's <c>tools</c> (the same objects as OpenAI's). Ollama has no tool choice; SharpSeek also reads OpenAI's
    /// <c>tool_choice</c> here (an extension: absent, the model decides, as in Ollama).
    /// </summary>
    public static Request? ReadOllama(JsonElement body)
    {
        var tools = Definitions(RequestJson.Array(body, "tools"));
        var choice = Choice(body, tools.Count > 0);
        return tools.Count == 0 ? null : new Request(tools, choice ?? ToolChoice.Auto, ParallelCalls: true);
    }

    private static List<ToolDefinition> Definitions(JsonElement? array)
    {
        var list = new List<ToolDefinition>();
        if (array is not { } a) return list;
        int i = 0;
        foreach (var t in a.EnumerateArray())
        {
            string at = $"tools[{i++}]";
            if (t.ValueKind != JsonValueKind.Object) throw ApiException.BadRequest($"{at} must be an object", at);
            string type = RequestJson.String(t, "type") ?? "function";
            if (type != "function") throw ApiException.BadRequest($"{at}.type '{type}' is not supported (only 'function')", at + ".type");
            var fn = RequestJson.Object(t, "function") ?? throw ApiException.BadRequest($"{at}.function is required", at + ".function");
            string name = RequestJson.String(fn, "name") ?? throw ApiException.BadRequest($"{at}.function.name is required", at + ".function.name");
            JsonElement? parameters = fn.TryGetProperty("parameters", out var p) && p.ValueKind != JsonValueKind.Null ? p.Clone() : null;
            list.Add(new ToolDefinition(name, RequestJson.String(fn, "description"), parameters) { Strict = RequestJson.Bool(fn, "strict") ?? false, Definition = t.Clone() });
        }
        return list;
    }

    private static ToolChoice? Choice(JsonElement body, bool hasTools)
    {
        if (!body.TryGetProperty("tool_choice", out var c) || c.ValueKind == JsonValueKind.Null) return null;
        if (c.ValueKind == JsonValueKind.String)
        {
            return c.GetString() switch
            {
                "auto" => ToolChoice.Auto,
                "none" => ToolChoice.None,
                "required" => ToolChoice.Required,
                var other => throw ApiException.BadRequest($"tool_choice '{other}' is not one of none, auto, required or {{\"type\": \"function\", \"function\": {{\"name\": ...}}}}", "tool_choice"),
            };
        }
        if (c.ValueKind != JsonValueKind.Object) throw ApiException.BadRequest("tool_choice must be a string or an object", "tool_choice");
        string? type = RequestJson.String(c, "type");
        if (type != "function") throw ApiException.BadRequest($"tool_choice.type '{type}' is not supported (only 'function')", "tool_choice.type");
        string? name = RequestJson.Object(c, "function") is { } fn ? RequestJson.String(fn, "name") : null;
        if (string.IsNullOrEmpty(name)) throw ApiException.BadRequest("tool_choice.function.name is required", "tool_choice.function.name");
        if (!hasTools) throw ApiException.BadRequest($"tool_choice names function '{name}' but the request has no tools", "tool_choice");
        return ToolChoice.Named(name);
    }

    /// <summary>OpenAI's <c>response_format</c>: text (null), json_object, or json_schema (its schema compiled now, so errors are a 400 naming it).</summary>
    public static OutputGrammar? ResponseFormat(JsonElement body)
    {
        if (RequestJson.Object(body, "response_format") is not { } rf) return null;
        string? type = RequestJson.String(rf, "type");
        switch (type)
        {
            case "text" or null: return null;
            case "json_object": return OutputGrammar.JsonObject;
            case "json_schema":
                var js = RequestJson.Object(rf, "json_schema") ?? throw ApiException.BadRequest("response_format.json_schema is required for type json_schema", "response_format.json_schema");
                if (RequestJson.String(js, "name") is not { Length: > 0 }) throw ApiException.BadRequest("response_format.json_schema.name is required", "response_format.json_schema.name");
                var schema = js.TryGetProperty("schema", out var s) && s.ValueKind != JsonValueKind.Null ? s : JsonDocument.Parse("{}").RootElement;
                return Schema(schema, "response_format.json_schema.schema");
            default:
                throw ApiException.BadRequest($"response_format.type '{type}' is not supported (text, json_object, json_schema)", "response_format.type");
        }
    }

    /// <summary>Ollama's <c>format</c>: <c>"json"</c> or a JSON schema.</summary>
    public static OutputGrammar? OllamaFormat(JsonElement body)
    {
        if (!body.TryGetProperty("format", out var f) || f.ValueKind == JsonValueKind.Null) return null;
        if (f.ValueKind == JsonValueKind.String)
        {
            string s = f.GetString()!;
            if (s.Length == 0) return null;
            if (s == "json") return OutputGrammar.JsonObject;
            throw ApiException.BadRequest($"format '{s}' is not supported (\"json\" or a JSON schema object)", "format");
        }
        if (f.ValueKind != JsonValueKind.Object) throw ApiException.BadRequest("format must be \"json\" or a JSON schema object", "format");
        return Schema(f, "format");
    }

    /// <summary>
    /// Compiles the schema up front, before a model is loaded for the request, so a bad one is a 400 naming field and
    /// keyword; the grammar that constrains the output is built (and cached) when the completion starts.
    /// </summary>
    private static OutputGrammar Schema(JsonElement schema, string field)
    {
        try { JsonSchemaCompiler.CompileToGrammar(schema); }
        catch (SchemaException e)
        {
            throw ApiException.BadRequest($"{field}: {e.Message}" + (e.Keyword is { } k ? $" (keyword '{k}')" : ""), field);
        }
        return OutputGrammar.JsonSchema(schema);
    }

    /// <summary>Maps grammar errors raised when a completion starts (tool schemas are compiled then) to 400s naming the field.</summary>
    public static Exception Map(Exception e) => e switch
    {
        ToolException t => ApiException.BadRequest(t.Message + (t.Keyword is { } k ? $" (keyword '{k}')" : ""), t.Field),
        GrammarException g => ApiException.BadRequest(g.Message),
        _ => e,
    };

    /// <summary>
    /// A request message's <c>tool_calls</c>: OpenAI's carry the arguments as JSON text, Ollama's as an object (taken as
    /// its JSON text, which is what templates render).
    /// </summary>
    public static IReadOnlyList<ChatToolCall> ReadCalls(JsonElement array)
    {
        var calls = new List<ChatToolCall>();
        foreach (var c in array.EnumerateArray())
        {
            if (c.ValueKind != JsonValueKind.Object) throw ApiException.BadRequest("each tool call must be an object", "messages");
            var fn = RequestJson.Object(c, "function") ?? throw ApiException.BadRequest("a tool call needs a 'function'", "messages");
            string args = fn.TryGetProperty("arguments", out var a) && a.ValueKind != JsonValueKind.Null
                ? (a.ValueKind == JsonValueKind.String ? a.GetString()! : a.GetRawText())
                : "{}";
            calls.Add(new ChatToolCall(RequestJson.String(fn, "name") ?? "", args)
            {
                Id = RequestJson.String(c, "id"),
                Type = RequestJson.String(c, "type") ?? "function",
            });
        }
        return calls;
    }

    /// <summary>OpenAI's <c>tool_calls</c> array of a message.</summary>
    public static void WriteCalls(Utf8JsonWriter w, IReadOnlyList<ToolCall> calls)
    {
        w.WriteStartArray("tool_calls");
        foreach (var c in calls)
        {
            w.WriteStartObject();
            w.WriteString("id", c.Id);
            w.WriteString("type", "function");
            w.WriteStartObject("function");
            w.WriteString("name", c.Name);
            w.WriteString("arguments", c.Arguments);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    /// <summary>OpenAI's streamed <c>delta.tool_calls</c>: index; id, type and name on a call's first piece; argument fragments.</summary>
    public static void WriteDeltas(Utf8JsonWriter w, IReadOnlyList<ToolCallDelta> deltas)
    {
        w.WriteStartArray("tool_calls");
        foreach (var d in deltas)
        {
            w.WriteStartObject();
            w.WriteNumber("index", d.Index);
            if (d.Id is not null)
            {
                w.WriteString("id", d.Id);
                w.WriteString("type", "function");
            }
            w.WriteStartObject("function");
            if (d.Name is not null) w.WriteString("name", d.Name);
            w.WriteString("arguments", d.Arguments);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }
}
