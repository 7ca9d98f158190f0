using System.Numerics;
using System.Text;
using System.Text.Json;
using static SharpSeek.Structured.GrammarExpr;

namespace SharpSeek.Structured;

/// <summary>
/// Compiles a JSON Schema (a documented subset of draft 2020-12) into a grammar of compact JSON that every output of
/// which validates against the schema.
/// <list type="bullet">
/// <item><c>type</c> (one or a list), <c>enum</c>, <c>const</c>, <c>anyOf</c>, <c>allOf</c> (merged into one schema when
/// the parts do not conflict), <c>$ref</c> to a JSON pointer in the same document (<c>#</c>, <c>#/$defs/X</c>,
/// <c>#/definitions/X</c>, ...; recursion becomes grammar recursion), <c>$defs</c>/<c>definitions</c>.</item>
/// <item>Strings: <c>minLength</c>, <c>maxLength</c> (in code points), <c>pattern</c> (see <see cref="PatternGrammar"/>).
/// Integers: <c>minimum</c>, <c>maximum</c>, <c>exclusiveMinimum</c>, <c>exclusiveMaximum</c>, exactly.</item>
/// <item>Objects: <c>properties</c> (written in the schema's order), <c>required</c>, <c>additionalProperties</c>
/// (<c>false</c>; or a schema when there are no <c>properties</c>, a map). When <c>properties</c> are given, no other
/// property is ever generated, whatever <c>additionalProperties</c> says (a subset: still valid).</item>
/// <item>Arrays: <c>items</c>, <c>prefixItems</c>, <c>minItems</c>, <c>maxItems</c>.</item>
/// <item>Annotations are ignored (<c>title</c>, <c>description</c>, <c>default</c>, <c>examples</c>, <c>format</c>, ...,
/// as 2020-12 treats <c>format</c> by default). Without <c>type</c>, the types the other keywords constrain are generated
/// (an object for <c>properties</c>, ...), or any value when there are none.</item>
/// </list>
/// Any other keyword, or a combination that cannot be expressed exactly, is a <see cref="SchemaException"/> naming the
/// keyword and where it is.
/// </summary>
public sealed class JsonSchemaCompiler(Grammar grammar)
{
    private static readonly HashSet<string> Annotations = new(StringComparer.Ordinal)
    {
        "title", "description", "default", "examples", "$comment", "$schema", "$id", "$anchor", "deprecated", "readOnly", "writeOnly",
        "format", "contentEncoding", "contentMediaType", "$defs", "definitions",
    };

    private static readonly string[] AllTypes = ["object", "array", "string", "number", "boolean", "null"];

    private AnyValueRules? _any;
    private JsonElement _root;
    private readonly Dictionary<string, GrammarExpr> _refDone = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _refRule = new(StringComparer.Ordinal);
    private readonly HashSet<string> _refActive = new(StringComparer.Ordinal);
    private readonly HashSet<string> _mergeActive = new(StringComparer.Ordinal);

    public Grammar Grammar { get; } = grammar;

    /// <summary>A grammar whose start rule is a value of <paramref name="schema"/>.</summary>
    public static Grammar CompileToGrammar(JsonElement schema)
    {
        var g = new Grammar("schema");
        g.Define(0, new JsonSchemaCompiler(g).Compile(schema));
        return g;
    }

    /// <summary>A grammar whose start rule is any JSON object (<c>response_format: json_object</c>, Ollama's <c>format: "json"</c>).</summary>
    public static Grammar AnyObjectGrammar()
    {
        var g = new Grammar("json-object-root");
        var c = new JsonSchemaCompiler(g);
        g.Define(0, Ref(c.Any.Object));
        return g;
    }

    /// <summary>The free-form JSON rules of this grammar (added on first use).</summary>
    public AnyValueRules Any => _any ??= JsonGrammar.AddAnyValue(Grammar);

    /// <summary>An expression for a value of <paramref name="schema"/>, a document of its own (its <c>$ref</c>s resolve inside it).</summary>
    /// <exception cref="SchemaException">the schema is invalid or uses what this compiler does not support.</exception>
    public GrammarExpr Compile(JsonElement schema)
    {
        _root = schema;
        _refDone.Clear();
        _refRule.Clear();
        _refActive.Clear();
        _mergeActive.Clear();
        var e = Value(schema, "#");
        if (ReferenceEquals(e, Nothing)) throw new SchemaException("#", null, "the schema allows no value at all");
        return e;
    }

    private GrammarExpr Value(JsonElement schema, string path)
    {
        switch (schema.ValueKind)
        {
            case JsonValueKind.True: return Ref(Any.Value);
            case JsonValueKind.False: return Nothing;
            case JsonValueKind.Object: break;
            default: throw new SchemaException(path, null, $"a schema must be an object or a boolean, not {Kind(schema)}");
        }
        var s = Props(schema);
        return Value(s, path);
    }

    private GrammarExpr Value(Dictionary<string, JsonElement> s, string path)
    {
        if (s.TryGetValue("$ref", out var refValue))
        {
            string target = refValue.ValueKind == JsonValueKind.String ? refValue.GetString()! : throw new SchemaException(path, "$ref", "'$ref' must be a string");
            var rest = Without(s, "$ref");
            if (rest.Keys.All(Annotations.Contains)) return RefValue(target, path);
            // $ref beside other keywords: both apply, so merge the target into the siblings.
            var resolved = Resolve(target, path);
            if (resolved.ValueKind == JsonValueKind.False) return Nothing;
            if (resolved.ValueKind == JsonValueKind.True) return Value(rest, path);
            if (_refActive.Contains(target) || !_mergeActive.Add(target))
                throw new SchemaException(path, "$ref", $"a recursive '$ref' ({target}) beside other keywords is not supported");
            try { return Value(Merge(rest, Props(resolved), path), path); }
            finally { _mergeActive.Remove(target); }
        }
        if (s.TryGetValue("allOf", out var allOf))
        {
            var merged = Without(s, "allOf");
            var allActivated = new List<string>();
            int i = 0;
            foreach (var part in Array(allOf, path, "allOf"))
            {
                string p = $"{path}/allOf/{i++}";
                var resolved = part;
                var activated = new List<string>();
                // A part that is a plain $ref merges as its target.
                while (resolved.ValueKind == JsonValueKind.Object && Props(resolved) is var pp && pp.TryGetValue("$ref", out var r) && pp.Keys.Where(k => k != "$ref").All(Annotations.Contains))
                {
                    string target = r.ValueKind == JsonValueKind.String ? r.GetString()! : throw new SchemaException(p, "$ref", "'$ref' must be a string");
                    if (_refActive.Contains(target) || _mergeActive.Contains(target) || activated.Contains(target))
                        throw new SchemaException(p, "allOf", $"a recursive '$ref' ({target}) inside allOf is not supported");
                    activated.Add(target);
                    resolved = Resolve(target, p);
                }
                if (resolved.ValueKind == JsonValueKind.False) return Nothing;
                if (resolved.ValueKind == JsonValueKind.True) continue;
                if (resolved.ValueKind != JsonValueKind.Object) throw new SchemaException(p, null, "a schema must be an object or a boolean");
                merged = Merge(merged, Props(resolved), p);
                allActivated.AddRange(activated);
            }
            foreach (string target in allActivated) _mergeActive.Add(target);
            try { return Value(merged, path); }
            finally { foreach (string target in allActivated) _mergeActive.Remove(target); }
        }
        foreach (var key in s.Keys)
        {
            if (Annotations.Contains(key) || Known.Contains(key)) continue;
            throw new SchemaException(path, key, Unsupported(key));
        }
        if (s.TryGetValue("anyOf", out var anyOf))
        {
            var rest = Without(s, "anyOf");
            var alts = new List<GrammarExpr>();
            int i = 0;
            foreach (var branch in Array(anyOf, path, "anyOf"))
            {
                string p = $"{path}/anyOf/{i++}";
                if (rest.Keys.All(Annotations.Contains)) { alts.Add(Value(branch, p)); continue; }
                if (branch.ValueKind == JsonValueKind.False) continue;
                if (branch.ValueKind == JsonValueKind.True) { alts.Add(Value(rest, p)); continue; }
                if (branch.ValueKind != JsonValueKind.Object) throw new SchemaException(p, null, "a schema must be an object or a boolean");
                alts.Add(Value(Merge(rest, Props(branch), p), p));
            }
            if (i == 0) throw new SchemaException(path, "anyOf", "'anyOf' must not be empty");
            return Alt([.. alts]);
        }
        if (s.TryGetValue("enum", out var en) || s.TryGetValue("const", out en))
            return Enum(s, path);
        return Typed(s, path);
    }

    private static readonly HashSet<string> Known = new(StringComparer.Ordinal)
    {
        "type", "enum", "const", "anyOf", "properties", "required", "additionalProperties", "items", "prefixItems", "minItems", "maxItems",
        "minLength", "maxLength", "pattern", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "uniqueItems",
    };

    private static string Unsupported(string key) => key switch
    {
        "oneOf" => "'oneOf' is not supported (exactly-one cannot be enforced while generating); use 'anyOf'",
        "not" or "if" or "then" or "else" => $"'{key}' is not supported",
        "multipleOf" => "'multipleOf' is not supported",
        "patternProperties" or "propertyNames" or "minProperties" or "maxProperties" or "dependentRequired" or "dependentSchemas"
            or "unevaluatedProperties" => $"'{key}' is not supported",
        "contains" or "minContains" or "maxContains" or "unevaluatedItems" or "additionalItems" => $"'{key}' is not supported",
        "$dynamicRef" or "$dynamicAnchor" or "$recursiveRef" or "$recursiveAnchor" => $"'{key}' is not supported (use '$ref' to '#/$defs/...')",
        "nullable" => "'nullable' is OpenAPI, not JSON Schema; use \"type\": [\"...\", \"null\"] or anyOf",
        _ => $"unknown or unsupported keyword '{key}'",
    };

    private GrammarExpr RefValue(string target, string path)
    {
        if (_refRule.TryGetValue(target, out int rule)) return Ref(rule);
        if (_refDone.TryGetValue(target, out var done)) return done;
        if (_mergeActive.Contains(target)) throw new SchemaException(path, "$ref", $"a recursive '$ref' ({target}) through allOf or a '$ref' with siblings is not supported");
        if (_refActive.Contains(target))
        {
            // Recursion: the target becomes a rule of its own, defined when its outermost use finishes.
            rule = Grammar.AddRule("ref " + target);
            _refRule[target] = rule;
            return Ref(rule);
        }
        var schema = Resolve(target, path);
        _refActive.Add(target);
        GrammarExpr e;
        try { e = Value(schema, target); }
        finally { _refActive.Remove(target); }
        if (_refRule.TryGetValue(target, out rule))
        {
            Grammar.Define(rule, e);
            return Ref(rule);
        }
        if (e.Size > 4000)
        {
            // A large definition used more than once is cheaper as a rule than as copies.
            rule = Grammar.AddRule("ref " + target);
            Grammar.Define(rule, e);
            _refRule[target] = rule;
            return Ref(rule);
        }
        _refDone[target] = e;
        return e;
    }

    /// <summary>Resolves a JSON pointer reference inside the document (<c>#</c>, <c>#/$defs/name</c>, ...).</summary>
    private JsonElement Resolve(string target, string path)
    {
        if (!target.StartsWith('#')) throw new SchemaException(path, "$ref", $"'$ref' '{target}': only references inside the schema ('#/...') are supported");
        var at = _root;
        if (target.Length == 1) return at;
        if (target[1] != '/') throw new SchemaException(path, "$ref", $"'$ref' '{target}' is not a JSON pointer (anchors are not supported)");
        foreach (string raw in target[2..].Split('/'))
        {
            string token = Uri.UnescapeDataString(raw).Replace("~1", "/").Replace("~0", "~");
            if (at.ValueKind == JsonValueKind.Object && at.TryGetProperty(token, out var next)) at = next;
            else if (at.ValueKind == JsonValueKind.Array && int.TryParse(token, out int idx) && idx >= 0 && idx < at.GetArrayLength()) at = at[idx];
            else throw new SchemaException(path, "$ref", $"'$ref' '{target}' does not resolve");
        }
        return at;
    }

    /// <summary>The conjunction of two schemas as one: keywords of either, a keyword in both only if equal (<c>required</c> lists join).</summary>
    private static Dictionary<string, JsonElement> Merge(Dictionary<string, JsonElement> a, Dictionary<string, JsonElement> b, string path)
    {
        // Keywords that read their siblings must come from one side.
        string[][] groups = [["properties", "additionalProperties"], ["prefixItems", "items"]];
        foreach (var group in groups)
        {
            bool inA = group.Any(a.ContainsKey), inB = group.Any(b.ContainsKey);
            if (inA && inB && !group.All(k => a.TryGetValue(k, out var x) == b.TryGetValue(k, out var y) && (!a.ContainsKey(k) || JsonElement.DeepEquals(x, y))))
                throw new SchemaException(path, group[0], $"'{string.Join("'/'", group)}' set differently in combined schemas (allOf, anyOf or $ref with siblings) is not supported");
        }
        var result = new Dictionary<string, JsonElement>(a, StringComparer.Ordinal);
        foreach (var (k, v) in b)
        {
            if (Annotations.Contains(k)) { result.TryAdd(k, v); continue; }
            if (!result.TryGetValue(k, out var existing)) { result[k] = v; continue; }
            if (JsonElement.DeepEquals(existing, v)) continue;
            if (k == "required" && existing.ValueKind == JsonValueKind.Array && v.ValueKind == JsonValueKind.Array)
            {
                result[k] = JsonSerializer.SerializeToElement(existing.EnumerateArray().Concat(v.EnumerateArray()).Select(e => e.GetString()).Distinct().ToArray());
                continue;
            }
            throw new SchemaException(path, k, $"'{k}' is set to different values in combined schemas (allOf, anyOf or $ref with siblings); this is not supported");
        }
        return result;
    }

    private GrammarExpr Enum(Dictionary<string, JsonElement> s, string path)
    {
        List<JsonElement> values;
        string keyword;
        if (s.TryGetValue("const", out var c))
        {
            keyword = "const";
            values = [c];
            if (s.TryGetValue("enum", out var e2) && !Array(e2, path, "enum").Any(x => JsonElement.DeepEquals(x, c))) values = [];
        }
        else
        {
            keyword = "enum";
            values = [.. Array(s["enum"], path, "enum")];
        }
        foreach (var key in s.Keys)
            if (key is not ("enum" or "const" or "type") && !Annotations.Contains(key))
                throw new SchemaException(path, key, $"'{key}' beside '{keyword}' is not supported");
        HashSet<string>? types = s.TryGetValue("type", out var t) ? Types(t, path) : null;
        var alts = new List<GrammarExpr>();
        foreach (var v in values)
            if (types is null || types.Contains(TypeOf(v)) || TypeOf(v) == "integer" && types.Contains("number"))
                alts.Add(Literal(JsonGrammar.Compact(v)));
        if (alts.Count == 0) throw new SchemaException(path, keyword, $"no value of '{keyword}' is allowed by the schema's type");
        return Alt([.. alts]);
    }

    private static string TypeOf(JsonElement v) => v.ValueKind switch
    {
        JsonValueKind.Object => "object",
        JsonValueKind.Array => "array",
        JsonValueKind.String => "string",
        JsonValueKind.Number => v.TryGetDecimal(out decimal d) && d == decimal.Truncate(d) ? "integer" : "number",
        JsonValueKind.True or JsonValueKind.False => "boolean",
        _ => "null",
    };

    private HashSet<string> Types(JsonElement t, string path)
    {
        var result = new HashSet<string>(StringComparer.Ordinal);
        IEnumerable<JsonElement> items = t.ValueKind == JsonValueKind.Array ? t.EnumerateArray() : [t];
        foreach (var x in items)
        {
            string name = x.ValueKind == JsonValueKind.String ? x.GetString()! : throw new SchemaException(path, "type", "'type' must be a string or an array of strings");
            if (name is not ("object" or "array" or "string" or "number" or "integer" or "boolean" or "null"))
                throw new SchemaException(path, "type", $"unknown type '{name}'");
            result.Add(name);
        }
        if (result.Count == 0) throw new SchemaException(path, "type", "'type' must not be empty");
        return result;
    }

    private GrammarExpr Typed(Dictionary<string, JsonElement> s, string path)
    {
        HashSet<string> types;
        if (s.TryGetValue("type", out var t)) types = Types(t, path);
        else
        {
            // No type: generate the types the schema's keywords speak about, or anything.
            types = new HashSet<string>(StringComparer.Ordinal);
            if (s.Keys.Any(k => k is "properties" or "required" or "additionalProperties")) types.Add("object");
            if (s.Keys.Any(k => k is "items" or "prefixItems" or "minItems" or "maxItems" or "uniqueItems")) types.Add("array");
            if (s.Keys.Any(k => k is "minLength" or "maxLength" or "pattern")) types.Add("string");
            if (s.Keys.Any(k => k is "minimum" or "maximum" or "exclusiveMinimum" or "exclusiveMaximum")) types.Add("integer");
            if (types.Count == 0) return Ref(Any.Value);
        }
        if (types.Contains("number")) types.Remove("integer");
        var alts = new List<GrammarExpr>();
        foreach (string type in AllTypes.Append("integer"))
        {
            if (!types.Contains(type)) continue;
            alts.Add(type switch
            {
                "object" => Object(s, path),
                "array" => Array(s, path),
                "string" => String(s, path),
                "integer" => Integer(s, path),
                "number" => Number(s, path),
                "boolean" => JsonGrammar.Boolean,
                _ => JsonGrammar.Null,
            });
        }
        return Alt([.. alts]);
    }

    private GrammarExpr String(Dictionary<string, JsonElement> s, string path)
    {
        int min = (int)Count(s, "minLength", path, 0), max = (int)Count(s, "maxLength", path, -1);
        if (max >= 0 && max < min) throw new SchemaException(path, "maxLength", $"maxLength {max} is below minLength {min}");
        bool counted = s.ContainsKey("minLength") || s.ContainsKey("maxLength");
        string? format = null;
        if (s.TryGetValue("format", out var f))
            format = f.ValueKind == JsonValueKind.String ? f.GetString() : throw new SchemaException(path, "format", "'format' must be a string");
        if (s.TryGetValue("pattern", out var pattern))
        {
            if (counted) throw new SchemaException(path, "pattern", "'pattern' together with 'minLength'/'maxLength' is not supported (write the length into the pattern)");
            if (format is not null) throw new SchemaException(path, "format", "'format' together with 'pattern' is not supported");
            string text = pattern.ValueKind == JsonValueKind.String ? pattern.GetString()! : throw new SchemaException(path, "pattern", "'pattern' must be a string");
            try { return Seq(Byte((byte)'"'), PatternGrammar.Content(text), Byte((byte)'"')); }
            catch (PatternException e) { throw new SchemaException(path, "pattern", e.Message); }
        }
        if (format is not null)
        {
            var content = FormatGrammar.Content(format) ?? throw new SchemaException(path, "format",
                $"string format '{format}' is not supported (supported: {string.Join(", ", FormatGrammar.Supported)})");
            if (counted) throw new SchemaException(path, "format", "'format' together with 'minLength'/'maxLength' is not supported");
            return Seq(Byte((byte)'"'), content, Byte((byte)'"'));
        }
        return counted ? JsonGrammar.CountedString(min, max) : JsonGrammar.String();
    }

    private GrammarExpr Integer(Dictionary<string, JsonElement> s, string path)
    {
        BigInteger? lo = null, hi = null;
        if (Bound(s, "minimum", path) is { } min) lo = Ceiling(min);
        if (Bound(s, "exclusiveMinimum", path) is { } xmin) lo = Max(lo, Floor(xmin) + 1);
        if (Bound(s, "maximum", path) is { } max) hi = Floor(max);
        if (Bound(s, "exclusiveMaximum", path) is { } xmax) hi = Min(hi, Ceiling(xmax) - 1);
        if (lo is null && hi is null) return JsonGrammar.Integer;
        if (lo > hi) throw new SchemaException(path, "minimum", $"no integer lies between the bounds (minimum/exclusiveMinimum {lo} > maximum/exclusiveMaximum {hi})");
        return JsonGrammar.IntegerRange(lo, hi);

        static BigInteger? Max(BigInteger? a, BigInteger b) => a is { } x ? BigInteger.Max(x, b) : b;
        static BigInteger? Min(BigInteger? a, BigInteger b) => a is { } x ? BigInteger.Min(x, b) : b;
    }

    private static BigInteger Floor(decimal d) => new(decimal.Floor(d));

    private static BigInteger Ceiling(decimal d) => new(decimal.Ceiling(d));

    private static decimal? Bound(Dictionary<string, JsonElement> s, string key, string path)
    {
        if (!s.TryGetValue(key, out var v)) return null;
        if (v.ValueKind != JsonValueKind.Number) throw new SchemaException(path, key, $"'{key}' must be a number");
        return v.TryGetDecimal(out decimal d) ? d : throw new SchemaException(path, key, $"'{key}' is out of range");
    }

    private GrammarExpr Number(Dictionary<string, JsonElement> s, string path)
    {
        foreach (string key in (string[])["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"])
            if (s.ContainsKey(key)) throw new SchemaException(path, key, $"'{key}' is supported for integers only (\"type\": \"integer\"), not for numbers");
        return JsonGrammar.Number;
    }

    private GrammarExpr Object(Dictionary<string, JsonElement> s, string path)
    {
        var properties = new List<(string Name, JsonElement Schema, string Path)>();
        if (s.TryGetValue("properties", out var props))
        {
            if (props.ValueKind != JsonValueKind.Object) throw new SchemaException(path, "properties", "'properties' must be an object");
            foreach (var p in props.EnumerateObject()) properties.Add((p.Name, p.Value, $"{path}/properties/{Escape(p.Name)}"));
        }
        var required = new HashSet<string>(StringComparer.Ordinal);
        if (s.TryGetValue("required", out var req))
            foreach (var r in Array(req, path, "required"))
                required.Add(r.ValueKind == JsonValueKind.String ? r.GetString()! : throw new SchemaException(path, "required", "'required' must hold strings"));
        JsonElement? additional = s.TryGetValue("additionalProperties", out var ap) ? ap : null;
        if (additional is { ValueKind: not (JsonValueKind.True or JsonValueKind.False or JsonValueKind.Object) })
            throw new SchemaException(path, "additionalProperties", "'additionalProperties' must be a schema");
        bool closed = additional is { ValueKind: JsonValueKind.False };
        bool map = additional is { ValueKind: JsonValueKind.Object } && !Props(additional.Value).Keys.All(Annotations.Contains);
        if (map && properties.Count > 0)
            throw new SchemaException(path, "additionalProperties", "'additionalProperties' with a schema beside 'properties' is not supported (use one or the other)");
        if (properties.Count == 0 && required.Count == 0)
        {
            if (closed) return Literal("{}");
            if (!map) return Ref(Any.Object);
            // A map: any keys, every value of one schema.
            var value = Value(additional!.Value, path + "/additionalProperties");
            var member = Seq(JsonGrammar.String(), Byte((byte)':'), value);
            return Seq(Byte((byte)'{'), Optional(Seq(member, Star(Seq(Byte((byte)','), member)))), Byte((byte)'}'));
        }
        foreach (string name in required)
        {
            if (properties.Any(p => p.Name == name)) continue;
            if (closed) throw new SchemaException(path, "required", $"required property '{name}' is not allowed by 'additionalProperties': false");
            properties.Add((name, additional ?? JsonSerializer.SerializeToElement(true), $"{path}/additionalProperties"));
        }

        // Properties in order, each optional unless required: node 2i is "before property i, nothing written yet",
        // 2i+1 "before property i, something written" (so a comma comes first); node 2n+2+i is "about to write property i".
        int n = properties.Count;
        var edges = new List<(int, GrammarExpr, int)>();
        int Node(int i, bool written) => 2 * i + (written ? 1 : 0);
        int Mid(int i) => 2 * n + 2 + i;
        for (int i = 0; i < n; i++)
        {
            var (name, schema, p) = properties[i];
            var value = Value(schema, p);
            bool isRequired = required.Contains(name);
            if (ReferenceEquals(value, Nothing))
            {
                if (isRequired) throw new SchemaException(p, "required", $"required property '{name}' allows no value");
                edges.Add((Node(i, false), Empty, Node(i + 1, false)));
                edges.Add((Node(i, true), Empty, Node(i + 1, true)));
                continue;
            }
            var key = new StringBuilder();
            JsonGrammar.WriteString(key, name);
            edges.Add((Node(i, false), Empty, Mid(i)));
            edges.Add((Node(i, true), Byte((byte)','), Mid(i)));
            edges.Add((Mid(i), Seq(Literal(key.Append(':').ToString()), value), Node(i + 1, true)));
            if (!isRequired)
            {
                edges.Add((Node(i, false), Empty, Node(i + 1, false)));
                edges.Add((Node(i, true), Empty, Node(i + 1, true)));
            }
        }
        var body = Graph(3 * n + 2, Node(0, false), [Node(n, false), Node(n, true)], edges);
        return Seq(Byte((byte)'{'), body, Byte((byte)'}'));
    }

    private GrammarExpr Array(Dictionary<string, JsonElement> s, string path)
    {
        var prefix = new List<GrammarExpr>();
        if (s.TryGetValue("prefixItems", out var pi))
        {
            int i = 0;
            foreach (var item in Array(pi, path, "prefixItems")) prefix.Add(Value(item, $"{path}/prefixItems/{i++}"));
        }
        GrammarExpr? items = Ref(Any.Value);
        if (s.TryGetValue("items", out var it))
        {
            if (it.ValueKind == JsonValueKind.Array) throw new SchemaException(path, "items", "'items' as an array is draft-07 tuple syntax; use 'prefixItems'");
            items = Value(it, path + "/items");
            if (ReferenceEquals(items, Nothing)) items = null;
        }
        if (s.TryGetValue("uniqueItems", out var u) && u.ValueKind == JsonValueKind.True)
            throw new SchemaException(path, "uniqueItems", "'uniqueItems': true is not supported");
        int min = (int)Count(s, "minItems", path, 0), max = (int)Count(s, "maxItems", path, -1);
        if (items is null) max = max < 0 ? prefix.Count : Math.Min(max, prefix.Count);
        if (max >= 0 && max < min) throw new SchemaException(path, "maxItems", $"the array cannot have between {min} and {max} items");
        for (int i = 0; i < Math.Min(prefix.Count, min); i++)
            if (ReferenceEquals(prefix[i], Nothing)) throw new SchemaException($"{path}/prefixItems/{i}", "prefixItems", "a required item allows no value");
        return Seq(Byte((byte)'['), Elements(0), Byte((byte)']'));

        // The elements from index j on, j of them already written.
        GrammarExpr Elements(int j)
        {
            if (max >= 0 && j >= max) return Empty;
            GrammarExpr sep = j == 0 ? Empty : Byte((byte)',');
            if (j < prefix.Count)
            {
                var rest = Seq(sep, prefix[j], Elements(j + 1));
                return j >= min ? Optional(rest) : rest;
            }
            // Uniform items from here: between lo and hi more.
            int lo = Math.Max(0, min - j), hi = max < 0 ? -1 : max - j;
            if (j > 0) return Repeat(Seq(Byte((byte)','), items!), lo, hi);
            var tail = Repeat(Seq(Byte((byte)','), items!), Math.Max(0, lo - 1), hi < 0 ? -1 : hi - 1);
            var some = Seq(items!, tail);
            return lo == 0 ? Optional(some) : some;
        }
    }

    private static long Count(Dictionary<string, JsonElement> s, string key, string path, long absent)
    {
        if (!s.TryGetValue(key, out var v)) return absent;
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetDecimal(out decimal d) || d != decimal.Truncate(d) || d < 0)
            throw new SchemaException(path, key, $"'{key}' must be a non-negative integer");
        if (d > 100_000) throw new SchemaException(path, key, $"'{key}' {d} is too large (at most 100000)");
        return (long)d;
    }

    private static IEnumerable<JsonElement> Array(JsonElement v, string path, string key) =>
        v.ValueKind == JsonValueKind.Array ? v.EnumerateArray() : throw new SchemaException(path, key, $"'{key}' must be an array");

    private static Dictionary<string, JsonElement> Props(JsonElement o)
    {
        var d = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var p in o.EnumerateObject()) d[p.Name] = p.Value;
        return d;
    }

    private static Dictionary<string, JsonElement> Without(Dictionary<string, JsonElement> s, string key)
    {
        var d = new Dictionary<string, JsonElement>(s, StringComparer.Ordinal);
        d.Remove(key);
        return d;
    }

    private static string Escape(string name) => name.Replace("~", "~0").Replace("/", "~1");

    private static string Kind(JsonElement e) => e.ValueKind.ToString().ToLowerInvariant();
}

/// <summary>A schema the compiler cannot use: the message names the place (a JSON pointer) and the keyword.</summary>
public sealed class SchemaException(string path, string? keyword, string message)
    : SharpSeekException(keyword is null ? $"{path}: {message}" : $"{path}: {message}")
{
    /// <summary>Where in the schema (a JSON pointer fragment, <c>#/properties/x</c>).</summary>
    public string Path { get; } = path;

    /// <summary>The keyword at fault, if one is.</summary>
    public string? Keyword { get; } = keyword;
}
