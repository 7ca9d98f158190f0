using SharpSeek.Chat;

namespace SharpSeek.Tests.Chat;

/// <summary>Reasoning/answer split, one-shot and streamed in every chunking.</summary>
public sealed class ReasoningParserTests
{
    public static TheoryData<string, bool, string, string> Cases => new()
    {
        { "<think>\nLet me add.\n</think>\n\nThe answer is 4.", false, "Let me add.", "The answer is 4." },
        { "Let me add.\n</think>\n\n4", true, "Let me add.", "4" },
        { "\n\nhmm </thi nk> still</think>done", true, "hmm </thi nk> still", "done" },
        { "Just an answer, no tags.", false, "", "Just an answer, no tags." },
        { "<b>not think</b>", false, "", "<b>not think</b>" },
        { "  <think>r</think>c", false, "r", "c" },
        { "thinking forever", true, "thinking forever", "" },
        { "<think>unclosed", false, "unclosed", "" },
        { "", true, "", "" },
        { "<thin", false, "", "<thin" },
        { "r</think", true, "r</think", "" },
        { "<think>\nrepeated open</think>answer", true, "repeated open", "answer" },
        { "<thin", true, "<thin", "" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Splits_whole_completions(string text, bool startsInReasoning, string reasoning, string content)
    {
        var (r, c) = ReasoningParser.Split(text, startsInReasoning);
        Assert.Equal(reasoning, r);
        Assert.Equal(content, c);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Any_chunking_gives_the_same_split(string text, bool startsInReasoning, string reasoning, string content)
    {
        var rng = new Random(text.Length * 31 + (startsInReasoning ? 1 : 0));
        for (int trial = 0; trial < 50; trial++)
        {
            var p = new ReasoningParser(startsInReasoning);
            string r = "", c = "";
            int pos = 0;
            while (pos < text.Length)
            {
                int n = trial == 0 ? 1 : rng.Next(1, 6);
                n = Math.Min(n, text.Length - pos);
                ReasoningDelta d = p.Push(text.Substring(pos, n));
                r += d.Reasoning;
                c += d.Content;
                pos += n;
            }
            ReasoningDelta f = p.Flush();
            Assert.Equal(reasoning, r + f.Reasoning);
            Assert.Equal(content, c + f.Content);
        }
    }

    [Fact]
    public void Reports_state_while_streaming()
    {
        var p = new ReasoningParser(startsInReasoning: true);
        Assert.True(p.InReasoning);
        Assert.Equal(new ReasoningDelta("abc", ""), p.Push("abc</th"));
        Assert.True(p.InReasoning);
        Assert.Equal(new ReasoningDelta("", "x"), p.Push("ink>x"));
        Assert.False(p.InReasoning);
    }
}
