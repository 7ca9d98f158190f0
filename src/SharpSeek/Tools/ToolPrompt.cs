using System.Text;
using System.Text.Json;
using SharpSeek.Chat;
using SharpSeek.Structured;

namespace SharpSeek.Tools;

/// <summary>
/// Tool definitions for templates that do not render <c>tools</c> themselves, written into the system message.
/// <list type="bullet">
/// <item>DeepSeek's format (V3, R1, V3.1: their templates render calls and results but not definitions): a
/// <c>## Tools</c> section in the layout of DeepSeek-V3.1's documented tool prompt, one <c>### name</c> per tool with its
/// description and parameters.</item>
/// <item>Hermes (Qwen's text) and the fallback for models with no tool format (R1-Distill): Qwen's tool section,
/// which asks for <c>&lt;tool_call&gt;{"name": ..., "arguments": ...}&lt;/tool_call&gt;</c>. In the fallback the history is
/// rewritten into the same text: an assistant's calls become that markup in its content, and tool results user turns
/// wrapped in <c>&lt;tool_response&gt;</c>, because the template has no other way to show them.</item>
/// </list>
/// </summary>
public static class ToolPrompt
{
    /// <summary>Whether <paramref name="template"/> renders the request's <c>tools</c> itself (Qwen's and Llama's do; DeepSeek's do not).</summary>
    public static bool RendersTools(ChatTemplate template) =>
        template is JinjaChatTemplate j && System.Text.RegularExpressions.Regex.IsMatch(j.Source, @"\btools\b");

    /// <summary>
    /// The request with its tools: as the template's <c>tools</c> when <paramref name="templateRendersTools"/> (and the
    /// model's own format is used), else as a section of the system message (the fallback also rewrites the history).
    /// With <c>tool_choice: none</c> no tools are shown. Such templates (Qwen3's: <c>'&lt;/think&gt;' in message.content</c>)
    /// read an assistant turn's content as text even when the turn only calls tools, so a missing content is passed as
    /// empty text there, as vLLM does; DeepSeek's templates test for none and get it.
    /// </summary>
    public static ChatPromptRequest Apply(ChatPromptRequest request, ToolSet tools, bool templateRendersTools)
    {
        if (templateRendersTools && !tools.Fallback)
            return request with
            {
                Messages = [.. request.Messages.Select(m => m is { Role: "assistant", Content: null } ? m with { Content = "" } : m)],
                Tools = tools.Choice.Mode == ToolChoiceMode.None ? null : [.. tools.Tools.Select(t => t.ToChatTool())],
            };
        return request with { Messages = Apply(request.Messages, tools) };
    }

    /// <summary>The conversation with the tool section added (and, for the fallback, the history rewritten).</summary>
    public static IReadOnlyList<ChatMessage> Apply(IReadOnlyList<ChatMessage> messages, ToolSet tools)
    {
        if (tools.Tools.Count == 0 || tools.Choice.Mode == ToolChoiceMode.None) return tools.Fallback ? Rewrite(messages) : messages;
        string section = tools.Format == ToolCallFormat.Hermes ? HermesSection(tools.Tools) : DeepSeekSection(tools.Tools);
        var list = (tools.Fallback ? Rewrite(messages) : messages).ToList();
        if (list.Count > 0 && list[0].Role == "system")
            list[0] = list[0] with { Content = (list[0].Content ?? "") + "\n\n" + section };
        else list.Insert(0, ChatMessage.System(section));
        return list;
    }

    /// <summary>DeepSeek-V3.1's documented tool description layout.</summary>
    public static string DeepSeekSection(IReadOnlyList<ToolDefinition> tools)
    {
        var sb = new StringBuilder("## Tools\nYou have access to the following tools:\n");
        foreach (var t in tools)
        {
            sb.Append("\n### ").Append(t.Name).Append('\n');
            sb.Append("Description: ").Append(t.Description ?? "").Append("\n\n");
            sb.Append("Parameters: ").Append(t.Parameters is { } p ? JsonGrammar.Compact(p) : "{}").Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>Qwen's tool section (its chat template's wording), one JSON function signature per line.</summary>
    public static string HermesSection(IReadOnlyList<ToolDefinition> tools)
    {
        var sb = new StringBuilder("# Tools\n\nYou may call one or more functions to assist with the user query.\n\n");
        sb.Append("You are provided with function signatures within <tools></tools> XML tags:\n<tools>");
        foreach (var t in tools)
        {
            sb.Append('\n');
            var fn = new Dictionary<string, object?> { ["name"] = t.Name };
            if (t.Description is not null) fn["description"] = t.Description;
            fn["parameters"] = t.Parameters ?? JsonDocument.Parse("{}").RootElement;
            sb.Append(JsonSerializer.Serialize(new Dictionary<string, object?> { ["type"] = "function", ["function"] = fn }, Relaxed));
        }
        sb.Append("\n</tools>\n\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n");
        sb.Append("<tool_call>\n{\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call>");
        return sb.ToString();
    }

    private static readonly JsonSerializerOptions Relaxed = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The fallback's history: calls as <c>&lt;tool_call&gt;</c> text in the assistant's content, results as user turns.</summary>
    private static IReadOnlyList<ChatMessage> Rewrite(IReadOnlyList<ChatMessage> messages)
    {
        var list = new List<ChatMessage>(messages.Count);
        foreach (var m in messages)
        {
            if (m.Role == "assistant" && m.ToolCalls is { Count: > 0 } calls)
            {
                var sb = new StringBuilder(m.Content ?? "");
                foreach (var c in calls)
                {
                    if (sb.Length > 0) sb.Append('\n');
                    string args = c.Arguments;
                    try { using var doc = JsonDocument.Parse(args); args = JsonSerializer.Serialize(doc.RootElement, Relaxed); }
                    catch (JsonException) { }
                    sb.Append("<tool_call>\n{\"name\": ").Append(JsonSerializer.Serialize(c.Name, Relaxed)).Append(", \"arguments\": ").Append(args).Append("}\n</tool_call>");
                }
                list.Add(new ChatMessage("assistant", sb.ToString()) { ReasoningContent = m.ReasoningContent });
            }
            else if (m.Role == "tool")
            {
                string response = "<tool_response>\n" + m.Content + "\n</tool_response>";
                // Consecutive results share one user turn, as Qwen's template renders them.
                if (list.Count > 0 && list[^1].Role == "user" && list[^1].Content!.EndsWith("</tool_response>", StringComparison.Ordinal))
                    list[^1] = list[^1] with { Content = list[^1].Content + "\n" + response };
                else list.Add(ChatMessage.User(response));
            }
            else list.Add(m);
        }
        return list;
    }
}
