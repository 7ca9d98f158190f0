using System.Text;

namespace SharpSeek.Chat;

/// <summary>
/// The shared body of DeepSeek's V3 and R1 Jinja templates, ported statement by statement including
/// their quirks: <c>ns.is_first</c> is never reset, so only the very first tool call of the whole
/// conversation gets <c>&lt;｜Assistant｜&gt;&lt;｜tool▁calls▁begin｜&gt;</c>, and a single call never gets
/// <c>&lt;｜tool▁calls▁end｜&gt;&lt;｜end▁of▁sentence｜&gt;</c>.
/// </summary>
public abstract class ChatTemplateDeepSeek(string bosToken) : ChatTemplate
{
    /// <summary>The BOS text written first.</summary>
    public string BosToken { get; } = bosToken;

    /// <inheritdoc/>
    public override string EndOfTurnToken => DeepSeekTokens.Eos;

    /// <summary>The system prompt this variant renders after BOS.</summary>
    protected abstract string SystemPrompt(IReadOnlyList<ChatMessage> messages);

    /// <summary>The assistant content this variant renders for a history turn.</summary>
    protected virtual string AssistantContent(string content) => content;

    /// <summary>The text that ends the prompt when a generation prompt is asked for.</summary>
    protected abstract string GenerationPrompt { get; }

    /// <inheritdoc/>
    public override string Render(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt = true)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var sb = new StringBuilder();
        sb.Append(BosToken).Append(SystemPrompt(messages));
        bool isFirst = false, isTool = false, isOutputFirst = true;
        foreach (ChatMessage m in messages)
        {
            switch (m.Role)
            {
                case "user":
                    isTool = false;
                    sb.Append(DeepSeekTokens.User).Append(m.Content);
                    break;
                case "assistant" when m.Content is null:
                    isTool = false;
                    foreach (ChatToolCall call in m.ToolCalls ?? [])
                    {
                        if (!isFirst)
                        {
                            sb.Append(DeepSeekTokens.Assistant).Append(DeepSeekTokens.ToolCallsBegin);
                            AppendCall(sb, call);
                            isFirst = true;
                        }
                        else
                        {
                            sb.Append('\n');
                            AppendCall(sb, call);
                            sb.Append(DeepSeekTokens.ToolCallsEnd).Append(DeepSeekTokens.Eos);
                        }
                    }
                    break;
                case "assistant":
                    if (isTool)
                    {
                        sb.Append(DeepSeekTokens.ToolOutputsEnd).Append(m.Content).Append(DeepSeekTokens.Eos);
                        isTool = false;
                    }
                    else sb.Append(DeepSeekTokens.Assistant).Append(AssistantContent(m.Content)).Append(DeepSeekTokens.Eos);
                    break;
                case "tool":
                    isTool = true;
                    if (isOutputFirst)
                    {
                        sb.Append(DeepSeekTokens.ToolOutputsBegin).Append(DeepSeekTokens.ToolOutputBegin).Append(m.Content).Append(DeepSeekTokens.ToolOutputEnd);
                        isOutputFirst = false;
                    }
                    else sb.Append('\n').Append(DeepSeekTokens.ToolOutputBegin).Append(m.Content).Append(DeepSeekTokens.ToolOutputEnd);
                    break;
            }
        }
        if (isTool) sb.Append(DeepSeekTokens.ToolOutputsEnd);
        if (addGenerationPrompt && !isTool) sb.Append(GenerationPrompt);
        return sb.ToString();
    }

    private static void AppendCall(StringBuilder sb, ChatToolCall call) =>
        sb.Append(DeepSeekTokens.ToolCallBegin).Append(call.Type).Append(DeepSeekTokens.ToolSep).Append(call.Name)
          .Append("\n```json\n").Append(call.Arguments).Append("\n```").Append(DeepSeekTokens.ToolCallEnd);
}
