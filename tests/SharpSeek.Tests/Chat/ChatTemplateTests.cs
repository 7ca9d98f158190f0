using SharpSeek.Chat;
using SharpSeek.Tests.Tokenization;
using SharpSeek.Tokenization;

namespace SharpSeek.Tests.Chat;

/// <summary>Cases whose text follows directly from the R1/R1-Distill and ChatML templates, and format detection.</summary>
public sealed class ChatTemplateTests
{
    private const string Bos = DeepSeekTokens.Bos;

    [Fact]
    public void R1_keeps_only_the_last_system_prompt_and_opens_think()
    {
        var t = ChatTemplate.Create(ChatFormat.DeepSeekR1);
        string s = t.Render([ChatMessage.System("A."), ChatMessage.System("B."), ChatMessage.User("hi")]);
        Assert.Equal(Bos + "B.<｜User｜>hi<｜Assistant｜><think>\n", s);
        Assert.True(t.PromptOpensReasoning([ChatMessage.User("hi")]));
    }

    [Fact]
    public void R1_strips_reasoning_from_history()
    {
        var t = ChatTemplate.Create(ChatFormat.DeepSeekR1);
        string s = t.Render(
        [
            ChatMessage.User("2+2?"),
            ChatMessage.Assistant("<think>\nadd them\n</think>\n\n4"),
            ChatMessage.User("and 3+3?"),
        ]);
        Assert.Equal(Bos + "<｜User｜>2+2?<｜Assistant｜>\n\n4<｜end▁of▁sentence｜><｜User｜>and 3+3?<｜Assistant｜><think>\n", s);
    }

    [Fact]
    public void V3_second_tool_call_closes_the_block_and_is_first_is_never_reset()
    {
        var t = ChatTemplate.Create(ChatFormat.DeepSeekV3);
        string s = t.Render(
        [
            ChatMessage.User("q"),
            ChatMessage.AssistantToolCalls(new ChatToolCall("a", "{}"), new ChatToolCall("b", "{\"x\":1}")),
            ChatMessage.Tool("1"),
            ChatMessage.Tool("2"),
        ]);
        Assert.Equal(Bos + "<｜User｜>q<｜Assistant｜><｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>a\n```json\n{}\n```<｜tool▁call▁end｜>" +
                     "\n<｜tool▁call▁begin｜>function<｜tool▁sep｜>b\n```json\n{\"x\":1}\n```<｜tool▁call▁end｜><｜tool▁calls▁end｜><｜end▁of▁sentence｜>" +
                     "<｜tool▁outputs▁begin｜><｜tool▁output▁begin｜>1<｜tool▁output▁end｜>\n<｜tool▁output▁begin｜>2<｜tool▁output▁end｜><｜tool▁outputs▁end｜>", s);
    }

    [Fact]
    public void ChatMl_renders_qwen_turns()
    {
        var t = ChatTemplate.Create(ChatFormat.ChatMl);
        string s = t.Render([ChatMessage.System("S"), ChatMessage.User("hi"), ChatMessage.Assistant("yo"), ChatMessage.User("bye")]);
        Assert.Equal("<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\nyo<|im_end|>\n<|im_start|>user\nbye<|im_end|>\n<|im_start|>assistant\n", s);
        int[] ids = t.Encode(TokenizerFixtures.Qwen3, [ChatMessage.User("hi")]);
        Assert.Equal(TokenizerFixtures.Qwen3.GetId("<|im_start|>"), ids[0]);
        Assert.Equal(TokenizerFixtures.Qwen3.GetId("<|im_end|>"), ids[^5]);
    }

    [Fact]
    public void Detects_formats_from_configs_and_allows_override()
    {
        Assert.Equal(ChatFormat.Jinja, ChatTemplate.For(TokenizerFixtures.DeepSeekV3).Format);
        Assert.Equal(ChatFormat.Jinja, ChatTemplate.For(TokenizerFixtures.Qwen3).Format);
        Assert.Equal(ChatFormat.DeepSeekV3, ChatTemplate.Detect(TokenizerFixtures.DeepSeekV3.Config.ChatTemplate));
        Assert.Equal(ChatFormat.ChatMl, ChatTemplate.For(TokenizerFixtures.Qwen3, ChatFormat.ChatMl).Format);
        Assert.Equal(ChatFormat.DeepSeekR1, ChatTemplate.For(TokenizerFixtures.DeepSeekV3, ChatTemplate.ParseFormat("deepseek-r1")).Format);
        Assert.Equal(ChatFormat.DeepSeekR1, ChatTemplate.Detect("{{'<｜Assistant｜><think>\\n'}}"));
        Assert.Throws<SharpSeekException>(() => ChatTemplate.ParseFormat("llama9"));
    }

    [Fact]
    public void R1_distill_tokenizer_encodes_its_added_tokens()
    {
        Tokenizer distill = DeepSeekR1DistillQwen.FromQwenTokenizer(TokenizerFixtures.Qwen3);
        Assert.Equal(ChatFormat.DeepSeekR1, ChatTemplate.For(distill).Format);
        int[] ids = ChatTemplate.For(distill).Encode(distill, [ChatMessage.User("hi")]);
        Assert.Equal([151646, 151644, 6023, 151645, 151648, 198], ids);
        Assert.Equal([151646, 6023], distill.Encode("hi", addSpecialTokens: true));
        Assert.Equal(151643, distill.EosId);
    }
}
