namespace SharpSeek.Chat;

/// <summary>A tool call an assistant turn made: OpenAI's <c>{type, function: {name, arguments}}</c> with the arguments as JSON text.</summary>
public sealed record ChatToolCall(string Name, string Arguments)
{
    /// <summary>The call type; DeepSeek's template writes it before the tool name.</summary>
    public string Type { get; init; } = "function";

    /// <summary>The call id, when the client supplies one (not rendered by DeepSeek's templates).</summary>
    public string? Id { get; init; }
}

/// <summary>One conversation message. <see cref="Content"/> is null for an assistant turn that only calls tools.</summary>
public sealed record ChatMessage(string Role, string? Content)
{
    /// <summary>The tool calls of an assistant turn.</summary>
    public IReadOnlyList<ChatToolCall>? ToolCalls { get; init; }

    /// <summary>The reasoning of an assistant turn, if kept apart from <see cref="Content"/> (templates drop it from history).</summary>
    public string? ReasoningContent { get; init; }

    /// <summary>A system message.</summary>
    public static ChatMessage System(string content) => new("system", content);

    /// <summary>A user message.</summary>
    public static ChatMessage User(string content) => new("user", content);

    /// <summary>An assistant message with text.</summary>
    public static ChatMessage Assistant(string content) => new("assistant", content);

    /// <summary>An assistant message that only calls tools.</summary>
    public static ChatMessage AssistantToolCalls(params ChatToolCall[] calls) => new("assistant", null) { ToolCalls = calls };

    /// <summary>A tool's output.</summary>
    public static ChatMessage Tool(string content) => new("tool", content);
}
