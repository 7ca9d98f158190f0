using System.Globalization;
using System.Text;

namespace SharpSeek.Chat.Jinja;

internal enum TokenKind { Text, BlockStart, BlockEnd, VarStart, VarEnd, Name, String, Integer, Float, Operator, End }

/// <summary>A lexical token; <see cref="Offset"/> is its position in the template source.</summary>
internal readonly record struct JinjaToken(TokenKind Kind, string Text, int Offset)
{
    public bool Is(TokenKind kind, string text) => Kind == kind && Text == text;
    public bool IsName(string name) => Kind == TokenKind.Name && Text == name;
    public bool IsOp(string op) => Kind == TokenKind.Operator && Text == op;
}

/// <summary>
/// Splits a template into text and tag tokens the way Jinja2 does with the settings Hugging Face's
/// <c>apply_chat_template</c> uses: <c>trim_blocks</c> and <c>lstrip_blocks</c> on, one trailing newline dropped,
/// <c>{%- -%}</c> / <c>{{- -}}</c> / <c>{#- -#}</c> strip whitespace, <c>{% raw %}</c> blocks kept verbatim, and
/// <c>{% generation %}</c> markers (transformers' assistant-mask tags) removed.
/// </summary>
internal sealed class JinjaLexer
{
    private static readonly string[] Operators =
        ["**", "//", "==", "!=", "<=", ">=", "<", ">", "+", "-", "*", "/", "%", "~", "|", ".", ",", ":", "(", ")", "[", "]", "{", "}", "="];

    private readonly string _src;
    private readonly List<JinjaToken> _tokens = [];
    private int _pos;

    private JinjaLexer(string source)
    {
        _src = source.EndsWith('\n') ? source[..^1] : source;
    }

    public static List<JinjaToken> Tokenize(string source)
    {
        var lexer = new JinjaLexer(source);
        lexer.Run();
        return lexer._tokens;
    }

    public static (int Line, int Column) Position(string source, int offset)
    {
        int line = 1, col = 1;
        for (int i = 0; i < offset && i < source.Length; i++)
        {
            if (source[i] == '\n') { line++; col = 1; }
            else col++;
        }
        return (line, col);
    }

    private JinjaException Error(string message, int offset) => At(_src, offset, message);

    /// <summary>An error at <paramref name="offset"/> of <paramref name="source"/> (line and column in the message).</summary>
    public static JinjaException At(string source, int offset, string message)
    {
        var (l, c) = Position(source, offset);
        return new JinjaException(message, l, c);
    }

    /// <summary>An unsupported construct at <paramref name="offset"/> of <paramref name="source"/>.</summary>
    public static JinjaUnsupportedException UnsupportedAt(string source, int offset, string construct)
    {
        var (l, c) = Position(source, offset);
        return new JinjaUnsupportedException(construct, l, c);
    }

    private void Run()
    {
        bool stripNextLeading = false;
        while (_pos < _src.Length)
        {
            int tag = FindTag(_pos);
            int textEnd = tag < 0 ? _src.Length : tag;
            string text = _src[_pos..textEnd];
            bool atLineStart = _pos == 0 || _src[_pos - 1] == '\n';
            if (stripNextLeading) { text = text.TrimStart(); stripNextLeading = false; }
            if (tag >= 0)
            {
                char kind = _src[tag + 1];
                char modifier = tag + 2 < _src.Length ? _src[tag + 2] : '\0';
                if (modifier == '-') text = text.TrimEnd();
                else if (kind is '%' or '#' && modifier != '+') text = LstripBlock(text, atLineStart);
            }
            if (text.Length > 0) _tokens.Add(new JinjaToken(TokenKind.Text, text, _pos));
            if (tag < 0) { _pos = _src.Length; break; }
            _pos = tag;
            stripNextLeading = ReadTag();
        }
        _tokens.Add(new JinjaToken(TokenKind.End, "", _src.Length));
    }

    // lstrip_blocks: spaces and tabs between the line start and a block or comment tag are removed.
    private static string LstripBlock(string text, bool atLineStart)
    {
        int i = text.Length;
        while (i > 0 && text[i - 1] is ' ' or '\t') i--;
        if (i == 0 ? atLineStart : text[i - 1] == '\n') return text[..i];
        return text;
    }

    private int FindTag(int from)
    {
        for (int i = _src.IndexOf('{', from); i >= 0 && i + 1 < _src.Length; i = _src.IndexOf('{', i + 1))
            if (_src[i + 1] is '{' or '%' or '#') return i;
        return -1;
    }

    // Reads one tag from _pos; returns whether the text after it is stripped of leading whitespace.
    private bool ReadTag()
    {
        int start = _pos;
        char kind = _src[_pos + 1];
        _pos += 2;
        if (_pos < _src.Length && _src[_pos] is '-' or '+') _pos++;
        if (kind == '#')
        {
            int end = _src.IndexOf("#}", _pos, StringComparison.Ordinal);
            if (end < 0) throw Error("unclosed comment: '{#' without '#}'", start);
            bool strip = end > _pos && _src[end - 1] == '-';
            _pos = end + 2;
            return strip || TrimBlockNewline();
        }
        if (kind == '%' && TryReadRaw(start)) return false;
        if (kind == '%' && TryReadGeneration(start, out bool stripAfterGeneration)) return stripAfterGeneration;
        _tokens.Add(new JinjaToken(kind == '%' ? TokenKind.BlockStart : TokenKind.VarStart, kind == '%' ? "{%" : "{{", start));
        int depth = 0;
        while (true)
        {
            SkipSpaces();
            if (_pos >= _src.Length) throw Error(kind == '%' ? "unclosed tag: '{%' without '%}'" : "unclosed expression: '{{' without '}}'", start);
            char c = _src[_pos];
            // Tag ends: '%}', '-%}', '}}', '-}}' (a '}}' inside a dict literal closes the dict first).
            if (kind == '%' && Match("-%}")) { Close(TokenKind.BlockEnd, 3); return true; }
            if (kind == '%' && Match("%}")) { Close(TokenKind.BlockEnd, 2); return TrimBlockNewline(); }
            if (kind == '{' && depth == 0 && Match("-}}")) { Close(TokenKind.VarEnd, 3); return true; }
            if (kind == '{' && depth == 0 && Match("}}")) { Close(TokenKind.VarEnd, 2); return false; }
            if (c is '\'' or '"') { ReadString(c); continue; }
            if (char.IsAsciiDigit(c)) { ReadNumber(); continue; }
            if (char.IsAsciiLetter(c) || c == '_')
            {
                int s = _pos;
                while (_pos < _src.Length && (char.IsAsciiLetterOrDigit(_src[_pos]) || _src[_pos] == '_')) _pos++;
                _tokens.Add(new JinjaToken(TokenKind.Name, _src[s.._pos], s));
                continue;
            }
            string? op = null;
            foreach (string o in Operators) if (Match(o)) { op = o; break; }
            if (op is null) throw Error($"unexpected character '{c}' in a tag", _pos);
            if (op == "{" || op == "[" || op == "(") depth++;
            else if (op == "}" || op == "]" || op == ")") depth--;
            _tokens.Add(new JinjaToken(TokenKind.Operator, op, _pos));
            _pos += op.Length;
        }
    }

    private void Close(TokenKind kind, int length)
    {
        _tokens.Add(new JinjaToken(kind, kind == TokenKind.BlockEnd ? "%}" : "}}", _pos));
        _pos += length;
    }

    // trim_blocks: the first newline after a block tag is removed.
    private bool TrimBlockNewline()
    {
        if (_pos < _src.Length && _src[_pos] == '\n') _pos++;
        else if (_pos + 1 < _src.Length && _src[_pos] == '\r' && _src[_pos + 1] == '\n') _pos += 2;
        return false;
    }

    private bool Match(string s) => string.CompareOrdinal(_src, _pos, s, 0, s.Length) == 0;

    private void SkipSpaces()
    {
        while (_pos < _src.Length && char.IsWhiteSpace(_src[_pos])) _pos++;
    }

    private bool TryReadRaw(int start)
    {
        int p = _pos;
        while (p < _src.Length && char.IsWhiteSpace(_src[p])) p++;
        if (string.CompareOrdinal(_src, p, "raw", 0, 3) != 0) return false;
        p += 3;
        while (p < _src.Length && char.IsWhiteSpace(_src[p])) p++;
        if (p < _src.Length && _src[p] == '-') p++;
        if (string.CompareOrdinal(_src, p, "%}", 0, 2) != 0) return false;
        p += 2;
        int end = _src.IndexOf("endraw", p, StringComparison.Ordinal);
        int open = end < 0 ? -1 : _src.LastIndexOf("{%", end, StringComparison.Ordinal);
        if (open < p) throw Error("'{% raw %}' without '{% endraw %}'", start);
        string text = _src[p..open];
        if (open + 2 < _src.Length && _src[open + 2] == '-') text = text.TrimEnd();
        if (text.Length > 0) _tokens.Add(new JinjaToken(TokenKind.Text, text, p));
        int close = _src.IndexOf("%}", end, StringComparison.Ordinal);
        if (close < 0) throw Error("unclosed '{% endraw'", end);
        _pos = close + 2;
        return true;
    }

    // transformers' {% generation %} / {% endgeneration %} mark assistant tokens for masks; they render nothing.
    private bool TryReadGeneration(int start, out bool stripAfter)
    {
        stripAfter = false;
        int p = _pos;
        while (p < _src.Length && char.IsWhiteSpace(_src[p])) p++;
        string word = "";
        if (string.CompareOrdinal(_src, p, "endgeneration", 0, 13) == 0) word = "endgeneration";
        else if (string.CompareOrdinal(_src, p, "generation", 0, 10) == 0) word = "generation";
        if (word.Length == 0) return false;
        p += word.Length;
        while (p < _src.Length && char.IsWhiteSpace(_src[p])) p++;
        if (p < _src.Length && _src[p] == '-') { stripAfter = true; p++; }
        if (string.CompareOrdinal(_src, p, "%}", 0, 2) != 0) return false;
        _pos = p + 2;
        if (!stripAfter) TrimBlockNewline();
        return true;
    }

    private void ReadString(char quote)
    {
        int start = _pos++;
        var sb = new StringBuilder();
        while (true)
        {
            if (_pos >= _src.Length) throw Error("unterminated string literal", start);
            char c = _src[_pos++];
            if (c == quote) break;
            if (c != '\\') { sb.Append(c); continue; }
            if (_pos >= _src.Length) throw Error("unterminated string literal", start);
            char e = _src[_pos++];
            switch (e)
            {
                case 'n': sb.Append('\n'); break;
                case 't': sb.Append('\t'); break;
                case 'r': sb.Append('\r'); break;
                case 'b': sb.Append('\b'); break;
                case 'f': sb.Append('\f'); break;
                case 'v': sb.Append('\v'); break;
                case 'a': sb.Append('\a'); break;
                case '0': sb.Append('\0'); break;
                case '\\': sb.Append('\\'); break;
                case '\'': sb.Append('\''); break;
                case '"': sb.Append('"'); break;
                case '\n': break;
                case 'x': sb.Append(Hex(2, start)); break;
                case 'u': sb.Append(Hex(4, start)); break;
                case 'U': sb.Append(Hex(8, start)); break;
                default: sb.Append('\\').Append(e); break; // Python keeps unknown escapes as written
            }
        }
        _tokens.Add(new JinjaToken(TokenKind.String, sb.ToString(), start));
    }

    private string Hex(int digits, int start)
    {
        if (_pos + digits > _src.Length || !int.TryParse(_src.AsSpan(_pos, digits), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out int cp))
            throw Error("bad \\x/\\u escape in a string literal", start);
        _pos += digits;
        return char.ConvertFromUtf32(cp);
    }

    private void ReadNumber()
    {
        int s = _pos;
        while (_pos < _src.Length && (char.IsAsciiDigit(_src[_pos]) || _src[_pos] == '_')) _pos++;
        bool isFloat = false;
        bool afterDot = _tokens.Count > 0 && _tokens[^1].IsOp(".");
        if (!afterDot && _pos + 1 < _src.Length && _src[_pos] == '.' && char.IsAsciiDigit(_src[_pos + 1]))
        {
            isFloat = true;
            _pos++;
            while (_pos < _src.Length && char.IsAsciiDigit(_src[_pos])) _pos++;
        }
        if (!afterDot && _pos < _src.Length && _src[_pos] is 'e' or 'E')
        {
            int p = _pos + 1;
            if (p < _src.Length && _src[p] is '+' or '-') p++;
            if (p < _src.Length && char.IsAsciiDigit(_src[p]))
            {
                isFloat = true;
                _pos = p;
                while (_pos < _src.Length && char.IsAsciiDigit(_src[_pos])) _pos++;
            }
        }
        _tokens.Add(new JinjaToken(isFloat ? TokenKind.Float : TokenKind.Integer, _src[s.._pos].Replace("_", ""), s));
    }
}
