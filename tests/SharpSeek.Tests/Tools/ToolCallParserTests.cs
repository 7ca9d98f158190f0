using System.Text;
using SharpSeek.Tools;

namespace SharpSeek.Tests.Tools;

/// <summary>Tool calls read back from model output, whole and in every chunking.</summary>
public sealed class ToolCallParserTests
{
    private const string B = "<｜tool▁calls▁begin｜>", E = "<｜tool▁calls▁end｜>", CB = "<｜tool▁call▁begin｜>", CE = "<｜tool▁call▁end｜>", S = "<｜tool▁sep｜>";

    public static TheoryData<string, string, string, string> Cases() => new()
    {
        // format, answer, expected content, expected calls as name(args);name(args)
        { "deepseek", $"Let me check.{B}{CB}function{S}get_weather\n```json\n{{\"city\": \"Paris\"}}\n```{CE}\n{CB}function{S}get_time\n```json\n{{}}\n```{CE}{E}",
          "Let me check.", "get_weather({\"city\": \"Paris\"});get_time({})" },
        { "deepseek", $"{B}{CB}function{S}f\n```json\n{{\"code\": \"a```b\\n```\"}}\n```{CE}{E}", "", "f({\"code\": \"a```b\\n```\"})" },
        { "deepseek", $"{B}{CB}f{S}{{\"x\":1}}{CE}{CB}g{S}[]{CE}{E}", "", "f({\"x\":1});g([])" },
        { "deepseek", "Plain <b>text</b> with ```code``` and <｜ lookalikes.", "Plain <b>text</b> with ```code``` and <｜ lookalikes.", "" },
        { "deepseek", $"{B}{CB}function{S}f\n```json\n{{\"a\": 1", "", "f({\"a\": 1)" },
        { "hermes", "<tool_call>\n{\"name\": \"f\", \"arguments\": {\"a\": [1, \"}\"], \"b\": \"</tool_call>\"}}\n</tool_call>\n<tool_call>\n{\"arguments\": {}, \"name\": \"g\"}\n</tool_call>",
          "", "f({\"a\": [1, \"}\"], \"b\": \"</tool_call>\"});g({})" },
        { "hermes", "Sure.\n<tool_call>\n{\"name\":\"h\",\"arguments\":\"raw\"}\n</tool_call>", "Sure.", "h(\"raw\")" },
        { "hermes", "<tool_call>not json</tool_call> after", "<tool_call>not json</tool_call> after", "" },
        { "hermes", "<tool_call>\n{\"name\": \"f\", \"arguments\": {\"a\": tru", "", "f({\"a\": tru)" },
        { "hermes", "x < y and <tool_ca", "x < y and <tool_ca", "" },
    };

    private static ToolCallParser Parser(string format) => format == "hermes" ? new HermesToolCallParser() : new DeepSeekToolCallParser();

    private static string Show(IEnumerable<(string Name, string Args)> calls) => string.Join(";", calls.Select(c => $"{c.Name}({c.Args})"));

    [Theory]
    [MemberData(nameof(Cases))]
    public void Whole_answers_split_into_content_and_calls(string format, string answer, string content, string calls)
    {
        var (c, parsed) = Parser(format).Parse(answer);
        Assert.Equal(content, c);
        Assert.Equal(calls, Show(parsed.Select(p => (p.Name, p.Arguments))));
        Assert.All(parsed, p => Assert.StartsWith("call_", p.Id));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Every_chunking_gives_the_same_content_and_calls_and_ids_and_names_come_first(string format, string answer, string content, string calls)
    {
        var rng = new Random(answer.Length);
        for (int trial = 0; trial < 200; trial++)
        {
            var p = Parser(format);
            var text = new StringBuilder();
            var streamed = new List<(string? Id, string Name, StringBuilder Args)>();
            void Take(ToolCallUpdate u)
            {
                text.Append(u.Content);
                foreach (var d in u.Calls)
                {
                    if (d.Index == streamed.Count)
                    {
                        Assert.NotNull(d.Id);
                        Assert.NotNull(d.Name);
                        streamed.Add((d.Id, d.Name!, new StringBuilder()));
                    }
                    else
                    {
                        Assert.Null(d.Id);
                        Assert.Null(d.Name);
                    }
                    streamed[d.Index].Args.Append(d.Arguments);
                }
            }
            // Chunks of 1..6 characters (trial 0: one character at a time).
            for (int i = 0; i < answer.Length;)
            {
                int n = trial == 0 ? 1 : Math.Min(answer.Length - i, rng.Next(1, 7));
                Take(p.Push(answer.Substring(i, n)));
                i += n;
            }
            Take(p.Flush());
            Assert.Equal(content, text.ToString());
            Assert.Equal(calls, Show(streamed.Select(s => (s.Name, s.Args.ToString()))));
            Assert.Equal(streamed.Select(s => s.Id), p.Calls.Select(c => c.Id));
        }
    }

    [Fact]
    public void Arguments_that_are_not_json_come_back_as_written()
    {
        var (_, calls) = new DeepSeekToolCallParser().Parse($"{B}{CB}function{S}f\n```json\n{{city: Paris}}\n```{CE}{E}");
        var call = Assert.Single(calls);
        Assert.Equal("{city: Paris}", call.Arguments);
        Assert.Null(call.ParsedArguments);
    }
}
