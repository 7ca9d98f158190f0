using System.Text;

namespace SharpSeek.Chat;

/// <summary>A piece of a completion, split into reasoning (inside <c>&lt;think&gt;</c>) and answer text.</summary>
public readonly record struct ReasoningDelta(string Reasoning, string Content)
{
    /// <summary>Whether both parts are empty.</summary>
    public bool IsEmpty => Reasoning.Length == 0 && Content.Length == 0;
}

/// <summary>
/// Splits a completion, incrementally while streaming, into reasoning and answer at <c>&lt;think&gt;</c> /
/// <c>&lt;/think&gt;</c>. When the prompt already opened the block (R1's generation prompt
/// <c>&lt;｜Assistant｜&gt;&lt;think&gt;\n</c>), construct it with <c>startsInReasoning: true</c>.
/// Tags split across chunks are recognized; newlines right after a tag and right before <c>&lt;/think&gt;</c> are dropped.
/// Chunking never changes the result: the deltas of any split concatenate to <see cref="Split"/> of the whole.
/// </summary>
public sealed class ReasoningParser
{
    private enum State { Start, ReasoningStart, Reasoning, ContentStart, Content }

    private readonly string _open;
    private readonly string _close;
    private readonly StringBuilder _held = new();
    private State _state;

    /// <summary>Creates a parser; <paramref name="startsInReasoning"/> when the prompt ended inside an open reasoning block.</summary>
    public ReasoningParser(bool startsInReasoning = false, string openTag = "<think>", string closeTag = "</think>")
    {
        _open = openTag;
        _close = closeTag;
        _state = startsInReasoning ? State.ReasoningStart : State.Start;
    }

    /// <summary>Whether the parser is inside the reasoning block now.</summary>
    public bool InReasoning => _state is State.ReasoningStart or State.Reasoning;

    /// <summary>Splits a whole completion.</summary>
    public static (string Reasoning, string Content) Split(string completion, bool startsInReasoning = false)
    {
        var p = new ReasoningParser(startsInReasoning);
        ReasoningDelta a = p.Push(completion);
        ReasoningDelta b = p.Flush();
        return (a.Reasoning + b.Reasoning, a.Content + b.Content);
    }

    /// <summary>Consumes the next chunk of completion text and returns what can be attributed now.</summary>
    public ReasoningDelta Push(string chunk)
    {
        ArgumentNullException.ThrowIfNull(chunk);
        _held.Append(chunk);
        var reasoning = new StringBuilder();
        var content = new StringBuilder();
        Drain(reasoning, content, final: false);
        return new ReasoningDelta(reasoning.ToString(), content.ToString());
    }

    /// <summary>Ends the completion: held text is attributed (an unclosed block counts as reasoning).</summary>
    public ReasoningDelta Flush()
    {
        var reasoning = new StringBuilder();
        var content = new StringBuilder();
        Drain(reasoning, content, final: true);
        if (_held.Length > 0)
        {
            if (InReasoning) reasoning.Append(_held);
            else content.Append(_held);
            _held.Clear();
        }
        return new ReasoningDelta(reasoning.ToString(), content.ToString());
    }

    private void Drain(StringBuilder reasoning, StringBuilder content, bool final)
    {
        while (_held.Length > 0)
        {
            string s = _held.ToString();
            switch (_state)
            {
                case State.Start:
                {
                    // Leading whitespace, then either the open tag or the answer.
                    int i = 0;
                    while (i < s.Length && char.IsWhiteSpace(s[i])) i++;
                    string rest = s[i..];
                    if (rest.StartsWith(_open, StringComparison.Ordinal))
                    {
                        Consume(i + _open.Length);
                        _state = State.ReasoningStart;
                        continue;
                    }
                    if (!final && (rest.Length == 0 || _open.StartsWith(rest, StringComparison.Ordinal))) return;
                    _state = State.Content;
                    continue;
                }
                case State.ReasoningStart:
                case State.ContentStart:
                {
                    int i = 0;
                    while (i < s.Length && s[i] is '\n' or '\r') i++;
                    Consume(i);
                    if (_held.Length == 0 && !final) return;
                    if (_state == State.ReasoningStart)
                    {
                        // A model may repeat the open tag the prompt already wrote: drop it.
                        string rest = _held.ToString();
                        if (rest.StartsWith(_open, StringComparison.Ordinal)) { Consume(_open.Length); continue; }
                        if (!final && _open.StartsWith(rest, StringComparison.Ordinal)) return;
                    }
                    _state = _state == State.ReasoningStart ? State.Reasoning : State.Content;
                    continue;
                }
                case State.Reasoning:
                {
                    int at = s.IndexOf(_close, StringComparison.Ordinal);
                    if (at >= 0)
                    {
                        reasoning.Append(TrimTrailingNewlines(s.AsSpan(0, at)));
                        Consume(at + _close.Length);
                        _state = State.ContentStart;
                        continue;
                    }
                    // Hold what could still be newlines before a close tag, or a close tag's beginning.
                    int keep = final ? 0 : HeldSuffix(s);
                    reasoning.Append(s.AsSpan(0, s.Length - keep));
                    Consume(s.Length - keep);
                    return;
                }
                case State.Content:
                    content.Append(_held);
                    _held.Clear();
                    return;
            }
        }
    }

    private int HeldSuffix(string s)
    {
        int tag = 0;
        for (int k = Math.Min(_close.Length - 1, s.Length); k > 0; k--)
        {
            if (_close.AsSpan(0, k).SequenceEqual(s.AsSpan(s.Length - k))) { tag = k; break; }
        }
        int start = s.Length - tag;
        while (start > 0 && s[start - 1] is '\n' or '\r') start--;
        return s.Length - start;
    }

    private static ReadOnlySpan<char> TrimTrailingNewlines(ReadOnlySpan<char> s)
    {
        int end = s.Length;
        while (end > 0 && s[end - 1] is '\n' or '\r') end--;
        return s[..end];
    }

    private void Consume(int n) => _held.Remove(0, n);
}
