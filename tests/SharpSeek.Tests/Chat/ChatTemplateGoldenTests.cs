using System.Text.Json;
using SharpSeek.Chat;
using SharpSeek.Tests.Tokenization;

namespace SharpSeek.Tests.Chat;

/// <summary>
/// DeepSeek-V3's <c>chat_template_cases</c> (rendered by transformers.js Jinja from the fixture's tokenizer_config.json): text
/// and ids, from the model's own template (our Jinja engine) and from the built-in DeepSeek-V3 fallback alike.
/// </summary>
public sealed class ChatTemplateGoldenTests
{
    public static TheoryData<string> Names()
    {
        var data = new TheoryData<string>();
        foreach (JsonElement c in TokenizerFixtures.Golden("deepseek-v3").GetProperty("chat_template_cases").EnumerateArray())
            data.Add(c.GetProperty("name").GetString()!);
        return data;
    }

    private static JsonElement Case(string name)
    {
        foreach (JsonElement c in TokenizerFixtures.Golden("deepseek-v3").GetProperty("chat_template_cases").EnumerateArray())
            if (c.GetProperty("name").GetString() == name) return c;
        throw new ArgumentException(name);
    }

    internal static List<ChatMessage> Messages(JsonElement array) => JinjaGoldenTests.ParseMessages(array);

    [Theory]
    [MemberData(nameof(Names))]
    public void Renders_and_encodes_like_the_jinja_template(string name)
    {
        JsonElement c = Case(name);
        var tokenizer = TokenizerFixtures.DeepSeekV3;
        List<ChatMessage> messages = Messages(c.GetProperty("messages"));
        bool gen = c.GetProperty("add_generation_prompt").GetBoolean();
        var expected = new List<int>();
        foreach (JsonElement id in c.GetProperty("ids").EnumerateArray()) expected.Add(id.GetInt32());
        ChatTemplate jinja = ChatTemplate.For(tokenizer);
        Assert.Equal(ChatFormat.Jinja, jinja.Format);
        foreach (ChatTemplate template in (ChatTemplate[])[jinja, ChatTemplate.Create(ChatFormat.DeepSeekV3)])
        {
            Assert.Equal(c.GetProperty("rendered").GetString(), template.Render(messages, gen));
            Assert.Equal(expected, template.Encode(tokenizer, messages, gen));
        }
    }
}
