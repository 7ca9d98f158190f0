using SharpSeek.Chat.Jinja;

namespace SharpSeek.Chat;

/// <summary>DeepSeek-V3's template: every system message, joined with a blank line, right after BOS.</summary>
public sealed class ChatTemplateDeepSeekV3(string bosToken = DeepSeekTokens.Bos) : ChatTemplateDeepSeek(bosToken)
{
    /// <inheritdoc/>
    public override ChatFormat Format => ChatFormat.DeepSeekV3;

    /// <inheritdoc/>
    protected override string GenerationPrompt => DeepSeekTokens.Assistant;

    /// <inheritdoc/>
    protected override void AppendSystemPrompt(JinjaString.Builder sb, IReadOnlyList<ChatMessage> messages)
    {
        bool first = true;
        foreach (ChatMessage m in messages)
        {
            if (m.Role != "system") continue;
            if (!first) sb.Append("\n\n");
            sb.AppendContent(m.Content ?? "");
            first = false;
        }
    }
}
