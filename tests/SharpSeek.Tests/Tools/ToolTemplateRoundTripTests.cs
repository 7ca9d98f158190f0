using System.Text.Json;
using System.Text.Json.Nodes;
using SharpSeek.Chat;
using SharpSeek.Tests.Support;
using SharpSeek.Tokenization;
using SharpSeek.Tools;

namespace SharpSeek.Tests.Tools;

/// <summary>
/// A conversation with tool calls and results goes through each real chat template (tests/fixtures/chat-templates) the
/// way a client sends it back, and what the template writes for the assistant's turn reads back, with the model's own
/// call parser, as the same calls: the history a model sees is in the format it is parsed and forced in. Each template is
/// paired with a real vocabulary, which (with the template) decides the model's call format or the fallback.
/// </summary>
public sealed class ToolTemplateRoundTripTests
{
    private static readonly Lazy<Tokenizer> DeepSeekVocabulary = new(() => Tokenizer.FromFile(Fixtures.Path("tokenizers", "deepseek-v3")));
    private static readonly Lazy<Tokenizer> QwenVocabulary = new(() => Tokenizer.FromFile(Fixtures.Path("tokenizers", "qwen3")));

    private const string Question = "What is the weather in Paris, and what is 2+3?";

    private static readonly ToolDefinition[] Definitions =
    [
        new("get_weather", "Current weather in a city", JsonDocument.Parse("""{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}""").RootElement),
        new("add", "Adds two integers", JsonDocument.Parse("""{"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"integer"}},"required":["a","b"]}""").RootElement),
    ];

    private static readonly ChatToolCall[] Calls =
    [
        new("get_weather", """{"city": "Paris"}""") { Id = "call_1" },
        new("add", """{"a": 2, "b": 3}""") { Id = "call_2" },
    ];

    /// <summary>
    /// The template with its model's special tokens (Qwen's have no BOS; R1-Distill keeps DeepSeek's), and the tools as
    /// a server resolves them for that template and vocabulary, checked to get <paramref name="expectedFormat"/>.
    /// </summary>
    private static (JinjaChatTemplate Template, ToolSet Tools) Resolve(string name, string vocabulary, string expectedFormat, ToolChoice choice)
    {
        bool qwen = name.StartsWith("qwen", StringComparison.Ordinal);
        var template = new JinjaChatTemplate(File.ReadAllText(Fixtures.Path("chat-templates", name + ".jinja")),
            qwen ? null : DeepSeekTokens.Bos, qwen ? "<|im_end|>" : DeepSeekTokens.Eos);
        var format = ToolCallFormat.For(vocabulary == "qwen3" ? QwenVocabulary.Value : DeepSeekVocabulary.Value, template);
        Assert.Equal(expectedFormat, format?.Name ?? "fallback");
        return (template, new ToolSet(Definitions, choice, ParallelCalls: true, format ?? ToolCallFormat.Hermes, Fallback: format is null));
    }

    public static TheoryData<string, string, string> Cases() => new()
    {
        // template, vocabulary, the call format it gets ("fallback": none of its own)
        { "deepseek-v3", "deepseek-v3", "deepseek" },
        { "deepseek-r1", "deepseek-v3", "deepseek" },
        { "deepseek-r1-2025-01", "deepseek-v3", "deepseek" },
        { "deepseek-v3.1", "deepseek-v3", "deepseek-v3.1" },
        { "qwen2.5", "qwen3", "hermes" },
        { "qwen3", "qwen3", "hermes" },
        { "deepseek-r1-distill-qwen-32b", "qwen3", "fallback" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Calls_and_results_round_trip_through_the_template(string templateName, string vocabulary, string expectedFormat)
    {
        var (template, tools) = Resolve(templateName, vocabulary, expectedFormat, ToolChoice.Auto);

        var messages = new[]
        {
            ChatMessage.User(Question),
            new ChatMessage("assistant", null) { ToolCalls = Calls },
            new ChatMessage("tool", "18 C and sunny") { ToolCallId = "call_1", Name = "get_weather" },
            new ChatMessage("tool", "the sum is 5") { ToolCallId = "call_2", Name = "add" },
        };
        var request = ToolPrompt.Apply(new ChatPromptRequest(messages), tools, ToolPrompt.RendersTools(template));
        string text = template.Render(request).Text;

        // The definitions are offered (by the template itself or in the system message), before the question.
        int question = text.IndexOf(Question, StringComparison.Ordinal);
        Assert.True(question > 0, text);
        foreach (var d in Definitions)
        {
            Assert.InRange(text.IndexOf(d.Name, StringComparison.Ordinal), 0, question);
            Assert.InRange(text.IndexOf(d.Description!, StringComparison.Ordinal), 0, question);
        }

        // The assistant's turn reads back as the same calls, in order, with equal arguments and no text around them.
        int start = text.IndexOf(tools.Format.Marker, question, StringComparison.Ordinal);
        Assert.True(start > question, text);
        int end = text.IndexOf(template.EndOfTurnToken, start, StringComparison.Ordinal);
        Assert.True(end > start, text);
        var (content, parsed) = tools.Format.CreateParser().Parse(text[start..end]);
        Assert.Equal("", content.Trim());
        Assert.Equal(Calls.Select(c => c.Name), parsed.Select(c => c.Name));
        for (int i = 0; i < Calls.Length; i++)
            Assert.True(JsonNode.DeepEquals(JsonNode.Parse(Calls[i].Arguments), JsonNode.Parse(parsed[i].Arguments)), $"{parsed[i].Arguments} != {Calls[i].Arguments}");

        // Both results follow the calls.
        Assert.True(text.IndexOf("18 C and sunny", end, StringComparison.Ordinal) > end, text);
        Assert.True(text.IndexOf("the sum is 5", end, StringComparison.Ordinal) > end, text);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Tool_choice_none_offers_no_tools(string templateName, string vocabulary, string expectedFormat)
    {
        var (template, tools) = Resolve(templateName, vocabulary, expectedFormat, ToolChoice.None);
        Assert.False(tools.ParsesCalls);
        Assert.Null(tools.Grammar(null));
        string text = template.Render(ToolPrompt.Apply(new ChatPromptRequest([ChatMessage.User(Question)]), tools, ToolPrompt.RendersTools(template))).Text;
        Assert.DoesNotContain("get_weather", text);
    }
}
