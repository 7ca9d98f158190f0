using SharpSeek.Chat.Jinja;

namespace SharpSeek.Chat;

/// <summary>
/// The shared body of DeepSeek's V3 and R1 Jinja templates, ported statement by statement including
/// their quirks: <c>ns.is_first</c> is never reset, so only the very first tool call of the whole
/// conversation gets <c>&lt;｜Assistant｜&gt;&lt;｜tool▁calls▁begin｜&gt;</c>, and a single call never gets
/// <c>&lt;｜tool▁calls▁end｜&gt;&lt;｜end▁of▁sentence｜&gt;</c>. Message text is appended as content, markup as markup.
/// </summary>
public abstract class ChatTemplateDeepSeek(string bosToken) : ChatTemplate
{
    /// <summary>The BOS text written first.</summary>
    public string BosToken { get; } = bosToken;

    /// <inheritdoc/>
    public override string EndOfTurnToken => DeepSeekTokens.Eos;

    /// <summary>Appends the system prompt this variant renders after BOS.</summary>
    protected abstract void AppendSystemPrompt(JinjaString.Builder sb, IReadOnlyList<ChatMessage> messages);

    /// <summary>The assistant content this variant renders for a history turn.</summary>
    protected virtual string AssistantContent(string content) => content;

    /// <summary>The text that ends the prompt when a generation prompt is asked for.</summary>
    protected abstract string GenerationPrompt { get; }

    /// <inheritdoc/>
    protected override JinjaString RenderCore(ChatPromptRequest request)
    {
        var sb = new JinjaString.Builder();
        sb.Append(BosToken);
        AppendSystemPrompt(sb, request.Messages);
        bool isFirst = false, isTool = false, isOutputFirst = true;
        foreach (ChatMessage m in request.Messages)
        {
            switch (m.Role)
            {
                case "user":
                    isTool = false;
                    sb.Append(DeepSeekTokens.User).AppendContent(m.Content ?? "");
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
                        sb.Append(DeepSeekTokens.ToolOutputsEnd).AppendContent(m.Content).Append(DeepSeekTokens.Eos);
                        isTool = false;
                    }
                    else sb.Append(DeepSeekTokens.Assistant).AppendContent(AssistantContent(m.Content)).Append(DeepSeekTokens.Eos);
                    break;
                case "tool":
                    isTool = true;
                    if (isOutputFirst)
                    {
                        sb.Append(DeepSeekTokens.ToolOutputsBegin).Append(DeepSeekTokens.ToolOutputBegin).AppendContent(m.Content ?? "").Append(DeepSeekTokens.ToolOutputEnd);
                        isOutputFirst = false;
                    }
                    else sb.Append('\n').Append(DeepSeekTokens.ToolOutputBegin).AppendContent(m.Content ?? "").Append(DeepSeekTokens.ToolOutputEnd);
                    break;
            }
        }
        if (isTool) sb.Append(DeepSeekTokens.ToolOutputsEnd);
        if (request.AddGenerationPrompt && !isTool) sb.Append(GenerationPrompt);
        return sb.ToJinjaString();
    }

    private static void AppendCall(JinjaString.Builder sb, ChatToolCall call) =>
        sb.Append(DeepSeekTokens.ToolCallBegin).AppendContent(call.Type).Append(DeepSeekTokens.ToolSep).AppendContent(call.Name)
          .Append("\n```json\n").AppendContent(call.Arguments).Append("\n```").Append(DeepSeekTokens.ToolCallEnd);
}
