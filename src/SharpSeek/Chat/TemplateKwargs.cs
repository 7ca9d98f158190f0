using System.Text.Json;

namespace SharpSeek.Chat;

/// <summary>Template keyword arguments (<c>chat_template_kwargs</c>, <c>--template-kwargs</c>): a JSON object's members by name.</summary>
public static class TemplateKwargs
{
    /// <summary>Parses a JSON object, e.g. <c>{"enable_thinking": false}</c>; <paramref name="source"/> names it in errors.</summary>
    /// <exception cref="SharpSeekException">not valid JSON, or not an object.</exception>
    public static IReadOnlyDictionary<string, JsonElement> Parse(string json, string source)
    {
        try
        {
            using JsonDocument doc = JsonDocument.Parse(json);
            return FromElement(doc.RootElement, source);
        }
        catch (JsonException e)
        {
            throw new SharpSeekException($"{source}: not valid JSON ({e.Message}); expected an object such as {{\"enable_thinking\": false}}", e);
        }
    }

    /// <summary>The members of a JSON object (cloned, so the document may be disposed).</summary>
    /// <exception cref="SharpSeekException">not an object.</exception>
    public static IReadOnlyDictionary<string, JsonElement> FromElement(JsonElement e, string source)
    {
        if (e.ValueKind != JsonValueKind.Object)
            throw new SharpSeekException($"{source} must be a JSON object such as {{\"enable_thinking\": false}}, not {e.ValueKind.ToString().ToLowerInvariant()}");
        var d = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (JsonProperty p in e.EnumerateObject()) d[p.Name] = p.Value.Clone();
        return d;
    }

    /// <summary><paramref name="defaults"/> overridden by <paramref name="overrides"/>; null when both are empty.</summary>
    public static IReadOnlyDictionary<string, JsonElement>? Merge(IReadOnlyDictionary<string, JsonElement>? defaults, IReadOnlyDictionary<string, JsonElement>? overrides)
    {
        if (defaults is not { Count: > 0 }) return overrides;
        if (overrides is not { Count: > 0 }) return defaults;
        var d = new Dictionary<string, JsonElement>(defaults, StringComparer.Ordinal);
        foreach (var kv in overrides) d[kv.Key] = kv.Value;
        return d;
    }
}
