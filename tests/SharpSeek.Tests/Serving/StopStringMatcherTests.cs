using SharpSeek.Serving;

namespace SharpSeek.Tests.Serving;

public sealed class StopStringMatcherTests
{
    [Theory]
    [InlineData("hello world. END here", "hello world. ")]
    [InlineData("no stop at all", "no stop at all")]
    [InlineData("EN", "EN")]
    [InlineData("a\n\nb", "a")]
    public void Any_chunking_gives_the_text_before_the_first_stop(string text, string expected)
    {
        for (int size = 1; size <= text.Length; size++)
        {
            var m = new StopStringMatcher(["END", "\n\n"]);
            string got = "";
            for (int i = 0; i < text.Length; i += size) got += m.Push(text.Substring(i, Math.Min(size, text.Length - i)));
            got += m.Flush();
            Assert.Equal(expected, got);
        }
    }
}
