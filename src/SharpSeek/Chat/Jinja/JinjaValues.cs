using System.Globalization;
using System.Text;
using System.Text.Json;

namespace SharpSeek.Chat.Jinja;

// Runtime values: null is Python's None; bool, long, double; JinjaString for every string; JinjaList (list or tuple);
// JinjaDict (insertion-ordered, string keys); JinjaNamespace; JinjaCallable; JinjaUndefined.

/// <summary>Jinja's undefined value: falsy, renders as nothing.</summary>
public sealed class JinjaUndefined
{
    /// <summary>The one instance.</summary>
    public static JinjaUndefined Instance { get; } = new();
    private JinjaUndefined() { }
    /// <inheritdoc/>
    public override string ToString() => "";
}

/// <summary>A list (or tuple) value.</summary>
public sealed class JinjaList(List<object?> items, bool isTuple = false)
{
    /// <summary>The items.</summary>
    public List<object?> Items { get; } = items;
    /// <summary>Whether it was written as a tuple.</summary>
    public bool IsTuple { get; } = isTuple;
    /// <summary>The number of items.</summary>
    public int Count => Items.Count;
}

/// <summary>A mapping with string keys, in insertion order (as Python dicts are).</summary>
public sealed class JinjaDict
{
    private readonly List<KeyValuePair<JinjaString, object?>> _items = [];
    private readonly Dictionary<string, int> _index = new(StringComparer.Ordinal);

    /// <summary>The entries in insertion order.</summary>
    public IReadOnlyList<KeyValuePair<JinjaString, object?>> Items => _items;

    /// <summary>The number of entries.</summary>
    public int Count => _items.Count;

    /// <summary>Sets a key (keeps its first position when it exists).</summary>
    public void Set(JinjaString key, object? value)
    {
        if (_index.TryGetValue(key.Value, out int i)) _items[i] = new(_items[i].Key, value);
        else { _index[key.Value] = _items.Count; _items.Add(new(key, value)); }
    }

    /// <summary>Sets a markup-named key.</summary>
    public void Set(string key, object? value) => Set(JinjaString.Markup(key), value);

    /// <summary>Looks a key up.</summary>
    public bool TryGet(string key, out object? value)
    {
        if (_index.TryGetValue(key, out int i)) { value = _items[i].Value; return true; }
        value = null;
        return false;
    }

    /// <summary>Whether the key exists.</summary>
    public bool ContainsKey(string key) => _index.ContainsKey(key);
}

/// <summary>The object <c>namespace(...)</c> returns: attributes that <c>{% set ns.x = ... %}</c> can change from inner scopes.</summary>
public sealed class JinjaNamespace
{
    /// <summary>The attributes.</summary>
    public Dictionary<string, object?> Values { get; } = new(StringComparer.Ordinal);
}

/// <summary>A function value (a macro, a global such as <c>range</c>, or a bound string/dict method).</summary>
public sealed class JinjaCallable(string name, Func<List<object?>, Dictionary<string, object?>, object?> invoke)
{
    /// <summary>The name used in messages.</summary>
    public string Name { get; } = name;
    /// <summary>Calls it with positional and keyword arguments.</summary>
    public object? Invoke(List<object?> args, Dictionary<string, object?> kwargs) => invoke(args, kwargs);
}

/// <summary>Conversions between runtime values and text, JSON and .NET data.</summary>
public static class JinjaValue
{
    /// <summary>Python's truth value.</summary>
    public static bool IsTrue(object? v) => v switch
    {
        null => false,
        JinjaUndefined => false,
        bool b => b,
        long l => l != 0,
        double d => d != 0,
        JinjaString s => s.Length > 0,
        JinjaList l => l.Count > 0,
        JinjaDict d => d.Count > 0,
        _ => true,
    };

    /// <summary>Python's type name, for messages.</summary>
    public static string TypeName(object? v) => v switch
    {
        null => "None",
        JinjaUndefined => "undefined",
        bool => "bool",
        long => "int",
        double => "float",
        JinjaString => "str",
        JinjaList l => l.IsTuple ? "tuple" : "list",
        JinjaDict => "dict",
        JinjaNamespace => "namespace",
        JinjaCallable => "function",
        _ => v.GetType().Name,
    };

    /// <summary><c>str(v)</c> with content ranges kept (None renders as <c>None</c>, as in Python; undefined as nothing).</summary>
    public static JinjaString ToJinjaString(object? v)
    {
        if (v is JinjaString s) return s;
        if (v is JinjaList or JinjaDict)
        {
            var b = new JinjaString.Builder();
            AppendRepr(b, v);
            return b.ToJinjaString();
        }
        return JinjaString.Markup(ToPlainString(v));
    }

    internal static string ToPlainString(object? v) => v switch
    {
        null => "None",
        JinjaUndefined => "",
        bool b => b ? "True" : "False",
        long l => l.ToString(CultureInfo.InvariantCulture),
        double d => FormatFloat(d),
        JinjaString s => s.Value,
        JinjaNamespace => "<Namespace>",
        JinjaCallable c => $"<function {c.Name}>",
        _ => ToJinjaString(v).Value,
    };

    /// <summary>Python's <c>repr</c> of a float: shortest round trip, <c>1.0</c> for integral values, exponent past 1e16.</summary>
    public static string FormatFloat(double d)
    {
        if (double.IsNaN(d)) return "nan";
        if (double.IsPositiveInfinity(d)) return "inf";
        if (double.IsNegativeInfinity(d)) return "-inf";
        if (d == 0) return double.IsNegative(d) ? "-0.0" : "0.0";
        double a = Math.Abs(d);
        if (a >= 1e16 || a < 1e-4)
        {
            string r = d.ToString("R", CultureInfo.InvariantCulture);
            // R gives e.g. "1E+16" or "1.5E-05"; Python writes "1e+16" and "1.5e-05".
            int at = r.IndexOfAny(['E', 'e']);
            if (at < 0) return r;
            string mant = r[..at], exp = r[(at + 1)..];
            int ev = int.Parse(exp, CultureInfo.InvariantCulture);
            return $"{mant}e{(ev < 0 ? "-" : "+")}{Math.Abs(ev):00}";
        }
        string s = d.ToString("R", CultureInfo.InvariantCulture);
        return s.Contains('.') || s.Contains('E') ? s : s + ".0";
    }

    private static void AppendRepr(JinjaString.Builder b, object? v)
    {
        switch (v)
        {
            case JinjaString s:
                b.Append(PythonRepr(s.Value), s.HasContent);
                break;
            case JinjaList l:
                b.Append(l.IsTuple ? "(" : "[");
                for (int i = 0; i < l.Count; i++)
                {
                    if (i > 0) b.Append(", ");
                    AppendRepr(b, l.Items[i]);
                }
                if (l.IsTuple && l.Count == 1) b.Append(',');
                b.Append(l.IsTuple ? ")" : "]");
                break;
            case JinjaDict d:
                b.Append('{');
                for (int i = 0; i < d.Count; i++)
                {
                    if (i > 0) b.Append(", ");
                    AppendRepr(b, d.Items[i].Key);
                    b.Append(": ");
                    AppendRepr(b, d.Items[i].Value);
                }
                b.Append('}');
                break;
            default:
                b.Append(ToPlainString(v));
                break;
        }
    }

    private static string PythonRepr(string s)
    {
        char q = s.Contains('\'') && !s.Contains('"') ? '"' : '\'';
        var sb = new StringBuilder().Append(q);
        foreach (char c in s)
        {
            switch (c)
            {
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                default:
                    if (c == q) sb.Append('\\').Append(c);
                    else if (c < 0x20 || c == 0x7f) sb.Append($"\\x{(int)c:x2}");
                    else sb.Append(c);
                    break;
            }
        }
        return sb.Append(q).ToString();
    }

    /// <summary>Converts JSON to runtime values; every string (keys included) is content when <paramref name="content"/>.</summary>
    public static object? FromJson(JsonElement e, bool content = true)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.String: return Str(e.GetString()!, content);
            case JsonValueKind.Number:
                string raw = e.GetRawText();
                if (raw.IndexOfAny(['.', 'e', 'E']) < 0 && e.TryGetInt64(out long l)) return l;
                return e.GetDouble();
            case JsonValueKind.True: return true;
            case JsonValueKind.False: return false;
            case JsonValueKind.Null: return null;
            case JsonValueKind.Array:
                var list = new List<object?>();
                foreach (JsonElement x in e.EnumerateArray()) list.Add(FromJson(x, content));
                return new JinjaList(list);
            case JsonValueKind.Object:
                var d = new JinjaDict();
                foreach (JsonProperty p in e.EnumerateObject()) d.Set(Str(p.Name, content), FromJson(p.Value, content));
                return d;
            default: return JinjaUndefined.Instance;
        }
    }

    /// <summary>A string value, content or markup.</summary>
    public static JinjaString Str(string s, bool content) => content ? JinjaString.FromContent(s) : JinjaString.Markup(s);
}
