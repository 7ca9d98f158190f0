namespace SharpSeek.Structured;

/// <summary>
/// String <c>format</c>s written as anchored patterns, each a conservative subset of the format: every generated string
/// is valid under RFC 3339 / RFC 4122 / RFC 5321 / RFC 3986 and under the stricter readings of common validators
/// (days 01–28 so no month is too short, offsets within ±13:59, lowercase mail addresses and URLs of plain labels).
/// </summary>
public static class FormatGrammar
{
    private const string Date = "[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])";
    private const string Time = "([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]{1,6})?(Z|[+-](0[0-9]|1[0-3]):[0-5][0-9])";
    private const string Label = "[a-z0-9]{1,16}";

    private static readonly Dictionary<string, string> Patterns = new(StringComparer.Ordinal)
    {
        ["date"] = $"^{Date}$",
        ["time"] = $"^{Time}$",
        ["date-time"] = $"^{Date}T{Time}$",
        ["uuid"] = "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
        ["ipv4"] = "^((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])$",
        ["email"] = $"^{Label}(\\.{Label})?@{Label}\\.[a-z]{{2,8}}$",
        ["uri"] = $"^https?://{Label}(\\.{Label}){{0,2}}\\.[a-z]{{2,8}}(/[a-z0-9_-]{{1,16}}){{0,4}}$",
    };

    /// <summary>The formats with a grammar.</summary>
    public static IEnumerable<string> Supported => Patterns.Keys;

    /// <summary>The string content (without quotes) of <paramref name="format"/>, or null if it has no grammar.</summary>
    public static GrammarExpr? Content(string format) => Patterns.TryGetValue(format, out string? p) ? PatternGrammar.Content(p) : null;
}
