using SharpSeek.Chat.Jinja;
using SharpSeek.Tokenization;

namespace SharpSeek.Chat;

/// <summary>The prompt formats: the model's own Jinja template, or one of the built-in fallbacks for files without one.</summary>
public enum ChatFormat
{
    /// <summary>DeepSeek-V3 (and V2.5): all system prompts joined, no reasoning block.</summary>
    DeepSeekV3,
    /// <summary>DeepSeek-R1 and R1-Distill: last system prompt only, reasoning stripped from history, generation prompt opens <c>&lt;think&gt;</c>.</summary>
    DeepSeekR1,
    /// <summary>Qwen2 ChatML: <c>&lt;|im_start|&gt;role\ncontent&lt;|im_end|&gt;\n</c>.</summary>
    ChatMl,
    /// <summary>The model's own Jinja <c>chat_template</c> (tokenizer_config.json or GGUF <c>tokenizer.chat_template</c>).</summary>
    Jinja,
}

/// <summary>
/// Renders a conversation into the prompt text a model was trained on, keeping apart the template's markup and the
/// conversation's content (<see cref="RenderedPrompt.Content"/>), so that text a user typed never becomes a control
/// token. Pick one with <see cref="For(Tokenizer, ChatFormat?)"/> (the model's own template, overridable) or <see cref="Create"/>.
/// </summary>
public abstract class ChatTemplate
{
    /// <summary>The format.</summary>
    public abstract ChatFormat Format { get; }

    /// <summary>Whether the template can open a reasoning block (its text mentions <c>&lt;think&gt;</c>).</summary>
    public virtual bool SupportsReasoning => false;

    /// <summary>The token that ends an assistant turn (generation stops there).</summary>
    public abstract string EndOfTurnToken { get; }

    /// <summary>Renders the prompt: markup and content marked apart.</summary>
    protected abstract JinjaString RenderCore(ChatPromptRequest request);

    /// <summary>
    /// Renders <paramref name="request"/>. With <see cref="ChatPromptRequest.Think"/> false and a prompt that still opens a
    /// reasoning block (a template without a thinking switch, such as R1's), the block is closed at once, as DeepSeek's
    /// non-thinking mode does: an empty <c>&lt;think&gt;…&lt;/think&gt;</c> before the answer.
    /// </summary>
    /// <exception cref="SharpSeekException">the template rejects the conversation (<c>raise_exception</c>) or cannot render it.</exception>
    public RenderedPrompt Render(ChatPromptRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        JinjaString s = RenderCore(request);
        var prompt = new RenderedPrompt(s.Value, s.Content);
        if (request.Think == false && request.AddGenerationPrompt && prompt.OpensReasoning)
            prompt = prompt with { Text = prompt.Text + "</think>\n\n" };
        return prompt;
    }

    /// <summary>Renders <paramref name="messages"/>; with <paramref name="addGenerationPrompt"/> the text ends where the assistant's answer begins.</summary>
    public string Render(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt = true) =>
        Render(new ChatPromptRequest(messages) { AddGenerationPrompt = addGenerationPrompt }).Text;

    /// <summary>Whether the generation prompt for <paramref name="messages"/> leaves a reasoning block open.</summary>
    public bool PromptOpensReasoning(IReadOnlyList<ChatMessage> messages) => Render(new ChatPromptRequest(messages)).OpensReasoning;

    /// <summary>Renders and encodes: the template's markup may become special tokens, the content never does; no extra BOS (the template writes it).</summary>
    public int[] Encode(Tokenizer tokenizer, IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt = true) =>
        Encode(tokenizer, new ChatPromptRequest(messages) { AddGenerationPrompt = addGenerationPrompt });

    /// <summary>Renders and encodes <paramref name="request"/> (content as plain text).</summary>
    public int[] Encode(Tokenizer tokenizer, ChatPromptRequest request)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        RenderedPrompt p = Render(request);
        return tokenizer.EncodeMarkedUp(p.Text, p.Content);
    }

    /// <summary>Creates the built-in template for <paramref name="format"/>; <paramref name="bosToken"/> is written first by the DeepSeek formats.</summary>
    public static ChatTemplate Create(ChatFormat format, string? bosToken = DeepSeekTokens.Bos) => format switch
    {
        ChatFormat.DeepSeekV3 => new ChatTemplateDeepSeekV3(bosToken ?? ""),
        ChatFormat.DeepSeekR1 => new ChatTemplateDeepSeekR1(bosToken ?? ""),
        ChatFormat.ChatMl => new ChatTemplateChatMl(),
        ChatFormat.Jinja => throw new SharpSeekException("the jinja format needs the model's chat template; use ChatTemplate.For or JinjaChatTemplate"),
        _ => throw new ArgumentOutOfRangeException(nameof(format)),
    };

    /// <summary>
    /// The template for a tokenizer: <paramref name="overrideFormat"/> if given, else the model's own Jinja template
    /// (tokenizer_config.json or GGUF), else a built-in format recognized from its tokens.
    /// </summary>
    /// <exception cref="SharpSeekException">no format can be determined, or the model's template cannot be parsed (the message says where and suggests --chat-format).</exception>
    public static ChatTemplate For(Tokenizer tokenizer, ChatFormat? overrideFormat = null)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        string bos = tokenizer.Config.BosToken ?? (tokenizer.TryGetId(DeepSeekTokens.Bos, out _) ? DeepSeekTokens.Bos : "");
        if (overrideFormat is null or ChatFormat.Jinja && tokenizer.Config.ChatTemplate is { Length: > 0 } source)
        {
            try { return new JinjaChatTemplate(source, tokenizer.Config.BosToken, tokenizer.Config.EosToken); }
            catch (JinjaException e) { throw new SharpSeekException($"the model's chat template cannot be used: {e.Message}", e); }
        }
        if (overrideFormat == ChatFormat.Jinja) throw new SharpSeekException("--chat-format jinja: the model has no chat template");
        ChatFormat format = overrideFormat ?? Detect(tokenizer.Config.ChatTemplate, tokenizer)
            ?? throw new SharpSeekException("cannot tell the chat format from the model's chat template or tokens; choose one (deepseek-v3, deepseek-r1, chatml)");
        return Create(format, bos);
    }

    /// <summary>Recognizes the built-in family of a Jinja chat template, falling back on the tokenizer's tokens; null if unknown.</summary>
    public static ChatFormat? Detect(string? jinjaTemplate, Tokenizer? tokenizer = null)
    {
        if (!string.IsNullOrEmpty(jinjaTemplate))
        {
            if (jinjaTemplate.Contains(DeepSeekTokens.Assistant, StringComparison.Ordinal))
                return jinjaTemplate.Contains("<think>", StringComparison.Ordinal) || jinjaTemplate.Contains("</think>", StringComparison.Ordinal)
                    ? ChatFormat.DeepSeekR1 : ChatFormat.DeepSeekV3;
            if (jinjaTemplate.Contains("<|im_start|>", StringComparison.Ordinal)) return ChatFormat.ChatMl;
        }
        if (tokenizer is not null)
        {
            if (tokenizer.Config.GgufPre == "deepseek-r1-qwen") return ChatFormat.DeepSeekR1;
            if (tokenizer.TryGetId(DeepSeekTokens.Assistant, out _))
                return tokenizer.TryGetId("<think>", out int think) && tokenizer.IsAddedToken(think) ? ChatFormat.DeepSeekR1 : ChatFormat.DeepSeekV3;
            if (tokenizer.TryGetId("<|im_start|>", out _)) return ChatFormat.ChatMl;
        }
        return null;
    }

    /// <summary>Parses a format name: <c>deepseek-v3</c>, <c>deepseek-r1</c>, <c>chatml</c> (or <c>qwen2</c>), <c>jinja</c> (the model's own template).</summary>
    /// <exception cref="SharpSeekException">the name is unknown.</exception>
    public static ChatFormat ParseFormat(string name) => name.Trim().ToLowerInvariant() switch
    {
        "deepseek-v3" or "deepseek3" or "deepseek" or "v3" => ChatFormat.DeepSeekV3,
        "deepseek-r1" or "r1" or "deepseek-r1-distill" or "r1-distill" => ChatFormat.DeepSeekR1,
        "chatml" or "qwen2" or "qwen" => ChatFormat.ChatMl,
        "jinja" or "model" or "auto" => ChatFormat.Jinja,
        _ => throw new SharpSeekException($"unknown chat format '{name}' (known: deepseek-v3, deepseek-r1, chatml, jinja)"),
    };
}

/// <summary>DeepSeek's special token strings (U+FF5C bars, U+2581 spaces).</summary>
public static class DeepSeekTokens
{
    public const string Bos = "<｜begin▁of▁sentence｜>";
    public const string Eos = "<｜end▁of▁sentence｜>";
    public const string User = "<｜User｜>";
    public const string Assistant = "<｜Assistant｜>";
    public const string ToolCallsBegin = "<｜tool▁calls▁begin｜>";
    public const string ToolCallsEnd = "<｜tool▁calls▁end｜>";
    public const string ToolCallBegin = "<｜tool▁call▁begin｜>";
    public const string ToolCallEnd = "<｜tool▁call▁end｜>";
    public const string ToolSep = "<｜tool▁sep｜>";
    public const string ToolOutputsBegin = "<｜tool▁outputs▁begin｜>";
    public const string ToolOutputsEnd = "<｜tool▁outputs▁end｜>";
    public const string ToolOutputBegin = "<｜tool▁output▁begin｜>";
    public const string ToolOutputEnd = "<｜tool▁output▁end｜>";
}
