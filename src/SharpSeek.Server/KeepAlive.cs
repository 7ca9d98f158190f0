using System.Globalization;
using System.Text.Json;

namespace SharpSeek.Server;

/// <summary>
/// How long a model stays loaded after its last request ends, as Ollama's <c>keep_alive</c> says it: a duration string
/// (<c>"10m"</c>, <c>"1h30m"</c>, <c>"0"</c>; Go's units ns, us, µs, ms, s, m, h), or a number of seconds. Zero unloads the
/// model as soon as no request uses it; a negative value keeps it loaded until the server stops (or another request
/// says otherwise).
/// </summary>
public readonly record struct KeepAlive
{
    private KeepAlive(TimeSpan? duration) => Duration = duration;

    /// <summary>Null: as long as the server runs.</summary>
    public TimeSpan? Duration { get; }

    public static KeepAlive Forever => new(null);

    public static KeepAlive For(TimeSpan duration) => duration < TimeSpan.Zero ? Forever : new(duration);

    /// <summary>Unload as soon as the last request using the model ends.</summary>
    public bool UnloadsAtOnce => Duration == TimeSpan.Zero;

    public override string ToString() => Duration is not { } d ? "forever" : d == TimeSpan.Zero ? "0" : d.ToString("c", CultureInfo.InvariantCulture);

    /// <summary>Parses a duration string or a number of seconds; null and why when it is neither.</summary>
    public static KeepAlive? TryParse(string text, out string? why)
    {
        why = null;
        text = text.Trim();
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double seconds)) return FromSeconds(seconds, out why);
        // Go's time.ParseDuration: [-+]?([0-9]*(\.[0-9]*)?[a-z]+)+
        int i = 0;
        bool negative = false;
        if (i < text.Length && text[i] is '-' or '+') negative = text[i++] == '-';
        if (i == text.Length) { why = "it is empty"; return null; }
        double total = 0;
        while (i < text.Length)
        {
            int start = i;
            while (i < text.Length && (char.IsAsciiDigit(text[i]) || text[i] == '.')) i++;
            if (!double.TryParse(text.AsSpan(start, i - start), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double value))
            {
                why = $"'{text}' is not a duration (a number then a unit, e.g. 5m or 1h30m)";
                return null;
            }
            start = i;
            while (i < text.Length && !char.IsAsciiDigit(text[i]) && text[i] != '.') i++;
            double unit = text[start..i] switch
            {
                "ns" => 1e-9,
                "us" or "µs" or "μs" => 1e-6,
                "ms" => 1e-3,
                "s" => 1,
                "m" => 60,
                "h" => 3600,
                var u => double.NaN,
            };
            if (double.IsNaN(unit))
            {
                why = $"'{text}' has unit '{text[start..i]}'; units are ns, us, ms, s, m and h";
                return null;
            }
            total += value * unit;
        }
        return FromSeconds(negative ? -total : total, out why);
    }

    private static KeepAlive? FromSeconds(double seconds, out string? why)
    {
        why = null;
        if (double.IsNaN(seconds)) { why = "it is not a number"; return null; }
        if (seconds < 0) return Forever;
        return seconds >= TimeSpan.MaxValue.TotalSeconds / 2 ? Forever : new KeepAlive(TimeSpan.FromSeconds(seconds));
    }

    /// <summary>The request's <c>keep_alive</c> (null when absent); a 400 naming the field when it is neither a duration nor a number.</summary>
    internal static KeepAlive? Read(JsonElement body)
    {
        if (!body.TryGetProperty("keep_alive", out var v) || v.ValueKind == JsonValueKind.Null) return null;
        KeepAlive? k;
        string? why;
        if (v.ValueKind == JsonValueKind.Number) k = FromSeconds(v.GetDouble(), out why);
        else if (v.ValueKind == JsonValueKind.String) k = TryParse(v.GetString()!, out why);
        else { k = null; why = "it must be a duration string such as \"5m\" or a number of seconds"; }
        return k ?? throw ApiException.BadRequest($"'keep_alive' is not valid: {why}", "keep_alive");
    }
}
