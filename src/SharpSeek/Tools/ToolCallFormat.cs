using System.Text;
using System.Text.Json;
using SharpSeek.Chat;
using SharpSeek.Structured;
using SharpSeek.Tokenization;
using static SharpSeek.Structured.GrammarExpr;

namespace SharpSeek.Tools;

/// <summary>
/// How a model family writes tool calls: the parser that reads them back, the grammar that forces them, and the marker
/// that opens a call block. <see cref="For"/> picks the model's own format from its vocabulary and chat template.
/// </summary>
public abstract class ToolCallFormat
{
    /// <summary>A short name (<c>deepseek</c>, <c>deepseek-v3.1</c>, <c>hermes</c>).</summary>
    public abstract string Name { get; }

    /// <summary>The text that opens a block of calls (an added token in the model's vocabulary, or plain text).</summary>
    public abstract string Marker { get; }

    /// <summary>A parser for one answer.</summary>
    public abstract ToolCallParser CreateParser();

    /// <summary>The grammar of a block of calls: one (or, with <paramref name="parallel"/>, one or more) of <paramref name="tools"/>, each with its arguments' grammar.</summary>
    public abstract GrammarExpr Calls(IReadOnlyList<(string Name, GrammarExpr Arguments)> tools, bool parallel);

    /// <summary>DeepSeek-V3 and R1: <c>function&lt;｜tool▁sep｜&gt;NAME</c> and the arguments in a fenced JSON block.</summary>
    public static ToolCallFormat DeepSeek { get; } = new DeepSeekFormat(v31: false);

    /// <summary>DeepSeek-V3.1: <c>NAME&lt;｜tool▁sep｜&gt;ARGS</c>.</summary>
    public static ToolCallFormat DeepSeekV31 { get; } = new DeepSeekFormat(v31: true);

    /// <summary>Hermes/Qwen: <c>&lt;tool_call&gt;\n{"name": ..., "arguments": ...}\n&lt;/tool_call&gt;</c>.</summary>
    public static ToolCallFormat Hermes { get; } = new HermesFormat();

    /// <summary>
    /// The model's native format, or null when neither its vocabulary nor its template knows tool calls (then only the
    /// system-prompt fallback can offer tools). DeepSeek's tool tokens in the vocabulary mean DeepSeek's format (V3.1's
    /// when the template writes arguments without a fenced block); a template that writes <c>&lt;tool_call&gt;</c> means Hermes'.
    /// The template read is the one in use (a GGUF's or an override), else the tokenizer's.
    /// </summary>
    public static ToolCallFormat? For(Tokenizer tokenizer, ChatTemplate chatTemplate)
    {
        string template = chatTemplate is JinjaChatTemplate jinja ? jinja.Source : tokenizer.Config.ChatTemplate ?? "";
        if (tokenizer.TryGetId(DeepSeekTokens.ToolCallsBegin, out int id) && tokenizer.IsAddedToken(id))
            return template.Contains(DeepSeekTokens.ToolSep, StringComparison.Ordinal) && !template.Contains("```json", StringComparison.Ordinal) ? DeepSeekV31 : DeepSeek;
        if (template.Contains("<tool_call>", StringComparison.Ordinal) || chatTemplate.Format == ChatFormat.ChatMl) return Hermes;
        return null;
    }

    /// <summary>A tool name as a JSON string.</summary>
    protected static string JsonName(string name)
    {
        var sb = new StringBuilder();
        JsonGrammar.WriteString(sb, name);
        return sb.ToString();
    }

    private sealed class DeepSeekFormat(bool v31) : ToolCallFormat
    {
        public override string Name => v31 ? "deepseek-v3.1" : "deepseek";
        public override string Marker => DeepSeekTokens.ToolCallsBegin;
        public override ToolCallParser CreateParser() => new DeepSeekToolCallParser();

        public override GrammarExpr Calls(IReadOnlyList<(string Name, GrammarExpr Arguments)> tools, bool parallel)
        {
            var call = Alt([.. tools.Select(t => v31
                ? Seq(Token(DeepSeekTokens.ToolCallBegin), Literal(t.Name), Token(DeepSeekTokens.ToolSep), t.Arguments, Token(DeepSeekTokens.ToolCallEnd))
                : Seq(Token(DeepSeekTokens.ToolCallBegin), Literal("function"), Token(DeepSeekTokens.ToolSep), Literal(t.Name + "\n```json\n"), t.Arguments,
                      Literal("\n```"), Token(DeepSeekTokens.ToolCallEnd)))]);
            var more = parallel ? Star(v31 ? call : Seq(Literal("\n"), call)) : Empty;
            return Seq(Token(DeepSeekTokens.ToolCallsBegin), call, more, Token(DeepSeekTokens.ToolCallsEnd));
        }
    }

    private sealed class HermesFormat : ToolCallFormat
    {
        public override string Name => "hermes";
        public override string Marker => "<tool_call>";
        public override ToolCallParser CreateParser() => new HermesToolCallParser();

        public override GrammarExpr Calls(IReadOnlyList<(string Name, GrammarExpr Arguments)> tools, bool parallel)
        {
            var call = Alt([.. tools.Select(t => Seq(Token("<tool_call>"), Literal($"\n{{\"name\": {JsonName(t.Name)}, \"arguments\": "), t.Arguments, Literal("}\n"), Token("</tool_call>")))]);
            return Seq(call, parallel ? Star(Seq(Literal("\n"), call)) : Empty);
        }
    }
}
