using System.Text.Json;
using SharpSeek.Chat;
using SharpSeek.Cli;
using SharpSeek.Serving;

namespace SharpSeek.Tests.Chat;

/// <summary>
/// Issue 21.4: DeepSeek-V3.1's thinking switch (the generation prompt ends in <c>&lt;think&gt;</c> or <c>&lt;/think&gt;</c>)
/// driven by --think/--no-think and the thinking/enable_thinking kwargs, and the reasoning split following the rendered
/// prompt rather than the model family; templates that raise or use what the engine lacks fail with clear errors.
/// </summary>
public sealed class ThinkingSwitchTests
{
    private static ChatPipeline Load(string path, ChatFormat? format = null) =>
        new(ModelBundle.Load(path, format), new SchedulerOptions { MaxActive = 1 }, ownsBundle: true);

    private static IReadOnlyDictionary<string, JsonElement> Kw(string json) => TemplateKwargs.Parse(json, "test");

    [Fact]
    public async Task V31_generation_prompt_follows_the_switch_and_the_reasoning_split_follows_the_prompt()
    {
        using var model = TemplatedModel.FromFixture("deepseek-v3.1");
        using var p = Load(model.Path);
        var tok = p.Bundle.Tokenizer;
        int think = tok.GetId("<think>"), endThink = tok.GetId("</think>"), assistant = tok.GetId(DeepSeekTokens.Assistant);
        List<ChatMessage> msgs = [ChatMessage.User("What is 12 + 7?")];
        (string Tail, bool Opens) Prompt(ChatPromptRequest r)
        {
            var prepared = p.PrepareChat(r);
            return (string.Join(',', prepared.Tokens[^2..]), prepared.StartsInReasoning);
        }
        // V3.1 defaults to non-thinking; --think / thinking / enable_thinking turn it on; --no-think keeps it off.
        Assert.Equal(($"{assistant},{endThink}", false), Prompt(new ChatPromptRequest(msgs)));
        Assert.Equal(($"{assistant},{think}", true), Prompt(new ChatPromptRequest(msgs) { Think = true }));
        Assert.Equal(($"{assistant},{endThink}", false), Prompt(new ChatPromptRequest(msgs) { Think = false }));
        Assert.Equal(($"{assistant},{think}", true), Prompt(new ChatPromptRequest(msgs) { TemplateKwargs = Kw("""{"thinking": true}""") }));
        Assert.Equal(($"{assistant},{think}", true), Prompt(new ChatPromptRequest(msgs) { TemplateKwargs = Kw("""{"enable_thinking": true}""") }));
        Assert.Equal(($"{assistant},{endThink}", false), Prompt(new ChatPromptRequest(msgs) { Think = true, TemplateKwargs = Kw("""{"thinking": false}""") }));

        // The bundled model reasons in <think> before \boxed{}: opened by the prompt, its steps become reasoning.
        var greedy = new CompletionOptions { MaxTokens = 80, Sampling = SharpSeek.Generation.SamplingOptions.Greedy };
        var thinking = await p.CompleteAsync(p.PrepareChat(new ChatPromptRequest(msgs) { Think = true }), greedy);
        Assert.NotEqual("", thinking.Reasoning);
        Assert.DoesNotContain("</think>", thinking.Content);
    }

    [Fact]
    public void R1_template_has_no_switch_so_no_think_closes_the_block()
    {
        using var model = TemplatedModel.FromFixture("deepseek-r1");
        using var p = Load(model.Path);
        var on = p.PrepareChat(new ChatPromptRequest([ChatMessage.User("hi")]));
        var off = p.PrepareChat(new ChatPromptRequest([ChatMessage.User("hi")]) { Think = false });
        Assert.True(on.StartsInReasoning);
        Assert.False(off.StartsInReasoning);
        Assert.Equal(p.Bundle.Tokenizer.Encode("</think>\n\n", parseSpecial: true), off.Tokens[on.Tokens.Length..]);
    }

    [Fact]
    public void A_template_that_raises_passes_its_message()
    {
        using var model = new TemplatedModel("{% for m in messages %}{% if m.role == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}{{ m.content }}{% endfor %}");
        using var p = Load(model.Path);
        var e = Assert.Throws<SharpSeek.Chat.Jinja.JinjaRaisedException>(() => p.PrepareChat([ChatMessage.System("s"), ChatMessage.User("u")]));
        Assert.Equal("System role not supported", e.Message);
    }

    [Fact]
    public void An_unsupported_template_fails_at_load_naming_the_construct_and_where_and_chat_format_overrides_it()
    {
        using var model = new TemplatedModel("{% for m in messages %}\n{{ m.content | wordwrap(10) }}{% endfor %}");
        var e = Assert.Throws<SharpSeekException>(() => Load(model.Path).Dispose());
        Assert.Contains("filter 'wordwrap'", e.Message);
        Assert.Contains("line 2, column", e.Message);
        Assert.Contains("--chat-format", e.Message);
        using var p = Load(model.Path, ChatFormat.DeepSeekR1);
        Assert.True(p.PrepareChat([ChatMessage.User("hi")]).StartsInReasoning);
    }

    [Fact]
    public void Cli_reports_a_bad_template_in_one_line_and_bad_template_kwargs()
    {
        using var model = new TemplatedModel("{% include 'x' %}");
        var e = new StringWriter();
        int code = CliApp.Run(["run", "--model", model.Path, "-n", "1", "hi"], e);
        Assert.Equal(1, code);
        Assert.StartsWith("error: the model's chat template cannot be used: unsupported Jinja construct 'include'", e.ToString());
        Assert.Single(e.ToString().Trim().Split('\n'));
        var k = new StringWriter();
        Assert.Equal(1, CliApp.Run(["run", "--model", model.Path, "--chat-format", "deepseek-r1", "--template-kwargs", "[1]", "hi"], k));
        Assert.Contains("--template-kwargs must be a JSON object", k.ToString());
    }
}
