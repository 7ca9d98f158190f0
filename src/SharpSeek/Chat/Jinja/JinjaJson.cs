using System.Globalization;
using System.Text;

namespace SharpSeek.Chat.Jinja;

/// <summary>
/// The <c>tojson</c> filter as transformers defines it for chat templates: <c>json.dumps(x, ensure_ascii=False,
/// indent=indent, separators=separators, sort_keys=sort_keys)</c>. Python's separators are <c>", "</c> and <c>": "</c>
/// (<c>","</c> between items when indenting), unlike .NET's compact JSON; keys keep their insertion order. A string from
/// conversation data stays content in the output (its whole JSON literal).
/// </summary>
internal static class JinjaJson
{
    public static JinjaString ToJson(object? value, int? indent, bool sortKeys, object? separators, bool ensureAscii, JinjaInterpreter interp, int offset)
    {
        string itemSep = indent is null ? ", " : ",", keySep = ": ";
        if (separators is JinjaList { Count: 2 } sep && sep.Items[0] is JinjaString a && sep.Items[1] is JinjaString b)
        {
            itemSep = a.Value;
            keySep = b.Value;
        }
        else if (separators is not null) throw interp.Fail("tojson separators must be a pair of strings", offset);
        var builder = new JinjaString.Builder();
        Write(builder, value, indent, sortKeys, itemSep, keySep, ensureAscii, 0, interp, offset);
        return builder.ToJinjaString();
    }

    private static void Write(JinjaString.Builder b, object? v, int? indent, bool sortKeys, string itemSep, string keySep, bool ascii, int depth, JinjaInterpreter interp, int offset)
    {
        if (depth > 512) throw interp.Fail("tojson: value nested too deeply", offset);
        switch (v)
        {
            case null or JinjaUndefined: b.Append("null"); break;
            case bool x: b.Append(x ? "true" : "false"); break;
            case long l: b.Append(l.ToString(CultureInfo.InvariantCulture)); break;
            case double d:
                b.Append(double.IsNaN(d) ? "NaN" : double.IsPositiveInfinity(d) ? "Infinity" : double.IsNegativeInfinity(d) ? "-Infinity" : JinjaValue.FormatFloat(d));
                break;
            case JinjaString s: b.Append(Quote(s.Value, ascii), s.HasContent); break;
            case JinjaList list:
                WriteSequence(b, list.Count, indent, itemSep, depth, '[', ']', i => Write(b, list.Items[i], indent, sortKeys, itemSep, keySep, ascii, depth + 1, interp, offset));
                break;
            case JinjaDict dict:
            {
                var items = dict.Items.ToList();
                if (sortKeys) items.Sort((x, y) => string.CompareOrdinal(x.Key.Value, y.Key.Value));
                WriteSequence(b, items.Count, indent, itemSep, depth, '{', '}', i =>
                {
                    b.Append(Quote(items[i].Key.Value, ascii), items[i].Key.HasContent).Append(keySep);
                    Write(b, items[i].Value, indent, sortKeys, itemSep, keySep, ascii, depth + 1, interp, offset);
                });
                break;
            }
            case JinjaNamespace ns:
            {
                var items = ns.Values.ToList();
                WriteSequence(b, items.Count, indent, itemSep, depth, '{', '}', i =>
                {
                    b.Append(Quote(items[i].Key, ascii)).Append(keySep);
                    Write(b, items[i].Value, indent, sortKeys, itemSep, keySep, ascii, depth + 1, interp, offset);
                });
                break;
            }
            default:
                throw interp.Fail($"tojson: object of type '{JinjaValue.TypeName(v)}' is not JSON serializable", offset);
        }
    }

    private static void WriteSequence(JinjaString.Builder b, int count, int? indent, string itemSep, int depth, char open, char close, Action<int> item)
    {
        b.Append(open);
        if (count == 0) { b.Append(close); return; }
        string? inner = indent is int n ? "\n" + new string(' ', n * (depth + 1)) : null;
        for (int i = 0; i < count; i++)
        {
            if (i > 0) b.Append(itemSep);
            if (inner is not null) b.Append(inner);
            item(i);
        }
        if (indent is int m) b.Append("\n" + new string(' ', m * depth));
        b.Append(close);
    }

    /// <summary>A JSON string literal as Python's json.dumps writes it.</summary>
    public static string Quote(string s, bool ensureAscii)
    {
        var sb = new StringBuilder(s.Length + 2).Append('"');
        foreach (char c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                default:
                    if (c < 0x20 || (ensureAscii && c > 0x7e)) sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    else sb.Append(c);
                    break;
            }
        }
        return sb.Append('"').ToString();
    }
}
