using System.Text;

namespace SharpSeek.Chat.Jinja;

/// <summary>
/// A string value inside the template engine that remembers which of its characters came from conversation data
/// (message text, tool definitions, template arguments) rather than from the template's own text. The ranges survive
/// every operation the engine performs (concatenation, slicing, split, strip, replace, join, <c>tojson</c>), so a rendered
/// prompt can tell its markup from its content and the tokenizer can refuse to turn content into control tokens.
/// </summary>
public sealed class JinjaString : IEquatable<JinjaString>
{
    private static readonly TextRange[] NoRanges = [];

    /// <summary>The text.</summary>
    public string Value { get; }

    /// <summary>Content ranges in UTF-16 offsets: sorted, non-overlapping, non-adjacent, non-empty.</summary>
    public IReadOnlyList<TextRange> Content => _content;

    private readonly TextRange[] _content;

    private JinjaString(string value, TextRange[] content)
    {
        Value = value;
        _content = content;
    }

    /// <summary>The empty markup string.</summary>
    public static JinjaString Empty { get; } = new("", NoRanges);

    /// <summary>Template text (markup).</summary>
    public static JinjaString Markup(string value) => value.Length == 0 ? Empty : new(value, NoRanges);

    /// <summary>Conversation data (content) in full.</summary>
    public static JinjaString FromContent(string value) => value.Length == 0 ? Empty : new(value, [new TextRange(0, value.Length)]);

    /// <summary>Whether any character is content.</summary>
    public bool HasContent => _content.Length > 0;

    /// <summary>The number of UTF-16 units.</summary>
    public int Length => Value.Length;

    /// <summary>The characters from <paramref name="start"/> (UTF-16 offset), <paramref name="length"/> long, with their ranges.</summary>
    public JinjaString Substring(int start, int length)
    {
        if (start == 0 && length == Value.Length) return this;
        if (length == 0) return Empty;
        var b = new Builder();
        b.Append(this, start, length);
        return b.ToJinjaString();
    }

    /// <summary>The same characters with a same-length transformation of the text (upper/lower case); ranges kept.</summary>
    public JinjaString MapText(Func<string, string> transform)
    {
        string t = transform(Value);
        if (t.Length == Value.Length) return new JinjaString(t, _content);
        return _content.Length == 0 ? Markup(t) : FromContent(t);
    }

    /// <summary>Whether the character at <paramref name="index"/> is content.</summary>
    public bool IsContentAt(int index)
    {
        foreach (TextRange r in _content)
        {
            if (index < r.Start) return false;
            if (index < r.Start + r.Length) return true;
        }
        return false;
    }

    /// <inheritdoc/>
    public override string ToString() => Value;

    /// <inheritdoc/>
    public bool Equals(JinjaString? other) => other is not null && other.Value == Value;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is JinjaString s && Equals(s);

    /// <inheritdoc/>
    public override int GetHashCode() => Value.GetHashCode(StringComparison.Ordinal);

    /// <summary>Concatenates two strings, keeping both sides' ranges.</summary>
    public static JinjaString Concat(JinjaString a, JinjaString b)
    {
        if (a.Length == 0) return b;
        if (b.Length == 0) return a;
        var builder = new Builder();
        builder.Append(a);
        builder.Append(b);
        return builder.ToJinjaString();
    }

    /// <summary>Builds a <see cref="JinjaString"/> piece by piece.</summary>
    public sealed class Builder
    {
        private readonly StringBuilder _text = new();
        private readonly List<TextRange> _ranges = [];

        /// <summary>The length so far.</summary>
        public int Length => _text.Length;

        /// <summary>Appends markup.</summary>
        public Builder Append(string markup)
        {
            _text.Append(markup);
            return this;
        }

        /// <summary>Appends markup characters.</summary>
        public Builder Append(char markup)
        {
            _text.Append(markup);
            return this;
        }

        /// <summary>Appends content.</summary>
        public Builder AppendContent(string content)
        {
            AddRange(_text.Length, content.Length);
            _text.Append(content);
            return this;
        }

        /// <summary>Appends text that is content when <paramref name="isContent"/>.</summary>
        public Builder Append(string text, bool isContent) => isContent ? AppendContent(text) : Append(text);

        /// <summary>Appends a string with its ranges.</summary>
        public Builder Append(JinjaString s) => Append(s, 0, s.Length);

        /// <summary>Appends part of a string with its ranges.</summary>
        public Builder Append(JinjaString s, int start, int length)
        {
            if (length <= 0) return this;
            int end = start + length;
            int offset = _text.Length - start;
            foreach (TextRange r in s._content)
            {
                int a = Math.Max(r.Start, start), z = Math.Min(r.Start + r.Length, end);
                if (a < z) AddRange(a + offset, z - a);
            }
            _text.Append(s.Value, start, length);
            return this;
        }

        private void AddRange(int start, int length)
        {
            if (length <= 0) return;
            if (_ranges.Count > 0)
            {
                TextRange last = _ranges[^1];
                if (last.Start + last.Length == start) { _ranges[^1] = new TextRange(last.Start, last.Length + length); return; }
            }
            _ranges.Add(new TextRange(start, length));
        }

        /// <summary>The string built so far.</summary>
        public JinjaString ToJinjaString() => _text.Length == 0 ? Empty : new JinjaString(_text.ToString(), _ranges.Count == 0 ? NoRanges : [.. _ranges]);
    }
}

/// <summary>A range of UTF-16 offsets in a text.</summary>
public readonly record struct TextRange(int Start, int Length);
