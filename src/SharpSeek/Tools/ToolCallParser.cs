using System.Text;
using System.Text.Json;
using SharpSeek.Chat;

namespace SharpSeek.Tools;

/// <summary>A tool call the model made: its id, function name and arguments exactly as the model wrote them.</summary>
public sealed record ToolCall(string Id, string Name, string Arguments)
{
    /// <summary>The arguments parsed as JSON, or null when the model wrote something that is not JSON (kept as written in <see cref="Arguments"/>).</summary>
    public JsonElement? ParsedArguments
    {
        get
        {
            try
            {
                using var doc = JsonDocument.Parse(Arguments);
                return doc.RootElement.Clone();
            }
            catch (JsonException) { return null; }
        }
    }

    /// <summary>A fresh call id in OpenAI's style.</summary>
    public static string NewId() => "call_" + Guid.NewGuid().ToString("N")[..24];
}

/// <summary>
/// A piece of a tool call as it streams, OpenAI's <c>delta.tool_calls[i]</c>: the first piece of call <see cref="Index"/>
/// carries its <see cref="Id"/> and <see cref="Name"/>, later ones only argument text; the fragments of one call
/// concatenate to its whole arguments.
/// </summary>
public sealed record ToolCallDelta(int Index, string? Id, string? Name, string Arguments);

/// <summary>What a piece of answer text turned out to be: plain content and/or tool-call pieces.</summary>
public readonly record struct ToolCallUpdate(string Content, IReadOnlyList<ToolCallDelta> Calls)
{
    public static ToolCallUpdate Text(string content) => new(content, []);
    public bool IsEmpty => Content.Length == 0 && Calls.Count == 0;
}

/// <summary>
/// Splits the answer (the text after any reasoning block: a call written while thinking is not a call) incrementally
/// into content and tool calls. Text that could still be the start of a call marker is held back, so no marker is
/// ever emitted as content, and the result does not depend on how the text is chunked.
/// </summary>
public abstract class ToolCallParser
{
    private readonly StringBuilder _buffer = new();
    private readonly List<ToolCall> _calls = [];
    private readonly List<ToolCallDelta> _deltas = [];
    private readonly StringBuilder _content = new();
    private readonly StringBuilder _args = new();
    private string? _id, _name;

    /// <summary>The calls completed so far (arguments as written).</summary>
    public IReadOnlyList<ToolCall> Calls => _calls;

    /// <summary>Consumes the next piece of answer text.</summary>
    public ToolCallUpdate Push(string text)
    {
        _buffer.Append(text);
        Drain(final: false);
        return Take();
    }

    /// <summary>Ends the answer: held text is attributed, and a call cut off (by max_tokens) ends with the arguments it has.</summary>
    public ToolCallUpdate Flush()
    {
        Drain(final: true);
        if (_name is not null) EndCall();
        return Take();
    }

    /// <summary>Parses a whole answer.</summary>
    public (string Content, IReadOnlyList<ToolCall> Calls) Parse(string answer)
    {
        var a = Push(answer);
        var b = Flush();
        return (a.Content + b.Content, Calls);
    }

    private ToolCallUpdate Take()
    {
        // Runs once per generated token, and most tokens complete no call: no list copy then.
        var u = new ToolCallUpdate(_content.ToString(), _deltas.Count == 0 ? [] : [.. _deltas]);
        _content.Clear();
        _deltas.Clear();
        return u;
    }

    /// <summary>Runs the format's state machine over the buffer; <paramref name="final"/> at the end of the answer.</summary>
    protected abstract void Drain(bool final);

    protected StringBuilder Buffer => _buffer;

    protected string Peek() => _buffer.ToString();

    protected void Consume(int n) => _buffer.Remove(0, n);

    protected void EmitContent(string text) => _content.Append(text);

    protected bool InCall => _name is not null;

    protected int CallCount => _calls.Count;

    protected void StartCall(string name)
    {
        _id = ToolCall.NewId();
        _name = name;
        _args.Clear();
        _deltas.Add(new ToolCallDelta(_calls.Count, _id, name, ""));
    }

    protected void EmitArguments(string fragment)
    {
        if (fragment.Length == 0) return;
        _args.Append(fragment);
        _deltas.Add(new ToolCallDelta(_calls.Count, null, null, fragment));
    }

    protected void EndCall()
    {
        _calls.Add(new ToolCall(_id!, _name!, _args.ToString()));
        _id = _name = null;
    }

    /// <summary>The length of the longest suffix of <paramref name="s"/> that is a proper prefix of one of <paramref name="markers"/>.</summary>
    protected static int HeldSuffix(string s, params string[] markers)
    {
        int best = 0;
        foreach (string m in markers)
            for (int k = Math.Min(m.Length - 1, s.Length); k > best; k--)
                if (string.CompareOrdinal(s, s.Length - k, m, 0, k) == 0) { best = k; break; }
        return best;
    }
}

/// <summary>
/// DeepSeek's tool calls. V3/R1: <c>&lt;｜tool▁calls▁begin｜&gt;&lt;｜tool▁call▁begin｜&gt;function&lt;｜tool▁sep｜&gt;NAME\n```json\nARGS\n```&lt;｜tool▁call▁end｜&gt;</c>
/// (more calls after a newline) <c>&lt;｜tool▁calls▁end｜&gt;</c>; V3.1: <c>&lt;｜tool▁call▁begin｜&gt;NAME&lt;｜tool▁sep｜&gt;ARGS&lt;｜tool▁call▁end｜&gt;</c>.
/// Both are read by one parser: what precedes the separator is the type when it is <c>function</c> and the name otherwise.
/// </summary>
public sealed class DeepSeekToolCallParser : ToolCallParser
{
    private const string CallsBegin = DeepSeekTokens.ToolCallsBegin, CallsEnd = DeepSeekTokens.ToolCallsEnd, CallBegin = DeepSeekTokens.ToolCallBegin,
        CallEnd = DeepSeekTokens.ToolCallEnd, Sep = DeepSeekTokens.ToolSep;

    private enum State { Content, Between, Head, NameLine, Fence, Args, After }
    private State _state;
    private bool _fenced;

    protected override void Drain(bool final)
    {
        while (Buffer.Length > 0)
        {
            string s = Peek();
            switch (_state)
            {
                case State.Content:
                {
                    int at = s.IndexOf(CallsBegin, StringComparison.Ordinal);
                    int at2 = s.IndexOf(CallBegin, StringComparison.Ordinal);   // a call block whose opening marker the model skipped
                    if (at2 >= 0 && (at < 0 || at2 < at)) { EmitContent(s[..at2]); Consume(at2); _state = State.Between; continue; }
                    if (at >= 0) { EmitContent(s[..at]); Consume(at + CallsBegin.Length); _state = State.Between; continue; }
                    int keep = final ? 0 : HeldSuffix(s, CallsBegin, CallBegin);
                    EmitContent(s[..^keep]);
                    Consume(s.Length - keep);
                    return;
                }
                case State.Between:
                {
                    string t = s.TrimStart();
                    if (t.StartsWith(CallBegin, StringComparison.Ordinal)) { Consume(s.Length - t.Length + CallBegin.Length); _state = State.Head; continue; }
                    if (t.StartsWith(CallsEnd, StringComparison.Ordinal)) { Consume(s.Length - t.Length + CallsEnd.Length); _state = State.After; continue; }
                    if (!final && (t.Length == 0 || CallBegin.StartsWith(t, StringComparison.Ordinal) || CallsEnd.StartsWith(t, StringComparison.Ordinal))) return;
                    _state = State.After;   // anything else ends the block
                    continue;
                }
                case State.Head:
                {
                    int at = s.IndexOf(Sep, StringComparison.Ordinal);
                    if (at < 0)
                    {
                        if (final) { EmitContent(s); Consume(s.Length); }   // a call head cut off: kept as text, not dropped
                        return;
                    }
                    string head = s[..at].Trim();
                    Consume(at + Sep.Length);
                    if (head == "function") { _state = State.NameLine; continue; }
                    StartCall(head);
                    _fenced = false;
                    _state = State.Args;
                    continue;
                }
                case State.NameLine:
                {
                    int nl = s.IndexOf('\n');
                    int fence = s.IndexOf("```", StringComparison.Ordinal);
                    int end = nl >= 0 && (fence < 0 || nl < fence) ? nl : fence;
                    if (end < 0)
                    {
                        int callEnd = s.IndexOf(CallEnd, StringComparison.Ordinal);
                        if (callEnd >= 0) end = callEnd;
                        else if (!final) return;
                        else end = s.Length;
                    }
                    StartCall(s[..end].Trim());
                    Consume(end < s.Length && s[end] == '\n' ? end + 1 : end);
                    _state = State.Fence;
                    continue;
                }
                case State.Fence:
                {
                    if (s.StartsWith("```", StringComparison.Ordinal))
                    {
                        int nl = s.IndexOf('\n');
                        if (nl < 0) { if (!final) return; nl = s.Length - 1; }
                        Consume(nl + 1);
                        _fenced = true;
                    }
                    else if (!final && "```".StartsWith(s, StringComparison.Ordinal)) return;
                    else _fenced = false;
                    _state = State.Args;
                    continue;
                }
                case State.Args:
                {
                    int at = s.IndexOf(CallEnd, StringComparison.Ordinal);
                    if (at >= 0)
                    {
                        string args = s[..at];
                        if (_fenced) args = TrimFence(args);
                        EmitArguments(args);
                        Consume(at + CallEnd.Length);
                        EndCall();
                        _state = State.Between;
                        continue;
                    }
                    // Hold back what could still be the closing fence, trailing space or the end marker.
                    int keep = final ? 0 : Math.Max(HeldSuffix(s, "\n```" + CallEnd, "```" + CallEnd, CallEnd), TrailingSpace(s));
                    string emit = s[..^keep];
                    if (final && _fenced) emit = TrimFence(emit);
                    EmitArguments(emit);
                    Consume(s.Length - keep);
                    return;
                }
                case State.After:
                    if (CallCount == 0 || s.Trim().Length > 0) EmitContent(s);
                    Consume(s.Length);
                    return;
            }
        }
    }

    private static int TrailingSpace(string s)
    {
        int n = 0;
        while (n < s.Length && char.IsWhiteSpace(s[s.Length - 1 - n])) n++;
        return n;
    }

    private static string TrimFence(string args)
    {
        string t = args.TrimEnd();
        if (t.EndsWith("```", StringComparison.Ordinal)) t = t[..^3].TrimEnd();
        return t;
    }
}

/// <summary>
/// Hermes-style tool calls, as Qwen's templates ask for them: <c>&lt;tool_call&gt;\n{"name": NAME, "arguments": ARGS}\n&lt;/tool_call&gt;</c>,
/// several in a row. The arguments stream as they come when the object starts with its name; otherwise the call is
/// read whole at <c>&lt;/tool_call&gt;</c>. A block that is not such an object stays content.
/// </summary>
public sealed class HermesToolCallParser : ToolCallParser
{
    private const string Open = "<tool_call>", Close = "</tool_call>";

    private enum State { Content, Call, Args, Rest }
    private State _state;
    private JsonValueScanner _scanner = new();
    private string _heldSpace = "";

    protected override void Drain(bool final)
    {
        while (Buffer.Length > 0 || final && _heldSpace.Length > 0)
        {
            string s = Peek();
            switch (_state)
            {
                case State.Content:
                {
                    int at = s.IndexOf(Open, StringComparison.Ordinal);
                    if (at >= 0)
                    {
                        // Whitespace around calls is layout, not content.
                        string before = s[..at];
                        if (before.Trim().Length > 0) EmitContent(_heldSpace + before.TrimEnd());
                        _heldSpace = "";
                        Consume(at + Open.Length);
                        _state = State.Call;
                        continue;
                    }
                    int keep = final ? 0 : HeldSuffix(s, Open);
                    string emit = s[..^keep];
                    Consume(s.Length - keep);
                    string trimmed = emit.TrimEnd();
                    if (trimmed.Length > 0) { EmitContent(_heldSpace + trimmed); _heldSpace = ""; }
                    _heldSpace += emit[trimmed.Length..];
                    if (final)
                    {
                        if (CallCount == 0) EmitContent(_heldSpace);
                        _heldSpace = "";
                    }
                    return;
                }
                case State.Call:
                {
                    // Buffer until the name is known: {"name": "...", "arguments": <value streams from here>
                    int close = s.IndexOf(Close, StringComparison.Ordinal);
                    string head = close >= 0 ? s[..close] : s;
                    if (TryHead(head, out string? name, out int argsAt))
                    {
                        StartCall(name!);
                        Consume(argsAt);
                        _scanner = new JsonValueScanner();
                        _state = State.Args;
                        continue;
                    }
                    if (close < 0 && !final) return;
                    // Not the streamable shape: read the whole object.
                    Consume(close >= 0 ? close + Close.Length : s.Length);
                    WholeCall(head);
                    _state = State.Content;
                    continue;
                }
                case State.Args:
                {
                    // The value ends where the scanner says, or, if the model never closes it, at </tool_call> (kept as written).
                    int close = s.IndexOf(Close, StringComparison.Ordinal);
                    string part = close >= 0 ? s[..close] : s[..^(final ? 0 : HeldSuffix(s, Close))];
                    int n = _scanner.Feed(part);
                    if (!_scanner.Done && close >= 0 && _scanner.InString)
                    {
                        // The marker is text inside a string value.
                        n = close + _scanner.Feed(s.AsSpan(close, Close.Length));
                        EmitArguments(s[..n]);
                        Consume(n);
                        continue;
                    }
                    EmitArguments(part[..n]);
                    Consume(n);
                    if (_scanner.Done || close >= 0 || final)
                    {
                        EndCall();
                        _state = State.Rest;
                        continue;
                    }
                    return;
                }
                case State.Rest:
                {
                    int close = s.IndexOf(Close, StringComparison.Ordinal);
                    if (close < 0) { if (final) Consume(s.Length); return; }
                    Consume(close + Close.Length);
                    _state = State.Content;
                    continue;
                }
            }
        }
    }

    /// <summary>Matches <c>{"name": "X", "arguments":</c> (any spacing; "parameters" accepted too) at the start of <paramref name="s"/>.</summary>
    private static bool TryHead(string s, out string? name, out int argsAt)
    {
        name = null;
        argsAt = 0;
        int i = 0;
        void Ws() { while (i < s.Length && char.IsWhiteSpace(s[i])) i++; }
        bool Lit(string t) { if (i + t.Length > s.Length || string.CompareOrdinal(s, i, t, 0, t.Length) != 0) return false; i += t.Length; return true; }
        Ws();
        if (!Lit("{")) return false;
        Ws();
        if (!Lit("\"name\"")) return false;
        Ws();
        if (!Lit(":")) return false;
        Ws();
        if (i >= s.Length || s[i] != '"') return false;
        var scan = new JsonValueScanner();
        int len = scan.Feed(s.AsSpan(i));
        if (!scan.Done) return false;
        try { name = JsonSerializer.Deserialize<string>(s.AsSpan(i, len)); }
        catch (JsonException) { return false; }
        i += len;
        Ws();
        if (!Lit(",")) return false;
        Ws();
        if (!Lit("\"arguments\"") && !Lit("\"parameters\"")) return false;
        Ws();
        if (!Lit(":")) return false;
        Ws();
        if (i >= s.Length) return false;   // wait for the value's first character
        argsAt = i;
        return name is not null;
    }

    private void WholeCall(string body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            var o = doc.RootElement;
            if (o.ValueKind == JsonValueKind.Object && o.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String)
            {
                StartCall(n.GetString()!);
                if (o.TryGetProperty("arguments", out var a) || o.TryGetProperty("parameters", out a)) EmitArguments(a.GetRawText());
                else EmitArguments("{}");
                EndCall();
                return;
            }
        }
        catch (JsonException) { }
        EmitContent(_heldSpace + Open + body + Close);
        _heldSpace = "";
    }
}

/// <summary>Finds where one JSON value ends in text that arrives in pieces (strings, escapes and nesting tracked; no validation).</summary>
internal struct JsonValueScanner
{
    private int _depth;
    private bool _started, _inString, _escape, _scalar;

    public bool Done { get; private set; }

    /// <summary>Whether the text so far ends inside a string.</summary>
    public readonly bool InString => _inString;

    /// <summary>Consumes characters of <paramref name="s"/> up to the end of the value; returns how many belong to it.</summary>
    public int Feed(ReadOnlySpan<char> s)
    {
        for (int i = 0; i < s.Length; i++)
        {
            if (Done) return i;
            char c = s[i];
            if (!_started)
            {
                if (char.IsWhiteSpace(c)) continue;
                _started = true;
                if (c is '{' or '[') { _depth = 1; continue; }
                if (c == '"') { _inString = true; continue; }
                _scalar = true;
                continue;
            }
            if (_scalar)
            {
                if (c is ',' or '}' or ']' || char.IsWhiteSpace(c)) { Done = true; return i; }
                continue;
            }
            if (_inString)
            {
                if (_escape) _escape = false;
                else if (c == '\\') _escape = true;
                else if (c == '"')
                {
                    _inString = false;
                    if (_depth == 0) { Done = true; return i + 1; }
                }
                continue;
            }
            if (c == '"') _inString = true;
            else if (c is '{' or '[') _depth++;
            else if (c is '}' or ']')
            {
                if (--_depth == 0) { Done = true; return i + 1; }
            }
        }
        return s.Length;
    }
}
