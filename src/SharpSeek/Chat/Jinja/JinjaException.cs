namespace SharpSeek.Chat.Jinja;

/// <summary>A template that cannot be parsed or rendered: the message names the construct and its line and column.</summary>
public class JinjaException(string message, int line = 0, int column = 0) : SharpSeekException(line > 0 ? $"{message} (line {line}, column {column})" : message)
{
    /// <summary>The 1-based line in the template, or 0 when unknown.</summary>
    public int Line { get; } = line;

    /// <summary>The 1-based column in the template, or 0 when unknown.</summary>
    public int Column { get; } = column;
}

/// <summary>A construct of Jinja this engine does not implement (its name and position are in the message).</summary>
public sealed class JinjaUnsupportedException(string construct, int line, int column)
    : JinjaException($"unsupported Jinja construct '{construct}' in the chat template; pass --chat-format (deepseek-v3, deepseek-r1, chatml) to use a built-in format instead", line, column)
{
    /// <summary>The construct, e.g. <c>extends</c> or <c>filter wordwrap</c>.</summary>
    public string Construct { get; } = construct;
}

/// <summary>The template called <c>raise_exception(message)</c>: the conversation is not one it accepts.</summary>
public sealed class JinjaRaisedException(string templateMessage) : JinjaException(templateMessage)
{
    /// <summary>The template's own message.</summary>
    public string TemplateMessage { get; } = templateMessage;
}
