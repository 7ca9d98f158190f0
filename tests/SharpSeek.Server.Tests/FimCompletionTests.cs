using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using SharpSeek.Chat;
using SharpSeek.Generation;
using SharpSeek.Serving;

namespace SharpSeek.Server.Tests;

/// <summary>
/// Fill-in-the-middle through <c>POST /v1/completions</c> with <c>suffix</c>, end to end on tiny models whose vocabularies
/// have DeepSeek's or Qwen's FIM markers: the prompt tokens are the family's markers around prefix and suffix in order,
/// the answer is what the model generates from exactly those tokens, and usage counts them.
/// </summary>
public sealed class FimCompletionTests : IDisposable
{
    private const string Prefix = "def add(a, b):\n    return ";
    private const string Suffix = "\n\nprint(add(1, 2))\n";

    private readonly string _dir = Directory.CreateTempSubdirectory("fim-model-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    public static TheoryData<string> Families => new() { "deepseek", "qwen" };

    [Theory]
    [MemberData(nameof(Families))]
    public async Task Suffix_builds_the_family_prompt_and_completes(string family)
    {
        var fim = family == "deepseek" ? FimFormat.DeepSeek : FimFormat.Qwen;
        string[] specials = family == "deepseek"
            ? [DeepSeekTokens.Bos, DeepSeekTokens.Eos, DeepSeekTokens.User, DeepSeekTokens.Assistant, fim.PrefixToken, fim.SuffixToken, fim.MiddleToken]
            : ["<|endoftext|>", "<|im_end|>", "<|im_start|>", fim.PrefixToken, fim.SuffixToken, fim.MiddleToken];
        TinyFimModel.Write(_dir, specials, seed: family.Length);
        var options = new ServerOptions
        {
            ModelPath = _dir,
            Port = 0,
            ChatFormat = family == "deepseek" ? ChatFormat.DeepSeekV3 : ChatFormat.ChatMl,
            Scheduler = new SchedulerOptions { ContextSize = 128 },
        };
        await using var server = SharpSeekServer.Create(options);
        await server.StartAsync();
        await server.Host.Loading;
        var pipeline = server.Host.Pipeline;
        var tok = pipeline.Bundle.Tokenizer;
        Assert.Same(fim, FimFormat.Detect(tok));

        // The expected prompt, built by hand: [BOS for DeepSeek] PREFIX-marker prefix SUFFIX-marker suffix MIDDLE-marker.
        int Id(string t) => tok.TryGetId(t, out int id) ? id : throw new InvalidOperationException(t);
        var expected = new List<int>();
        if (family == "deepseek") expected.Add(Id(DeepSeekTokens.Bos));
        expected.Add(Id(fim.PrefixToken));
        expected.AddRange(tok.Encode(Prefix, addSpecialTokens: false));
        expected.Add(Id(fim.SuffixToken));
        expected.AddRange(tok.Encode(Suffix, addSpecialTokens: false));
        expected.Add(Id(fim.MiddleToken));
        Assert.Equal(expected, pipeline.PrepareText(Prefix, Suffix).Tokens);
        // The same as encoding the assembled text with its markers.
        string assembled = (family == "deepseek" ? DeepSeekTokens.Bos : "") + fim.PrefixToken + Prefix + fim.SuffixToken + Suffix + fim.MiddleToken;
        Assert.Equal(expected, tok.Encode(assembled, addSpecialTokens: false, parseSpecial: true));

        // What the model writes from exactly these tokens, greedily, stop tokens ignored so the length is known.
        var solo = await pipeline.CompleteAsync(new PreparedPrompt([.. expected], false), new CompletionOptions
        {
            MaxTokens = 6,
            IgnoreEos = true,
            Sampling = new SamplingOptions { Temperature = 0 },
            SplitReasoning = false,
        });

        using var http = new HttpClient { BaseAddress = new Uri(server.Urls[0].TrimEnd('/') + "/") };
        var request = JsonSerializer.Serialize(new { prompt = Prefix, suffix = Suffix, max_tokens = 6, temperature = 0, ignore_eos = true });
        using var r = await http.PostAsync("v1/completions", new StringContent(request, Encoding.UTF8, "application/json"));
        var body = await r.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(r.StatusCode == HttpStatusCode.OK, body.ToString());
        var usage = body.GetProperty("usage");
        Assert.Equal(expected.Count, usage.GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(6, usage.GetProperty("completion_tokens").GetInt32());
        Assert.Equal(expected.Count + 6, usage.GetProperty("total_tokens").GetInt32());
        var choice = body.GetProperty("choices")[0];
        Assert.Equal(solo.Content, choice.GetProperty("text").GetString());
        Assert.Equal("length", choice.GetProperty("finish_reason").GetString());
    }

    [Fact]
    public async Task Suffix_without_fim_tokens_is_a_clear_400()
    {
        await using var server = await LiveServer.StartAsync();
        var request = JsonSerializer.Serialize(new { prompt = Prefix, suffix = Suffix, max_tokens = 3 });
        using var r = await server.Http.PostAsync("v1/completions", new StringContent(request, Encoding.UTF8, "application/json"));
        var body = await r.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        var error = body.GetProperty("error");
        Assert.Equal("suffix", error.GetProperty("param").GetString());
        Assert.Contains("fill-in-the-middle", error.GetProperty("message").GetString());
    }
}
