using System.Text.Json;
using SharpSeek.Serving;

namespace SharpSeek.Server;

/// <summary>
/// What the model can do, as Ollama's <c>/api/show</c> states it (<c>completion</c>, <c>tools</c>, <c>thinking</c>) plus
/// <c>structured_outputs</c>, and the tool-call format it uses (<c>deepseek</c>, <c>deepseek-v3.1</c>, <c>hermes</c>, or
/// <c>hermes-fallback</c> when tools are described in the system prompt because the template has no format of its own).
/// </summary>
internal static class Capabilities
{
    public static IReadOnlyList<string> Of(ChatPipeline pipeline)
    {
        var list = new List<string> { "completion" };
        if (pipeline.Bundle.ToolFormat is not null || pipeline.ToolFallback) list.Add("tools");
        if (pipeline.Bundle.Template.SupportsReasoning) list.Add("thinking");
        list.Add("structured_outputs");
        return list;
    }

    /// <summary>
    /// <c>capabilities</c> and <c>tool_call_format</c> of a loaded model. One not loaded (a server of several models)
    /// is known only to complete text: its template, which decides the rest, is read when it loads.
    /// </summary>
    public static void Write(Utf8JsonWriter w, ChatPipeline? pipeline)
    {
        w.WriteStartArray("capabilities");
        foreach (string c in pipeline is null ? ["completion"] : Of(pipeline)) w.WriteStringValue(c);
        w.WriteEndArray();
        if (pipeline is null) return;
        string? format = pipeline.Bundle.ToolFormat?.Name ?? (pipeline.ToolFallback ? "hermes-fallback" : null);
        if (format is null) w.WriteNull("tool_call_format");
        else w.WriteString("tool_call_format", format);
    }
}
