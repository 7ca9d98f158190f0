using System.Globalization;

namespace SharpSeek.Chat.Jinja;

// Jinja's filters and tests and Python's string/dict methods, as far as chat templates use them. Anything else is a
// JinjaUnsupportedException naming the filter, test or method.
internal sealed partial class JinjaInterpreter
{
    /// <summary>The filters this engine implements (a template using another fails when parsed).</summary>
    internal static readonly HashSet<string> KnownFilters =
    [
        "safe", "escape", "e", "forceescape", "tojson", "trim", "length", "count", "string", "lower", "upper", "capitalize", "title",
        "items", "list", "first", "last", "reverse", "join", "default", "d", "replace", "int", "float", "abs", "round", "sum", "min", "max",
        "unique", "sort", "dictsort", "map", "select", "reject", "selectattr", "rejectattr", "attr", "indent", "wordcount",
    ];

    /// <summary>The tests this engine implements.</summary>
    internal static readonly HashSet<string> KnownTests =
    [
        "defined", "undefined", "none", "boolean", "true", "false", "string", "number", "integer", "float", "mapping", "sequence",
        "iterable", "callable", "odd", "even", "divisibleby", "lower", "upper", "eq", "equalto", "==", "ne", "!=", "sameas", "in",
        "lt", "lessthan", "<", "le", "<=", "gt", "greaterthan", ">", "ge", ">=",
    ];

    /// <summary>Fails on the first filter or test the engine lacks, naming it and its position.</summary>
    public void Validate(IEnumerable<Node> nodes)
    {
        foreach (Node n in nodes)
        {
            switch (n)
            {
                case OutputNode o: Validate(o.Value); break;
                case IfNode f:
                    foreach (var (test, body) in f.Branches) { Validate(test); Validate(body); }
                    Validate(f.Else);
                    break;
                case ForNode f:
                    Validate(f.Iterable);
                    if (f.Filter is not null) Validate(f.Filter);
                    Validate(f.Body);
                    Validate(f.Else);
                    break;
                case SetNode s:
                    if (s.Value is not null) Validate(s.Value);
                    if (s.Body is not null) Validate(s.Body);
                    break;
                case MacroNode m:
                    foreach (var (_, def) in m.Parameters) if (def is not null) Validate(def);
                    Validate(m.Body);
                    break;
                case FilterBlockNode fb: Validate(fb.Filter); Validate(fb.Body); break;
            }
        }
    }

    private void Validate(Expr? e)
    {
        switch (e)
        {
            case null: return;
            case FilterExpr f:
                if (!KnownFilters.Contains(f.Name)) throw Unsupported($"filter '{f.Name}'", f.Offset);
                Validate(f.Operand);
                foreach (Expr a in f.Args) Validate(a);
                foreach (var (_, v) in f.Kwargs) Validate(v);
                return;
            case TestExpr t:
                if (!KnownTests.Contains(t.Name)) throw Unsupported($"test '{t.Name}'", t.Offset);
                Validate(t.Operand);
                foreach (Expr a in t.Args) Validate(a);
                return;
            case ListExpr l: foreach (Expr x in l.Items) Validate(x); return;
            case TupleExpr t: foreach (Expr x in t.Items) Validate(x); return;
            case DictExpr d: foreach (var (k, v) in d.Items) { Validate(k); Validate(v); } return;
            case AttrExpr a: Validate(a.Target); return;
            case ItemExpr i: Validate(i.Target); Validate(i.Index); return;
            case SliceExpr s: Validate(s.Target); Validate(s.Start); Validate(s.Stop); Validate(s.Step); return;
            case CallExpr c: Validate(c.Callee); foreach (Expr a in c.Args) Validate(a); foreach (var (_, v) in c.Kwargs) Validate(v); return;
            case UnaryExpr u: Validate(u.Operand); return;
            case BinaryExpr b: Validate(b.Left); Validate(b.Right); return;
            case CompareExpr c: Validate(c.First); foreach (var (_, r) in c.Rest) Validate(r); return;
            case CondExpr c: Validate(c.Test); Validate(c.Then); Validate(c.Else); return;
        }
    }

    private static JinjaString Str(object? v) => JinjaValue.ToJinjaString(v);

    private static object? Arg(List<object?> args, Dictionary<string, object?> kwargs, int index, string name, object? fallback = null)
    {
        if (index < args.Count) return args[index];
        return kwargs.TryGetValue(name, out object? v) ? v : fallback;
    }

    private object? ApplyFilter(FilterExpr f, object? operand, Scope scope)
    {
        var args = f.Args.Select(x => Eval(x, scope)).ToList();
        var kwargs = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (name, value) in f.Kwargs) kwargs[name] = Eval(value, scope);
        return Filter(f.Name, operand, args, kwargs, f.Offset);
    }

    internal object? Filter(string name, object? v, List<object?> args, Dictionary<string, object?> kwargs, int offset)
    {
        switch (name)
        {
            case "safe": case "escape": case "e": case "forceescape":
                return v;
            case "tojson":
                return JinjaJson.ToJson(v, Arg(args, kwargs, 0, "indent") is long ind ? (int)ind : null,
                    JinjaValue.IsTrue(Arg(args, kwargs, 1, "sort_keys", false)),
                    Arg(args, kwargs, 2, "separators"), JinjaValue.IsTrue(Arg(args, kwargs, 3, "ensure_ascii", false)), this, offset);
            case "trim":
            {
                JinjaString s = Str(v);
                object? chars = Arg(args, kwargs, 0, "chars");
                return Strip(s, chars is JinjaString c ? c.Value : null, true, true);
            }
            case "length": case "count":
                return v switch
                {
                    JinjaString s => (long)CodePointCount(s.Value),
                    JinjaList l => (long)l.Count,
                    JinjaDict d => (long)d.Count,
                    JinjaNamespace ns => (long)ns.Values.Count,
                    JinjaUndefined => 0L,
                    _ => throw Fail($"object of type '{JinjaValue.TypeName(v)}' has no len()", offset),
                };
            case "string":
                return Str(v);
            case "lower": return Str(v).MapText(t => t.ToLowerInvariant());
            case "upper": return Str(v).MapText(t => t.ToUpperInvariant());
            case "capitalize": return Capitalize(Str(v));
            case "title": return Title(Str(v));
            case "items":
                return v switch
                {
                    JinjaDict d => new JinjaList(d.Items.Select(kv => (object?)new JinjaList([kv.Key, kv.Value], isTuple: true)).ToList()),
                    JinjaUndefined => new JinjaList([]),
                    _ => throw Fail($"items filter needs a mapping, got '{JinjaValue.TypeName(v)}'", offset),
                };
            case "list":
                return new JinjaList(Iterate(v, offset));
            case "first":
            {
                var items = Iterate(v, offset);
                return items.Count > 0 ? items[0] : JinjaUndefined.Instance;
            }
            case "last":
            {
                var items = Iterate(v, offset);
                return items.Count > 0 ? items[^1] : JinjaUndefined.Instance;
            }
            case "reverse":
                if (v is JinjaString rs) { var cps = CodePoints(rs); cps.Reverse(); return Join(cps.Cast<object?>().ToList(), JinjaString.Empty); }
                { var items = Iterate(v, offset); items.Reverse(); return new JinjaList(items); }
            case "join":
            {
                var items = Iterate(v, offset);
                object? attribute = Arg(args, kwargs, 1, "attribute");
                if (attribute is not null) items = items.Select(x => AttributePath(x, attribute, offset)).ToList();
                return Join(items, Str(Arg(args, kwargs, 0, "d", JinjaString.Empty)));
            }
            case "default": case "d":
            {
                object? fallback = Arg(args, kwargs, 0, "default_value", JinjaString.Empty);
                bool boolean = JinjaValue.IsTrue(Arg(args, kwargs, 1, "boolean", false));
                return v is JinjaUndefined || (boolean && !JinjaValue.IsTrue(v)) ? fallback : v;
            }
            case "replace":
            {
                JinjaString s = Str(v);
                long count = Arg(args, kwargs, 2, "count") is long c ? c : -1;
                return Replace(s, Str(Arg(args, kwargs, 0, "old")), Str(Arg(args, kwargs, 1, "new")), count);
            }
            case "int":
                return v switch
                {
                    long l => l,
                    double d => (long)Math.Truncate(d),
                    bool b => b ? 1L : 0L,
                    JinjaString s when long.TryParse(s.Value.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out long l) => l,
                    JinjaString s when double.TryParse(s.Value.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out double d) => (long)Math.Truncate(d),
                    _ => Arg(args, kwargs, 0, "default", 0L),
                };
            case "float":
                return v switch
                {
                    long l => (double)l,
                    double d => d,
                    bool b => b ? 1.0 : 0.0,
                    JinjaString s when double.TryParse(s.Value.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out double d) => d,
                    _ => Arg(args, kwargs, 0, "default", 0.0),
                };
            case "abs":
                return v switch { long l => (object)Math.Abs(l), double d => Math.Abs(d), bool b => b ? 1L : 0L, _ => throw Fail($"bad operand type for abs(): '{JinjaValue.TypeName(v)}'", offset) };
            case "round":
            {
                long precision = Arg(args, kwargs, 0, "precision") is long p ? p : 0;
                string method = Arg(args, kwargs, 1, "method") is JinjaString m ? m.Value : "common";
                double x = v is long l ? l : v is double d ? d : throw Fail("round needs a number", offset);
                double scale = Math.Pow(10, precision);
                double r = method switch
                {
                    "ceil" => Math.Ceiling(x * scale) / scale,
                    "floor" => Math.Floor(x * scale) / scale,
                    _ => Math.Round(x * scale, MidpointRounding.AwayFromZero) / scale,
                };
                return r;
            }
            case "sum":
            {
                object? total = Arg(args, kwargs, 1, "start", 0L);
                object? attribute = Arg(args, kwargs, 0, "attribute");
                foreach (object? item in Iterate(v, offset))
                    total = Arithmetic("+", total, attribute is null ? item : AttributePath(item, attribute, offset), offset);
                return total;
            }
            case "min": case "max":
            {
                var items = Iterate(v, offset);
                if (items.Count == 0) return JinjaUndefined.Instance;
                object? best = items[0];
                foreach (object? item in items.Skip(1))
                {
                    int c = Order(item, best, offset);
                    if (name == "min" ? c < 0 : c > 0) best = item;
                }
                return best;
            }
            case "unique":
            {
                var result = new List<object?>();
                foreach (object? item in Iterate(v, offset))
                    if (!result.Any(x => JinjaEquals(x, item))) result.Add(item);
                return new JinjaList(result);
            }
            case "sort":
            {
                bool reverse = JinjaValue.IsTrue(Arg(args, kwargs, 0, "reverse", false));
                object? attribute = Arg(args, kwargs, 2, "attribute");
                var items = Iterate(v, offset);
                var keyed = items.Select(x => (Key: attribute is null ? x : AttributePath(x, attribute, offset), Item: x)).ToList();
                var sorted = keyed.OrderBy(k => k.Key, Comparer<object?>.Create((a, b) => Order(SortKey(a), SortKey(b), offset))).Select(k => k.Item).ToList();
                if (reverse) sorted.Reverse();
                return new JinjaList(sorted);
            }
            case "dictsort":
            {
                if (v is not JinjaDict d) throw Fail("dictsort needs a mapping", offset);
                bool byValue = Arg(args, kwargs, 1, "by") is JinjaString by && by.Value == "value";
                bool reverse = JinjaValue.IsTrue(Arg(args, kwargs, 2, "reverse", false));
                var sorted = d.Items.OrderBy(kv => byValue ? kv.Value : kv.Key, Comparer<object?>.Create((a, b) => Order(SortKey(a), SortKey(b), offset))).ToList();
                if (reverse) sorted.Reverse();
                return new JinjaList(sorted.Select(kv => (object?)new JinjaList([kv.Key, kv.Value], isTuple: true)).ToList());
            }
            case "map":
            {
                var items = Iterate(v, offset);
                if (kwargs.TryGetValue("attribute", out object? attribute))
                {
                    kwargs.TryGetValue("default", out object? def);
                    return new JinjaList(items.Select(x => { object? r = AttributePath(x, attribute, offset); return r is JinjaUndefined && def is not null ? def : r; }).ToList());
                }
                if (args.Count == 0 || args[0] is not JinjaString filterName) throw Fail("map needs a filter name or attribute=", offset);
                var rest = args.Skip(1).ToList();
                return new JinjaList(items.Select(x => Filter(filterName.Value, x, rest, kwargs, offset)).ToList());
            }
            case "select": case "reject":
            {
                var items = Iterate(v, offset);
                string? test = args.Count > 0 && args[0] is JinjaString t ? t.Value : null;
                var testArgs = args.Skip(1).ToList();
                bool keep = name == "select";
                return new JinjaList(items.Where(x => (test is null ? JinjaValue.IsTrue(x) : ApplyTest(test, x, testArgs, offset)) == keep).ToList());
            }
            case "selectattr": case "rejectattr":
            {
                var items = Iterate(v, offset);
                if (args.Count == 0) throw Fail($"{name} needs an attribute name", offset);
                object? attribute = args[0];
                string? test = args.Count > 1 && args[1] is JinjaString t ? t.Value : null;
                var testArgs = args.Skip(2).ToList();
                bool keep = name == "selectattr";
                return new JinjaList(items.Where(x =>
                {
                    object? a = AttributePath(x, attribute, offset);
                    return (test is null ? JinjaValue.IsTrue(a) : ApplyTest(test, a, testArgs, offset)) == keep;
                }).ToList());
            }
            case "attr":
                return GetAttribute(v, Str(Arg(args, kwargs, 0, "name")).Value, offset);
            case "indent":
            {
                object? width = Arg(args, kwargs, 0, "width", 4L);
                bool first = JinjaValue.IsTrue(Arg(args, kwargs, 1, "first", false));
                bool blank = JinjaValue.IsTrue(Arg(args, kwargs, 2, "blank", false));
                string pad = width is JinjaString ws ? ws.Value : new string(' ', (int)Math.Max(0, AsInt(width) ?? 4));
                JinjaString s = Str(v);
                var lines = Split(s, JinjaString.Markup("\n"), -1);
                var b = new JinjaString.Builder();
                for (int i = 0; i < lines.Count; i++)
                {
                    if (i > 0) b.Append('\n');
                    var line = (JinjaString)lines.Items[i]!;
                    if ((i > 0 || first) && (blank || line.Length > 0)) b.Append(pad);
                    b.Append(line);
                }
                return b.ToJinjaString();
            }
            case "wordcount":
                return (long)Str(v).Value.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length;
            case "center": case "format": case "truncate": case "wordwrap": case "urlencode": case "urlize": case "striptags":
            case "xmlattr": case "groupby": case "batch": case "slice": case "filesizeformat": case "pprint": case "random":
            default:
                throw Unsupported($"filter '{name}'", offset);
        }
    }

    private static object? SortKey(object? v) => v is JinjaString s ? JinjaString.Markup(s.Value.ToLowerInvariant()) : v;

    private object? AttributePath(object? item, object? attribute, int offset)
    {
        if (attribute is long idx) return GetItem(item, idx, offset);
        foreach (string part in Str(attribute).Value.Split('.'))
        {
            item = long.TryParse(part, NumberStyles.Integer, CultureInfo.InvariantCulture, out long i) && item is JinjaList
                ? GetItem(item, i, offset) : GetItem(item, JinjaString.Markup(part), offset);
        }
        return item;
    }

    private List<object?> Iterate(object? v, int offset) => v switch
    {
        JinjaList l => [.. l.Items],
        JinjaDict d => d.Items.Select(kv => (object?)kv.Key).ToList(),
        JinjaString s => CodePoints(s).Cast<object?>().ToList(),
        JinjaUndefined => [],
        _ => throw Fail($"'{JinjaValue.TypeName(v)}' object is not iterable", offset),
    };

    private static JinjaString Join(List<object?> items, JinjaString separator)
    {
        var b = new JinjaString.Builder();
        for (int i = 0; i < items.Count; i++)
        {
            if (i > 0) b.Append(separator);
            b.Append(Str(items[i]));
        }
        return b.ToJinjaString();
    }

    internal bool ApplyTest(string name, object? v, List<object?> args, int offset)
    {
        object? a0 = args.Count > 0 ? args[0] : null;
        switch (name)
        {
            case "defined": return v is not JinjaUndefined;
            case "undefined": return v is JinjaUndefined;
            case "none": return v is null;
            case "boolean": return v is bool;
            case "true": return v is true;
            case "false": return v is false;
            case "string": return v is JinjaString;
            case "number": return v is long or double;
            case "integer": return v is long;
            case "float": return v is double;
            case "mapping": return v is JinjaDict;
            case "sequence": return v is JinjaList or JinjaString or JinjaDict;
            case "iterable": return v is JinjaList or JinjaString or JinjaDict;
            case "callable": return v is JinjaCallable;
            case "odd": return AsInt(v) is long o ? o % 2 != 0 : throw Fail($"odd needs an integer, got '{JinjaValue.TypeName(v)}'", offset);
            case "even": return AsInt(v) is long e ? e % 2 == 0 : throw Fail($"even needs an integer, got '{JinjaValue.TypeName(v)}'", offset);
            case "divisibleby": return AsInt(v) is long n && AsInt(a0) is long m && m != 0 && n % m == 0;
            case "lower": return v is JinjaString ls && ls.Value == ls.Value.ToLowerInvariant();
            case "upper": return v is JinjaString us && us.Value == us.Value.ToUpperInvariant();
            case "eq": case "equalto": case "==": return JinjaEquals(v, a0);
            case "ne": case "!=": return !JinjaEquals(v, a0);
            case "sameas": return v is null ? a0 is null : v is bool b ? a0 is bool c && b == c : ReferenceEquals(v, a0) || (v is long && JinjaEquals(v, a0));
            case "in": return Contains(a0, v, offset);
            case "lt": case "lessthan": case "<": return Order(v, a0, offset) < 0;
            case "le": case "<=": return Order(v, a0, offset) <= 0;
            case "gt": case "greaterthan": case ">": return Order(v, a0, offset) > 0;
            case "ge": case ">=": return Order(v, a0, offset) >= 0;
            default: throw Unsupported($"test '{name}'", offset);
        }
    }

    // Python str methods.
    private JinjaCallable? StringMethod(JinjaString s, string name, int offset)
    {
        JinjaCallable M(Func<List<object?>, Dictionary<string, object?>, object?> f) => new($"str.{name}", f);
        return name switch
        {
            "startswith" => M((a, k) => Prefix(s, Arg(a, k, 0, "prefix"), true, offset)),
            "endswith" => M((a, k) => Prefix(s, Arg(a, k, 0, "suffix"), false, offset)),
            "strip" => M((a, k) => Strip(s, Arg(a, k, 0, "chars") is JinjaString c ? c.Value : null, true, true)),
            "lstrip" => M((a, k) => Strip(s, Arg(a, k, 0, "chars") is JinjaString c ? c.Value : null, true, false)),
            "rstrip" => M((a, k) => Strip(s, Arg(a, k, 0, "chars") is JinjaString c ? c.Value : null, false, true)),
            "split" => M((a, k) => SplitMethod(s, Arg(a, k, 0, "sep"), Arg(a, k, 1, "maxsplit") is long m ? m : -1, fromRight: false)),
            "rsplit" => M((a, k) => SplitMethod(s, Arg(a, k, 0, "sep"), Arg(a, k, 1, "maxsplit") is long m ? m : -1, fromRight: true)),
            "replace" => M((a, k) => Replace(s, Str(Arg(a, k, 0, "old")), Str(Arg(a, k, 1, "new")), Arg(a, k, 2, "count") is long c ? c : -1)),
            "upper" => M((_, _) => s.MapText(t => t.ToUpperInvariant())),
            "lower" => M((_, _) => s.MapText(t => t.ToLowerInvariant())),
            "title" => M((_, _) => Title(s)),
            "capitalize" => M((_, _) => Capitalize(s)),
            "find" => M((a, k) => (long)s.Value.IndexOf(Str(Arg(a, k, 0, "sub")).Value, StringComparison.Ordinal)),
            "rfind" => M((a, k) => (long)s.Value.LastIndexOf(Str(Arg(a, k, 0, "sub")).Value, StringComparison.Ordinal)),
            "count" => M((a, k) => (long)CountOf(s.Value, Str(Arg(a, k, 0, "sub")).Value)),
            "join" => M((a, k) => Join(Iterate(Arg(a, k, 0, "iterable"), offset), s)),
            "isdigit" => M((_, _) => s.Length > 0 && s.Value.All(char.IsDigit)),
            "isalpha" => M((_, _) => s.Length > 0 && s.Value.All(char.IsLetter)),
            "isspace" => M((_, _) => s.Length > 0 && s.Value.All(char.IsWhiteSpace)),
            "islower" => M((_, _) => s.Value.Any(char.IsLetter) && s.Value == s.Value.ToLowerInvariant()),
            "isupper" => M((_, _) => s.Value.Any(char.IsLetter) && s.Value == s.Value.ToUpperInvariant()),
            "format" => throw Unsupported("str.format", offset),
            _ => null,
        };
    }

    private JinjaCallable? DictMethod(JinjaDict d, string name) => name switch
    {
        "items" => new JinjaCallable("dict.items", (_, _) => new JinjaList(d.Items.Select(kv => (object?)new JinjaList([kv.Key, kv.Value], isTuple: true)).ToList())),
        "keys" => new JinjaCallable("dict.keys", (_, _) => new JinjaList(d.Items.Select(kv => (object?)kv.Key).ToList())),
        "values" => new JinjaCallable("dict.values", (_, _) => new JinjaList(d.Items.Select(kv => kv.Value).ToList())),
        "get" => new JinjaCallable("dict.get", (a, k) =>
        {
            object? key = Arg(a, k, 0, "key");
            return key is JinjaString ks && d.TryGet(ks.Value, out object? v) ? v : Arg(a, k, 1, "default");
        }),
        _ => null,
    };

    private static JinjaCallable? ListMethod(JinjaList l, string name) => name switch
    {
        "index" => new JinjaCallable("list.index", (a, _) =>
        {
            int i = l.Items.FindIndex(x => JinjaEquals(x, a.Count > 0 ? a[0] : null));
            return i >= 0 ? i : throw new ArgumentException("value is not in list");
        }),
        "count" => new JinjaCallable("list.count", (a, _) => (long)l.Items.Count(x => JinjaEquals(x, a.Count > 0 ? a[0] : null))),
        _ => null,
    };

    private bool Prefix(JinjaString s, object? arg, bool start, int offset)
    {
        if (arg is JinjaString p) return start ? s.Value.StartsWith(p.Value, StringComparison.Ordinal) : s.Value.EndsWith(p.Value, StringComparison.Ordinal);
        if (arg is JinjaList l) return l.Items.Any(x => Prefix(s, x, start, offset));
        throw Fail($"{(start ? "startswith" : "endswith")} first arg must be str or a tuple of str, not '{JinjaValue.TypeName(arg)}'", offset);
    }

    private static JinjaString Strip(JinjaString s, string? chars, bool left, bool right)
    {
        string v = s.Value;
        bool Strippable(char c) => chars is null ? char.IsWhiteSpace(c) : chars.Contains(c);
        int a = 0, z = v.Length;
        if (left) while (a < z && Strippable(v[a])) a++;
        if (right) while (z > a && Strippable(v[z - 1])) z--;
        return s.Substring(a, z - a);
    }

    private static JinjaString Replace(JinjaString s, JinjaString old, JinjaString replacement, long count)
    {
        if (count == 0) return s;
        var b = new JinjaString.Builder();
        string v = s.Value;
        if (old.Length == 0)
        {
            // Python inserts the replacement between every character (and at both ends).
            var cps = CodePoints(s);
            long done = 0;
            for (int i = 0; i <= cps.Count; i++)
            {
                if (count < 0 || done < count) { b.Append(replacement); done++; }
                if (i < cps.Count) b.Append(cps[i]);
            }
            return b.ToJinjaString();
        }
        int pos = 0;
        long n = 0;
        while (count < 0 || n < count)
        {
            int at = v.IndexOf(old.Value, pos, StringComparison.Ordinal);
            if (at < 0) break;
            b.Append(s, pos, at - pos).Append(replacement);
            pos = at + old.Length;
            n++;
        }
        b.Append(s, pos, v.Length - pos);
        return b.ToJinjaString();
    }

    private JinjaList SplitMethod(JinjaString s, object? sep, long maxsplit, bool fromRight)
    {
        if (sep is null or JinjaUndefined) return SplitWhitespace(s, maxsplit, fromRight);
        if (sep is not JinjaString sp) throw new ArgumentException($"must be str or None, not {JinjaValue.TypeName(sep)}");
        if (sp.Length == 0) throw new ArgumentException("empty separator");
        if (!fromRight) return Split(s, sp, maxsplit);
        var parts = new List<object?>();
        string v = s.Value;
        int end = v.Length;
        while (maxsplit < 0 || parts.Count < maxsplit)
        {
            int at = end - sp.Length < 0 ? -1 : v.LastIndexOf(sp.Value, end - 1, end, StringComparison.Ordinal);
            if (at < 0) break;
            parts.Insert(0, s.Substring(at + sp.Length, end - at - sp.Length));
            end = at;
        }
        parts.Insert(0, s.Substring(0, end));
        return new JinjaList(parts);
    }

    private static JinjaList Split(JinjaString s, JinjaString sep, long maxsplit)
    {
        var parts = new List<object?>();
        string v = s.Value;
        int pos = 0;
        while (maxsplit < 0 || parts.Count < maxsplit)
        {
            int at = v.IndexOf(sep.Value, pos, StringComparison.Ordinal);
            if (at < 0) break;
            parts.Add(s.Substring(pos, at - pos));
            pos = at + sep.Length;
        }
        parts.Add(s.Substring(pos, v.Length - pos));
        return new JinjaList(parts);
    }

    private static JinjaList SplitWhitespace(JinjaString s, long maxsplit, bool fromRight)
    {
        string v = s.Value;
        var spans = new List<(int Start, int End)>();
        int i = 0;
        while (i < v.Length)
        {
            while (i < v.Length && char.IsWhiteSpace(v[i])) i++;
            if (i >= v.Length) break;
            int start = i;
            while (i < v.Length && !char.IsWhiteSpace(v[i])) i++;
            spans.Add((start, i));
        }
        var parts = new List<object?>();
        if (maxsplit < 0 || spans.Count <= maxsplit + 1)
        {
            foreach (var (a, z) in spans) parts.Add(s.Substring(a, z - a));
            return new JinjaList(parts);
        }
        if (!fromRight)
        {
            for (int k = 0; k < maxsplit; k++) parts.Add(s.Substring(spans[k].Start, spans[k].End - spans[k].Start));
            int restStart = spans[(int)maxsplit].Start;
            int restEnd = v.Length;
            while (restEnd > restStart && char.IsWhiteSpace(v[restEnd - 1])) restEnd--;
            parts.Add(s.Substring(restStart, restEnd - restStart));
        }
        else
        {
            int firstKept = spans.Count - (int)maxsplit;
            int restEnd = spans[firstKept - 1].End;
            parts.Add(s.Substring(spans[0].Start, restEnd - spans[0].Start));
            for (int k = firstKept; k < spans.Count; k++) parts.Add(s.Substring(spans[k].Start, spans[k].End - spans[k].Start));
        }
        return new JinjaList(parts);
    }

    private static int CountOf(string v, string sub)
    {
        if (sub.Length == 0) return CodePointCount(v) + 1;
        int n = 0;
        for (int at = v.IndexOf(sub, StringComparison.Ordinal); at >= 0; at = v.IndexOf(sub, at + sub.Length, StringComparison.Ordinal)) n++;
        return n;
    }

    private static JinjaString Capitalize(JinjaString s)
    {
        if (s.Length == 0) return s;
        return s.MapText(t => char.ToUpperInvariant(t[0]) + t[1..].ToLowerInvariant());
    }

    private static JinjaString Title(JinjaString s) => s.MapText(t =>
    {
        var chars = t.ToCharArray();
        bool prevLetter = false;
        for (int i = 0; i < chars.Length; i++)
        {
            char c = chars[i];
            chars[i] = prevLetter ? char.ToLowerInvariant(c) : char.ToUpperInvariant(c);
            prevLetter = char.IsLetter(c);
        }
        return new string(chars);
    });
}
