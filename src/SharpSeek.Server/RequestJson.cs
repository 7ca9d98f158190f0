using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace SharpSeek.Server;

/// <summary>
/// Reads request bodies leniently where clients differ (unknown fields are ignored) and strictly where a wrong
/// type would silently change the answer: a bad value is a 400 naming the parameter.
/// </summary>
internal static class RequestJson
{
    public static async Task<JsonElement> ReadObjectAsync(HttpRequest request)
    {
        try
        {
            using var doc = await JsonDocument.ParseAsync(request.Body, default, request.HttpContext.RequestAborted);
            if (doc.RootElement.ValueKind != JsonValueKind.Object) throw ApiException.BadRequest("the request body must be a JSON object");
            return doc.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new ApiException(400, "the request body is not valid JSON: " + e.Message, code: "invalid_json");
        }
    }

    private static JsonElement? Get(JsonElement o, string name) =>
        o.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;

    public static string? String(JsonElement o, string name)
    {
        if (Get(o, name) is not { } v) return null;
        return v.ValueKind == JsonValueKind.String ? v.GetString() : throw ApiException.BadRequest($"'{name}' must be a string", name);
    }

    public static bool? Bool(JsonElement o, string name)
    {
        if (Get(o, name) is not { } v) return null;
        return v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw ApiException.BadRequest($"'{name}' must be a boolean", name),
        };
    }

    public static double? Number(JsonElement o, string name)
    {
        if (Get(o, name) is not { } v) return null;
        return v.ValueKind == JsonValueKind.Number ? v.GetDouble() : throw ApiException.BadRequest($"'{name}' must be a number", name);
    }

    public static long? Integer(JsonElement o, string name)
    {
        if (Get(o, name) is not { } v) return null;
        if (v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out long l)) return l;
        if (v.ValueKind == JsonValueKind.Number && v.TryGetDouble(out double d) && d == Math.Floor(d) && Math.Abs(d) < 9e18) return (long)d;
        throw ApiException.BadRequest($"'{name}' must be an integer", name);
    }

    public static JsonElement? Object(JsonElement o, string name)
    {
        if (Get(o, name) is not { } v) return null;
        return v.ValueKind == JsonValueKind.Object ? v : throw ApiException.BadRequest($"'{name}' must be an object", name);
    }

    public static JsonElement? Array(JsonElement o, string name)
    {
        if (Get(o, name) is not { } v) return null;
        return v.ValueKind == JsonValueKind.Array ? v : throw ApiException.BadRequest($"'{name}' must be an array", name);
    }

    /// <summary><c>stop</c>: a string or an array of strings (at most 16, DeepSeek's limit).</summary>
    public static IReadOnlyList<string> Stop(JsonElement o, string name = "stop")
    {
        if (Get(o, name) is not { } v) return [];
        if (v.ValueKind == JsonValueKind.String) return [v.GetString()!];
        if (v.ValueKind != JsonValueKind.Array) throw ApiException.BadRequest($"'{name}' must be a string or an array of strings", name);
        var list = new List<string>();
        foreach (var s in v.EnumerateArray())
            list.Add(s.ValueKind == JsonValueKind.String ? s.GetString()! : throw ApiException.BadRequest($"'{name}' must be a string or an array of strings", name));
        if (list.Count > 16) throw ApiException.BadRequest($"'{name}' has {list.Count} entries; at most 16 are allowed", name);
        return list;
    }

    /// <summary>Message content: a string, null, or an array of parts of which the text ones are joined.</summary>
    public static string? Content(JsonElement message, string name = "content")
    {
        if (Get(message, name) is not { } v) return null;
        switch (v.ValueKind)
        {
            case JsonValueKind.String:
                return v.GetString();
            case JsonValueKind.Array:
                var parts = new List<string>();
                foreach (var part in v.EnumerateArray())
                {
                    if (part.ValueKind == JsonValueKind.String) { parts.Add(part.GetString()!); continue; }
                    if (part.ValueKind != JsonValueKind.Object) throw ApiException.BadRequest("content parts must be objects", "messages");
                    string? type = String(part, "type");
                    if (type is "text" or "input_text") parts.Add(String(part, "text") ?? "");
                    else throw ApiException.BadRequest($"content part type '{type}' is not supported (text only)", "messages");
                }
                return string.Concat(parts);
            default:
                throw ApiException.BadRequest($"'{name}' must be a string or an array of parts", "messages");
        }
    }
}
