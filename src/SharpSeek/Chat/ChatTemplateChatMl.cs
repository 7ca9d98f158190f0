using SharpSeek.Chat.Jinja;

namespace SharpSeek.Chat;

/// <summary>
/// Qwen2 ChatML: each message as <c>&lt;|im_start|&gt;role\ncontent&lt;|im_end|&gt;\n</c>; assistant tool calls as
/// Qwen2.5's <c>&lt;tool_call&gt;</c> JSON blocks; consecutive tool outputs grouped in one user turn of <c>&lt;tool_response&gt;</c> blocks.
/// </summary>
public sealed class ChatTemplateChatMl(string? defaultSystemPrompt = null) : ChatTemplate
{
    /// <summary>The system prompt used when the conversation has none (Qwen2: "You are a helpful assistant."); null for none.</summary>
    public string? DefaultSystemPrompt { get; } = defaultSystemPrompt;

    /// <inheritdoc/>
    public override ChatFormat Format => ChatFormat.ChatMl;

    /// <inheritdoc/>
    public override string EndOfTurnToken => "<|im_end|>";

    /// <inheritdoc/>
    protected override JinjaString RenderCore(ChatPromptRequest request)
    {
        IReadOnlyList<ChatMessage> messages = request.Messages;
        var sb = new JinjaString.Builder();
        if (DefaultSystemPrompt is not null && (messages.Count == 0 || messages[0].Role != "system"))
            sb.Append("<|im_start|>system\n").Append(DefaultSystemPrompt).Append("<|im_end|>\n");
        for (int i = 0; i < messages.Count; i++)
        {
            ChatMessage m = messages[i];
            if (m.Role == "tool")
            {
                if (i == 0 || messages[i - 1].Role != "tool") sb.Append("<|im_start|>user");
                sb.Append("\n<tool_response>\n").AppendContent(m.Content ?? "").Append("\n</tool_response>");
                if (i == messages.Count - 1 || messages[i + 1].Role != "tool") sb.Append("<|im_end|>\n");
                continue;
            }
            if (m.Role == "assistant" && m.ToolCalls is { Count: > 0 } calls)
            {
                sb.Append("<|im_start|>assistant");
                if (!string.IsNullOrEmpty(m.Content)) sb.Append('\n').AppendContent(m.Content);
                foreach (ChatToolCall c in calls)
                    sb.Append("\n<tool_call>\n{\"name\": \"").AppendContent(c.Name).Append("\", \"arguments\": ").AppendContent(c.Arguments).Append("}\n</tool_call>");
                sb.Append("<|im_end|>\n");
                continue;
            }
            sb.Append("<|im_start|>").AppendContent(m.Role).Append('\n').AppendContent(m.Content ?? "").Append("<|im_end|>\n");
        }
        if (request.AddGenerationPrompt) sb.Append("<|im_start|>assistant\n");
        return sb.ToJinjaString();
    }
}
