using System.Globalization;
using SharpSeek.Chat;

namespace SharpSeek.Tasks;

/// <summary>Reads the final answer of a completion the way R1-style graders do: the last <c>\boxed{…}</c> of the part after <c>&lt;/think&gt;</c>.</summary>
public static class AnswerExtractor
{
    /// <summary>The last boxed value of the answer part, or null. <paramref name="startsInReasoning"/>: the prompt already opened <c>&lt;think&gt;</c>.</summary>
    public static string? Extract(string completion, bool startsInReasoning = true)
    {
        var (_, content) = ReasoningParser.Split(completion, startsInReasoning);
        return LastBoxed(content);
    }

    /// <summary>Whether the completion closed its reasoning block (used for the <c>&lt;think&gt;</c>-share metric and the format reward).</summary>
    public static bool HasThink(string completion) => completion.Contains("</think>", StringComparison.Ordinal);

    /// <summary>The contents of the last <c>\boxed{…}</c> (balanced braces), or null.</summary>
    public static string? LastBoxed(string text)
    {
        int at = text.LastIndexOf("\\boxed{", StringComparison.Ordinal);
        if (at < 0) return null;
        int start = at + "\\boxed{".Length, depth = 1;
        for (int i = start; i < text.Length; i++)
        {
            if (text[i] == '{') depth++;
            else if (text[i] == '}' && --depth == 0) return text[start..i].Trim();
        }
        return null;
    }

    /// <summary>Answer equality: numerically when both parse as numbers (commas, spaces and a trailing ".0" ignored), else as trimmed strings.</summary>
    public static bool Matches(string? predicted, string expected)
    {
        if (predicted is null) return false;
        string p = Normalise(predicted), e = Normalise(expected);
        if (decimal.TryParse(p, NumberStyles.Number, CultureInfo.InvariantCulture, out var pv) &&
            decimal.TryParse(e, NumberStyles.Number, CultureInfo.InvariantCulture, out var ev)) return pv == ev;
        return string.Equals(p, e, StringComparison.Ordinal);
    }

    private static string Normalise(string s) => s.Trim().Replace(",", "", StringComparison.Ordinal).Replace(" ", "", StringComparison.Ordinal).Replace("−", "-", StringComparison.Ordinal).Trim('$', '.');
}
