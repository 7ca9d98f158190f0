using System.Text.Json;
using SharpSeek.Serving;

namespace SharpSeek.Server;

/// <summary>Pieces of OpenAI's (and DeepSeek's) response JSON.</summary>
internal static class OpenAiJson
{
    public static long Now => DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    public static string NewId(string prefix) => prefix + Guid.NewGuid().ToString("N")[..24];

    /// <summary>Usage in both dialects: OpenAI's <c>*_tokens_details</c> and DeepSeek's <c>prompt_cache_*</c>.</summary>
    public static void Usage(Utf8JsonWriter w, CompletionUsage u)
    {
        w.WriteStartObject("usage");
        w.WriteNumber("prompt_tokens", u.PromptTokens);
        w.WriteNumber("completion_tokens", u.CompletionTokens);
        w.WriteNumber("total_tokens", u.TotalTokens);
        w.WriteStartObject("prompt_tokens_details");
        w.WriteNumber("cached_tokens", u.CachedTokens);
        w.WriteEndObject();
        w.WriteStartObject("completion_tokens_details");
        w.WriteNumber("reasoning_tokens", u.ReasoningTokens);
        w.WriteEndObject();
        w.WriteNumber("prompt_cache_hit_tokens", u.CachedTokens);
        w.WriteNumber("prompt_cache_miss_tokens", u.MissTokens);
        w.WriteEndObject();
    }

    /// <summary>Sums the usage of several choices of one request (the prompt counts once).</summary>
    public static CompletionUsage Sum(IReadOnlyList<CompletionUsage> all) =>
        new(all[0].PromptTokens, all[0].CachedTokens, all.Sum(u => u.CompletionTokens), all.Sum(u => u.ReasoningTokens));

    /// <summary>Chat logprobs: <c>{"content":[{token,logprob,bytes,top_logprobs:[…]}]}</c>.</summary>
    public static void ChatLogprobs(Utf8JsonWriter w, IReadOnlyList<TokenInfo>? tokens)
    {
        if (tokens is null) { w.WriteNull("logprobs"); return; }
        w.WriteStartObject("logprobs");
        w.WriteStartArray("content");
        foreach (var t in tokens)
        {
            w.WriteStartObject();
            TokenFields(w, t.Text, t.Bytes, t.Logprob);
            w.WriteStartArray("top_logprobs");
            foreach (var (text, bytes, logprob) in t.Top)
            {
                w.WriteStartObject();
                TokenFields(w, text, bytes, logprob);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void TokenFields(Utf8JsonWriter w, string text, byte[] bytes, float logprob)
    {
        w.WriteString("token", text);
        w.WriteNumber("logprob", logprob);
        w.WriteStartArray("bytes");
        foreach (byte b in bytes) w.WriteNumberValue(b);
        w.WriteEndArray();
    }

    /// <summary>Legacy completions logprobs: <c>{tokens, token_logprobs, top_logprobs, text_offset}</c>.</summary>
    public static void TextLogprobs(Utf8JsonWriter w, IReadOnlyList<TokenInfo>? tokens, int offset)
    {
        if (tokens is null) { w.WriteNull("logprobs"); return; }
        w.WriteStartObject("logprobs");
        w.WriteStartArray("tokens");
        foreach (var t in tokens) w.WriteStringValue(t.Text);
        w.WriteEndArray();
        w.WriteStartArray("token_logprobs");
        foreach (var t in tokens) w.WriteNumberValue(t.Logprob);
        w.WriteEndArray();
        w.WriteStartArray("top_logprobs");
        foreach (var t in tokens)
        {
            w.WriteStartObject();
            foreach (var (text, _, logprob) in t.Top.DistinctBy(x => x.Text)) w.WriteNumber(text, logprob);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartArray("text_offset");
        foreach (var t in tokens) { w.WriteNumberValue(offset); offset += t.Text.Length; }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    public static void Error(Utf8JsonWriter w, ApiException e)
    {
        w.WriteStartObject();
        w.WriteStartObject("error");
        w.WriteString("message", e.Message);
        w.WriteString("type", e.Type);
        if (e.Param is null) w.WriteNull("param"); else w.WriteString("param", e.Param);
        if (e.Code is null) w.WriteNull("code"); else w.WriteString("code", e.Code);
        w.WriteEndObject();
        w.WriteEndObject();
    }
}
