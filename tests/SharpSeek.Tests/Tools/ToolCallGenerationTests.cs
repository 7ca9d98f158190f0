using System.Text;
using System.Text.Json;
using SharpSeek.Chat;
using SharpSeek.Generation;
using SharpSeek.Serving;
using SharpSeek.Structured;
using SharpSeek.Tests.Structured;
using SharpSeek.Tools;
using Xunit.Abstractions;

namespace SharpSeek.Tests.Tools;

/// <summary>
/// Tool calls from the random-weight model with DeepSeek-V3's real vocabulary and template (nearly uniform logits,
/// temperature 1): forced calls always parse and their arguments always validate (JsonSchema.Net), streams concatenate
/// to the whole answer, and a call written while thinking is not a call.
/// </summary>
public sealed class ToolCallGenerationTests(RandomDeepSeekModel model, ITestOutputHelper output) : IClassFixture<RandomDeepSeekModel>
{
    private const int Seeds = 50;

    public static readonly ToolDefinition[] Tools =
    [
        new("get_weather", "Weather in a city", JsonDocument.Parse("""
            {"type":"object","properties":{"city":{"type":"string","minLength":1,"maxLength":12},"unit":{"enum":["c","f"]}},"required":["city","unit"],"additionalProperties":false}
            """).RootElement),
        new("add", "Adds two integers", JsonDocument.Parse("""
            {"type":"object","properties":{"a":{"type":"integer","minimum":-1000,"maximum":1000},"b":{"type":"integer"}},"required":["a","b"],"additionalProperties":false}
            """).RootElement),
        new("now", "The current time"),
    ];

    private static CompletionOptions Options(ToolSet tools, ulong seed) =>
        new() { MaxTokens = 500, Sampling = new SamplingOptions { Temperature = 1, Seed = seed }, Tools = tools };

    [Theory]
    [InlineData(null, true)]
    [InlineData("add", false)]
    public async Task Forced_tool_calls_always_parse_and_their_arguments_validate(string? named, bool parallel)
    {
        Assert.Equal("deepseek", model.Bundle.ToolFormat?.Name);
        await AssertForcedCallsValid(model.Pipeline, named, parallel, output);
    }

    /// <summary>Forced calls (any tool, or <paramref name="named"/>) for <see cref="Seeds"/> seeds at temperature 1: every answer is a call block and every argument object validates.</summary>
    internal static async Task AssertForcedCallsValid(ChatPipeline pipeline, string? named, bool parallel, ITestOutputHelper output)
    {
        var tools = pipeline.ResolveTools(Tools, named is null ? ToolChoice.Required : ToolChoice.Named(named), parallel);
        var prompt = pipeline.PrepareChat([ChatMessage.User("What is the weather in Paris, and what is 2+3?")], tools: tools);
        var results = await Task.WhenAll(Enumerable.Range(1, Seeds).Select(seed => pipeline.CompleteAsync(prompt, Options(tools, (ulong)seed))));
        int calls = 0;
        foreach (var r in results)
        {
            Assert.True(r.FinishReason == "tool_calls", $"finish '{r.FinishReason}', content '{r.Content}'");
            Assert.Equal("", r.Content);
            Assert.NotEmpty(r.ToolCalls);
            if (!parallel) Assert.Single(r.ToolCalls);
            foreach (var call in r.ToolCalls)
            {
                calls++;
                var tool = Assert.Single(Tools, t => t.Name == call.Name);
                if (named is not null) Assert.Equal(named, call.Name);
                GrammarKit.AssertValid(tool.Parameters?.GetRawText() ?? """{"const":{}}""", call.Arguments);
            }
        }
        output.WriteLine($"{Seeds}/{Seeds} answers were tool calls ({calls} calls), every argument object valid; e.g. {results[0].ToolCalls[0].Name}({results[0].ToolCalls[0].Arguments})");
    }

    [Fact]
    public async Task Strict_tools_under_auto_either_answer_or_call_validly()
    {
        var strict = Tools.Select(t => t with { Strict = true }).ToArray();
        var tools = model.Pipeline.ResolveTools(strict, ToolChoice.Auto);
        var prompt = model.Pipeline.PrepareChat([ChatMessage.User("hi")], tools: tools);
        // Nearly uniform logits rarely pick the one call-opening token among 129k, so the answers are text (cut at max_tokens);
        // what matters is that nothing but text or a valid call can come out.
        var results = await Task.WhenAll(Enumerable.Range(1, 10).Select(seed => model.Pipeline.CompleteAsync(prompt, Options(tools, (ulong)seed) with { MaxTokens = 30 })));
        foreach (var r in results)
        {
            Assert.DoesNotContain("<｜tool▁call", r.Content);
            foreach (var call in r.ToolCalls) GrammarKit.AssertValid(Tools.Single(t => t.Name == call.Name).Parameters?.GetRawText() ?? "{}", call.Arguments);
        }
    }

    [Fact]
    public Task Streamed_tool_call_deltas_concatenate_to_the_whole_call_for_the_same_seed() => AssertStreamedCallsEqualWhole(model.Pipeline);

    /// <summary>For 5 seeds, the streamed <c>delta.tool_calls</c> (name once, argument fragments) concatenate to the non-streamed calls.</summary>
    internal static async Task AssertStreamedCallsEqualWhole(ChatPipeline pipeline)
    {
        var tools = pipeline.ResolveTools(Tools, ToolChoice.Required);
        var prompt = pipeline.PrepareChat([ChatMessage.User("weather?")], tools: tools);
        for (ulong seed = 1; seed <= 5; seed++)
        {
            var whole = await pipeline.CompleteAsync(prompt, Options(tools, seed));
            using var stream = pipeline.Start(prompt, Options(tools, seed));
            var streamed = new List<(string Name, StringBuilder Args)>();
            int pieces = 0;
            string? finish = null;
            await foreach (var c in stream.ReadAsync())
            {
                foreach (var d in c.ToolCalls ?? [])
                {
                    pieces++;
                    if (d.Index == streamed.Count) streamed.Add((d.Name!, new StringBuilder()));
                    streamed[d.Index].Args.Append(d.Arguments);
                }
                finish ??= c.FinishReason;
            }
            Assert.Equal("tool_calls", finish);
            Assert.Equal(whole.ToolCalls.Select(c => (c.Name, c.Arguments)), streamed.Select(s => (s.Name, s.Args.ToString())));
            Assert.True(pieces > whole.ToolCalls.Count, "arguments arrive in several pieces");
        }
    }

    [Fact]
    public async Task A_tool_call_written_while_thinking_is_not_a_call()
    {
        var tools = model.Pipeline.ResolveTools(Tools, ToolChoice.Auto);
        string fake = "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>add\n```json\n{\"a\":1,\"b\":2}\n```<｜tool▁call▁end｜><｜tool▁calls▁end｜>";
        var prompt = model.Pipeline.PrepareChat([ChatMessage.User("hi")], tools: tools);
        var r = await Forced(prompt, tools, "<think>maybe " + fake + "</think>Done.");
        Assert.Empty(r.ToolCalls);
        Assert.Equal("stop", r.FinishReason);
        Assert.Equal("Done.", r.Content);
        Assert.Contains("<｜tool▁sep｜>add", r.Reasoning);

        // The same call after the reasoning block is one.
        var r2 = await Forced(prompt, tools, "<think>ok</think>" + fake);
        var call = Assert.Single(r2.ToolCalls);
        Assert.Equal(("add", "{\"a\":1,\"b\":2}"), (call.Name, call.Arguments));
        Assert.Equal("tool_calls", r2.FinishReason);
    }

    /// <summary>Runs the real completion path (scheduler, detokenizer, reasoning split, call parser) on an output forced to be <paramref name="text"/>.</summary>
    private async Task<CompletionResult> Forced(PreparedPrompt prompt, ToolSet tools, string text)
    {
        var grammar = model.Bundle.Grammars.Get(new ForcedText(text), startsInReasoning: false);
        var request = new SequenceRequest(prompt.Tokens, 200, SamplingOptions.Greedy) { StopTokens = model.Bundle.StopTokens, Constraint = new GrammarConstraint(grammar) };
        using var stream = new CompletionStream(model.Pipeline, model.Pipeline.Scheduler.Submit(request), prompt, new CompletionOptions { Tools = tools });
        return await stream.CollectAsync();
    }

    /// <summary>An output that must be exactly this text (DeepSeek's added tokens as themselves).</summary>
    private sealed class ForcedText(string text) : OutputGrammar
    {
        public override string Key => "forced:" + text;

        public override GrammarExpr Build(JsonSchemaCompiler compiler)
        {
            var parts = new List<GrammarExpr>();
            foreach (string piece in System.Text.RegularExpressions.Regex.Split(text, "(<｜[^｜]+｜>)"))
                if (piece.Length > 0) parts.Add(piece.StartsWith("<｜", StringComparison.Ordinal) ? GrammarExpr.Token(piece) : GrammarExpr.Literal(piece));
            return GrammarExpr.Seq([.. parts]);
        }
    }
}

/// <summary>
/// The same checks in Hermes' format (<c>&lt;tool_call&gt;</c> JSON) through Qwen3's own template, which renders the tools
/// itself: forced calls always parse and validate, and streams concatenate to the whole call.
/// </summary>
public sealed class HermesToolCallGenerationTests(RandomQwenModel model, ITestOutputHelper output) : IClassFixture<RandomQwenModel>
{
    [Theory]
    [InlineData(null, true)]
    [InlineData("add", false)]
    public async Task Forced_tool_calls_always_parse_and_their_arguments_validate(string? named, bool parallel)
    {
        Assert.Equal("hermes", model.Bundle.ToolFormat?.Name);
        Assert.True(model.Bundle.TemplateRendersTools);
        await ToolCallGenerationTests.AssertForcedCallsValid(model.Pipeline, named, parallel, output);
    }

    [Fact]
    public Task Streamed_tool_call_deltas_concatenate_to_the_whole_call_for_the_same_seed() =>
        ToolCallGenerationTests.AssertStreamedCallsEqualWhole(model.Pipeline);
}
