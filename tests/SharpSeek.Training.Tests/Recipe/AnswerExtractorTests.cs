using SharpSeek.Training.Recipe;

namespace SharpSeek.Training.Tests.Recipe;

public sealed class AnswerExtractorTests
{
    [Theory]
    [InlineData("steps \\boxed{3}\n</think>\n\nThe answer is \\boxed{521}.", "521")]
    [InlineData("x</think>\\boxed{1} then \\boxed{ 2 }", "2")]
    [InlineData("x</think>\\boxed{\\frac{1}{2}}", "\\frac{1}{2}")]
    public void LastBoxedOfTheAnswerPart(string completion, string expected) => Assert.Equal(expected, AnswerExtractor.Extract(completion));

    [Theory]
    [InlineData("only reasoning \\boxed{5} and no close tag")]
    [InlineData("x</think> no box")]
    [InlineData("x</think> \\boxed{unclosed")]
    public void NoAnswer(string completion) => Assert.Null(AnswerExtractor.Extract(completion));

    [Theory]
    [InlineData("1,234", "1234", true)]
    [InlineData("-5", "-5", true)]
    [InlineData("521.0", "521", true)]
    [InlineData("522", "521", false)]
    [InlineData(null, "1", false)]
    public void Matching(string? predicted, string expected, bool equal) => Assert.Equal(equal, AnswerExtractor.Matches(predicted, expected));
}
