using System.Text.Json;
using SharpSeek.Generation;
using SharpSeek.Serving;

namespace SharpSeek.Server;

/// <summary>The length and sampling parameters shared by the OpenAI endpoints, validated with OpenAI's ranges.</summary>
internal static class Sampling
{
    public static CompletionOptions Read(JsonElement body, int defaultMaxTokens, int topLogprobs)
    {
        double temperature = RequestJson.Number(body, "temperature") ?? 1.0;
        if (!(temperature >= 0 && temperature <= 2)) throw ApiException.BadRequest($"temperature must be between 0 and 2, is {temperature}", "temperature");
        double topP = RequestJson.Number(body, "top_p") ?? 1.0;
        if (!(topP > 0 && topP <= 1)) throw ApiException.BadRequest($"top_p must be in (0, 1], is {topP}", "top_p");
        long? topK = RequestJson.Integer(body, "top_k");
        if (topK < 0) throw ApiException.BadRequest($"top_k must be ≥ 0, is {topK}", "top_k");
        long? seed = RequestJson.Integer(body, "seed");
        long max = RequestJson.Integer(body, "max_completion_tokens") ?? RequestJson.Integer(body, "max_tokens") ?? defaultMaxTokens;
        if (max < 1) throw ApiException.BadRequest($"max_tokens must be ≥ 1, is {max}", "max_tokens");
        return new CompletionOptions
        {
            MaxTokens = (int)Math.Min(max, int.MaxValue),
            Sampling = new SamplingOptions { Temperature = (float)temperature, TopP = (float)topP, TopK = (int)(topK ?? 0), Seed = seed is long s ? unchecked((ulong)s) : null },
            Stop = RequestJson.Stop(body),
            TopLogprobs = topLogprobs,
            IgnoreEos = RequestJson.Bool(body, "ignore_eos") ?? false,
        };
    }

    public static int N(JsonElement body)
    {
        long n = RequestJson.Integer(body, "n") ?? 1;
        if (n < 1 || n > 8) throw ApiException.BadRequest($"n must be between 1 and 8, is {n}", "n");
        return (int)n;
    }
}
