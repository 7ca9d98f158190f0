using System.CommandLine;
using System.Text.Json;

namespace SharpSeek.Cli.Commands;

/// <summary>
/// <c>--stats-json FILE</c> of <c>run</c> and <c>generate</c>: one JSON object with exactly prompt_tokens, generated_tokens,
/// prefill_tps (prompt tokens per second until the first generated token), decode_tps (the other generated tokens per second
/// after it), draft_tokens and accepted_tokens (speculative decoding; 0 without it).
/// </summary>
internal static class StatsJson
{
    public static Option<string?> Option() => new("--stats-json") { Description = "Write prompt/generated tokens, prefill/decode tok/s and speculative draft/accepted counts to this JSON file" };

    public static void Write(string path, int promptTokens, int generated, TimeSpan firstToken, TimeSpan total, long drafted, long accepted)
    {
        double decodeSeconds = (total - firstToken).TotalSeconds;
        var o = new Dictionary<string, object>
        {
            ["prompt_tokens"] = promptTokens,
            ["generated_tokens"] = generated,
            ["prefill_tps"] = firstToken > TimeSpan.Zero ? Math.Round(promptTokens / firstToken.TotalSeconds, 3) : 0,
            ["decode_tps"] = generated > 1 && decodeSeconds > 0 ? Math.Round((generated - 1) / decodeSeconds, 3) : 0,
            ["draft_tokens"] = drafted,
            ["accepted_tokens"] = accepted,
        };
        try { File.WriteAllText(path, JsonSerializer.Serialize(o) + "\n"); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SharpSeekException($"--stats-json: cannot write '{path}': {e.Message}", e);
        }
    }
}
