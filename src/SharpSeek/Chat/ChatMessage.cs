using System.Text.Json;

namespace SharpSeek.Chat;

/// <summary>
/// A tool call an assistant turn made: OpenAI's <c>{id, type, function: {name, arguments}}</c> with the arguments as JSON
/// text, as the client sent them. Templates that serialize arguments themselves (<c>arguments | tojson</c>, Qwen's and
/// Llama's) receive the parsed object, as vLLM passes it; DeepSeek's templates, which concatenate it, receive the text.
/// </summary>
public sealed record ChatToolCall(string Name, string Arguments)
{
    /// <summary>The call type; DeepSeek's templates write it before the tool name.</summary>
    public string Type { get; init; } = "function";

    /// <summary>The call id, when the client supplies one (a tool result refers to it with <see cref="ChatMessage.ToolCallId"/>).</summary>
    public string? Id { get; init; }
}

/// <summary>
/// A function the model may call: OpenAI's <c>{"type": "function", "function": {name, description, parameters}}</c>.
/// <see cref="Definition"/>, when set, is the client's JSON object as sent and is what templates see (key order kept,
/// as Hugging Face renders it with <c>tools | tojson</c>).
/// </summary>
public sealed record ChatTool(string Name, string? Description = null, JsonElement? Parameters = null)
{
    /// <summary>The tool type (only <c>function</c> exists today).</summary>
    public string Type { get; init; } = "function";

    /// <summary>The whole tool object as the client sent it, if it came from JSON.</summary>
    public JsonElement? Definition { get; init; }
}

/// <summary>One conversation message. <see cref="Content"/> is null for an assistant turn that only calls tools.</summary>
public sealed record ChatMessage(string Role, string? Content)
{
    /// <summary>The tool calls of an assistant turn.</summary>
    public IReadOnlyList<ChatToolCall>? ToolCalls { get; init; }

    /// <summary>The reasoning of an assistant turn, if kept apart from <see cref="Content"/> (templates drop it from history or render it).</summary>
    public string? ReasoningContent { get; init; }

    /// <summary>For a <c>tool</c> message: the id of the call it answers.</summary>
    public string? ToolCallId { get; init; }

    /// <summary>For a <c>tool</c> message: the name of the tool that produced it.</summary>
    public string? Name { get; init; }

    /// <summary>A system message.</summary>
    public static ChatMessage System(string content) => new("system", content);

    /// <summary>A user message.</summary>
    public static ChatMessage User(string content) => new("user", content);

    /// <summary>An assistant message with text.</summary>
    public static ChatMessage Assistant(string content) => new("assistant", content);

    /// <summary>An assistant message that only calls tools.</summary>
    public static ChatMessage AssistantToolCalls(params ChatToolCall[] calls) => new("assistant", null) { ToolCalls = calls };

    /// <summary>A tool's output; <paramref name="toolCallId"/> names the call it answers.</summary>
    public static ChatMessage Tool(string content, string? toolCallId = null, string? name = null) => new("tool", content) { ToolCallId = toolCallId, Name = name };
}

/// <summary>
/// What a chat template renders: the conversation, the tools on offer, whether to end with the assistant's generation
/// prompt, template keyword arguments (<c>chat_template_kwargs</c>, e.g. <c>{"enable_thinking": false}</c>) and the
/// thinking switch (null: the template's default; false: answer without a reasoning block).
/// </summary>
public sealed record ChatPromptRequest(IReadOnlyList<ChatMessage> Messages)
{
    /// <summary>Functions the model may call, or null.</summary>
    public IReadOnlyList<ChatTool>? Tools { get; init; }

    /// <summary>Whether the prompt ends where the assistant's answer begins.</summary>
    public bool AddGenerationPrompt { get; init; } = true;

    /// <summary>Extra template variables (JSON values), as vLLM's and SGLang's <c>chat_template_kwargs</c>.</summary>
    public IReadOnlyDictionary<string, JsonElement>? TemplateKwargs { get; init; }

    /// <summary>Thinking on (true), off (false) or the template's default (null); sets <c>enable_thinking</c> and <c>thinking</c> unless the kwargs do.</summary>
    public bool? Think { get; init; }
}

/// <summary>A rendered prompt: its text and which ranges of it are conversation content (tokenized as plain text).</summary>
public sealed record RenderedPrompt(string Text, IReadOnlyList<Jinja.TextRange> Content)
{
    /// <summary>Whether the prompt leaves a reasoning block open (its end, past trailing whitespace, is <c>&lt;think&gt;</c>), so the completion starts inside it.</summary>
    public bool OpensReasoning => Text.AsSpan().TrimEnd().EndsWith("<think>", StringComparison.Ordinal);
}
