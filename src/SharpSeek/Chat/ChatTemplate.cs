using SharpSeek.Tokenization;

namespace SharpSeek.Chat;

/// <summary>The prompt formats we render natively (no general Jinja engine: each is a faithful port of its template).</summary>
public enum ChatFormat
{
    /// <summary>DeepSeek-V3 (and V2.5): all system prompts joined, no reasoning block.</summary>
    DeepSeekV3,
    /// <summary>DeepSeek-R1 and R1-Distill: last system prompt only, reasoning stripped from history, generation prompt opens <c>&lt;think&gt;</c>.</summary>
    DeepSeekR1,
    /// <summary>Qwen2 ChatML: <c>&lt;|im_start|&gt;role\ncontent&lt;|im_end|&gt;\n</c>.</summary>
    ChatMl,
}

/// <summary>
/// Renders a conversation into the prompt text a model was trained on. Pick one with
/// <see cref="For(Tokenizer, ChatFormat?)"/> (from the model's template, overridable) or <see cref="Create"/>.
/// </summary>
public abstract class ChatTemplate
{
    /// <summary>The format.</summary>
    public abstract ChatFormat Format { get; }

    /// <summary>Whether the generation prompt already opens a reasoning block, so the completion starts inside it.</summary>
    public virtual bool PromptOpensReasoning => false;

    /// <summary>The token that ends an assistant turn (generation stops there).</summary>
    public abstract string EndOfTurnToken { get; }

    /// <summary>Renders <paramref name="messages"/>; with <paramref name="addGenerationPrompt"/> the text ends where the assistant's answer begins.</summary>
    public abstract string Render(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt = true);

    /// <summary>Renders and encodes (added tokens in the text become their ids; no extra BOS: the template writes it).</summary>
    public int[] Encode(Tokenizer tokenizer, IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt = true) =>
        tokenizer.Encode(Render(messages, addGenerationPrompt), addSpecialTokens: false, parseSpecial: true);

    /// <summary>Creates the template for <paramref name="format"/>; <paramref name="bosToken"/> is written first by the DeepSeek formats.</summary>
    public static ChatTemplate Create(ChatFormat format, string? bosToken = DeepSeekTokens.Bos) => format switch
    {
        ChatFormat.DeepSeekV3 => new ChatTemplateDeepSeekV3(bosToken ?? ""),
        ChatFormat.DeepSeekR1 => new ChatTemplateDeepSeekR1(bosToken ?? ""),
        ChatFormat.ChatMl => new ChatTemplateChatMl(),
        _ => throw new ArgumentOutOfRangeException(nameof(format)),
    };

    /// <summary>The template for a tokenizer: <paramref name="overrideFormat"/> if given, else detected from its chat template (tokenizer_config.json or GGUF) or, lacking one, its tokens.</summary>
    /// <exception cref="SharpSeekException">no format can be determined.</exception>
    public static ChatTemplate For(Tokenizer tokenizer, ChatFormat? overrideFormat = null)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        ChatFormat format = overrideFormat ?? Detect(tokenizer.Config.ChatTemplate, tokenizer)
            ?? throw new SharpSeekException("cannot tell the chat format from the model's chat template or tokens; choose one (deepseek-v3, deepseek-r1, chatml)");
        string bos = tokenizer.Config.BosToken ?? (tokenizer.TryGetId(DeepSeekTokens.Bos, out _) ? DeepSeekTokens.Bos : "");
        return Create(format, bos);
    }

    /// <summary>Recognizes the format of a Jinja chat template, falling back on the tokenizer's tokens; null if unknown.</summary>
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

    /// <summary>Parses a format name: <c>deepseek-v3</c>, <c>deepseek-r1</c>, <c>chatml</c> (or <c>qwen2</c>).</summary>
    /// <exception cref="SharpSeekException">the name is unknown.</exception>
    public static ChatFormat ParseFormat(string name) => name.Trim().ToLowerInvariant() switch
    {
        "deepseek-v3" or "deepseek3" or "deepseek" or "v3" => ChatFormat.DeepSeekV3,
        "deepseek-r1" or "r1" or "deepseek-r1-distill" or "r1-distill" => ChatFormat.DeepSeekR1,
        "chatml" or "qwen2" or "qwen" => ChatFormat.ChatMl,
        _ => throw new SharpSeekException($"unknown chat format '{name}' (known: deepseek-v3, deepseek-r1, chatml)"),
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
