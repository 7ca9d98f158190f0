using SharpSeek.Chat.Jinja;

namespace SharpSeek.Chat;

/// <summary>
/// DeepSeek-R1 / R1-Distill's template: only the last system message, history turns cut to what follows
/// <c>&lt;/think&gt;</c>, and the generation prompt <c>&lt;｜Assistant｜&gt;&lt;think&gt;\n</c> (2025-02 update).
/// </summary>
public sealed class ChatTemplateDeepSeekR1(string bosToken = DeepSeekTokens.Bos) : ChatTemplateDeepSeek(bosToken)
{
    /// <inheritdoc/>
    public override ChatFormat Format => ChatFormat.DeepSeekR1;

    /// <inheritdoc/>
    public override bool SupportsReasoning => true;

    /// <inheritdoc/>
    protected override string GenerationPrompt => DeepSeekTokens.Assistant + "<think>\n";

    /// <inheritdoc/>
    protected override void AppendSystemPrompt(JinjaString.Builder sb, IReadOnlyList<ChatMessage> messages)
    {
        string last = "";
        foreach (ChatMessage m in messages) if (m.Role == "system") last = m.Content ?? "";
        sb.AppendContent(last);
    }

    /// <inheritdoc/>
    protected override string AssistantContent(string content)
    {
        int i = content.LastIndexOf("</think>", StringComparison.Ordinal);
        return i < 0 ? content : content[(i + "</think>".Length)..];
    }
}
