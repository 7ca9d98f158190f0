namespace SharpSeek.Chat.Jinja;

/// <summary>
/// Evaluates a parsed template with Jinja2's semantics as transformers' <c>apply_chat_template</c> runs it:
/// <c>set</c> inside a <c>for</c> stays in the loop (use <c>namespace()</c> to carry state out), <c>loop.*</c>,
/// <c>break</c>/<c>continue</c>, macros with defaults and keyword arguments, Python string methods and Jinja's filters and tests.
/// Output and every string keep their content ranges (<see cref="JinjaString"/>).
/// </summary>
internal sealed partial class JinjaInterpreter
{
    private readonly string _source;
    private int _depth;

    public JinjaInterpreter(string source) => _source = source;

    internal sealed class Scope(Scope? parent)
    {
        public Scope? Parent { get; } = parent;
        public Dictionary<string, object?> Vars { get; } = new(StringComparer.Ordinal);

        public bool TryLookup(string name, out object? value)
        {
            for (Scope? s = this; s is not null; s = s.Parent)
                if (s.Vars.TryGetValue(name, out value)) return true;
            value = null;
            return false;
        }
    }

    private sealed class BreakSignal : Exception;
    private sealed class ContinueSignal : Exception;

    internal JinjaException Fail(string message, int offset) => JinjaLexer.At(_source, offset, message);

    internal JinjaUnsupportedException Unsupported(string construct, int offset) => JinjaLexer.UnsupportedAt(_source, offset, construct);

    public void Render(IReadOnlyList<Node> nodes, Scope scope, JinjaString.Builder output)
    {
        foreach (Node n in nodes) Render(n, scope, output);
    }

    private void Render(Node node, Scope scope, JinjaString.Builder output)
    {
        switch (node)
        {
            case TextNode t:
                output.Append(t.Text);
                break;
            case OutputNode o:
                output.Append(JinjaValue.ToJinjaString(Eval(o.Value, scope)));
                break;
            case IfNode f:
                foreach (var (test, body) in f.Branches)
                {
                    if (JinjaValue.IsTrue(Eval(test, scope))) { Render(body, scope, output); return; }
                }
                Render(f.Else, scope, output);
                break;
            case ForNode f:
                RenderFor(f, scope, output);
                break;
            case SetNode s:
                ExecuteSet(s, scope);
                break;
            case MacroNode m:
                scope.Vars[m.Name] = MakeMacro(m, scope);
                break;
            case FilterBlockNode fb:
            {
                var inner = new JinjaString.Builder();
                Render(fb.Body, scope, inner);
                output.Append(JinjaValue.ToJinjaString(ApplyFilter(fb.Filter, inner.ToJinjaString(), scope)));
                break;
            }
            case BreakNode: throw new BreakSignal();
            case ContinueNode: throw new ContinueSignal();
            default: throw Fail($"cannot render {node.GetType().Name}", node.Offset);
        }
    }

    private void RenderFor(ForNode f, Scope scope, JinjaString.Builder output)
    {
        object? iterable = Eval(f.Iterable, scope);
        List<object?> source = iterable switch
        {
            JinjaList l => [.. l.Items],
            JinjaDict d => d.Items.Select(kv => (object?)kv.Key).ToList(),
            JinjaString s => CodePoints(s).Select(x => (object?)x).ToList(),
            JinjaUndefined => [],
            null => throw Fail("'NoneType' object is not iterable", f.Iterable.Offset),
            _ => throw Fail($"'{JinjaValue.TypeName(iterable)}' object is not iterable", f.Iterable.Offset),
        };
        var loopScope = new Scope(scope);
        List<object?> items = source;
        if (f.Filter is not null)
        {
            items = [];
            foreach (object? item in source)
            {
                Bind(f, loopScope, item);
                if (JinjaValue.IsTrue(Eval(f.Filter, loopScope))) items.Add(item);
            }
        }
        if (items.Count == 0) { Render(f.Else, scope, output); return; }
        for (int i = 0; i < items.Count; i++)
        {
            loopScope.Vars["loop"] = LoopObject(items, i);
            Bind(f, loopScope, items[i]);
            try
            {
                Render(f.Body, loopScope, output);
            }
            catch (ContinueSignal) { }
            catch (BreakSignal) { break; }
        }
    }

    private static JinjaDict LoopObject(List<object?> items, int i)
    {
        var d = new JinjaDict();
        int n = items.Count;
        d.Set("index", (long)(i + 1));
        d.Set("index0", (long)i);
        d.Set("revindex", (long)(n - i));
        d.Set("revindex0", (long)(n - i - 1));
        d.Set("first", i == 0);
        d.Set("last", i == n - 1);
        d.Set("length", (long)n);
        d.Set("previtem", i > 0 ? items[i - 1] : JinjaUndefined.Instance);
        d.Set("nextitem", i < n - 1 ? items[i + 1] : JinjaUndefined.Instance);
        d.Set("depth", 1L);
        d.Set("depth0", 0L);
        d.Set("cycle", new JinjaCallable("cycle", (args, _) => args.Count == 0 ? JinjaUndefined.Instance : args[i % args.Count]));
        return d;
    }

    private void Bind(ForNode f, Scope scope, object? item)
    {
        if (!f.Unpack) { scope.Vars[f.Targets[0]] = item; return; }
        if (item is not JinjaList l) throw Fail($"cannot unpack '{JinjaValue.TypeName(item)}' into {f.Targets.Count} loop variables", f.Offset);
        if (l.Count != f.Targets.Count) throw Fail($"cannot unpack {l.Count} values into {f.Targets.Count} loop variables", f.Offset);
        for (int k = 0; k < l.Count; k++) scope.Vars[f.Targets[k]] = l.Items[k];
    }

    private void ExecuteSet(SetNode s, Scope scope)
    {
        object? value;
        if (s.Value is not null) value = Eval(s.Value, scope);
        else
        {
            var b = new JinjaString.Builder();
            Render(s.Body!, scope, b);
            value = b.ToJinjaString();
        }
        switch (s.Target)
        {
            case NameExpr n:
                scope.Vars[n.Name] = value;
                break;
            case TupleExpr t:
                if (value is not JinjaList l || l.Count != t.Items.Count)
                    throw Fail($"cannot unpack {JinjaValue.TypeName(value)} into {t.Items.Count} names", s.Offset);
                for (int i = 0; i < l.Count; i++) scope.Vars[((NameExpr)t.Items[i]).Name] = l.Items[i];
                break;
            case AttrExpr a:
                object? target = Eval(a.Target, scope);
                if (target is not JinjaNamespace ns) throw Fail($"cannot set attribute '{a.Name}' on a {JinjaValue.TypeName(target)} (only on a namespace())", s.Offset);
                ns.Values[a.Name] = value;
                break;
            default:
                throw Fail("invalid assignment target", s.Offset);
        }
    }

    private JinjaCallable MakeMacro(MacroNode m, Scope defining) => new(m.Name, (args, kwargs) =>
    {
        if (args.Count > m.Parameters.Count) throw Fail($"macro '{m.Name}' takes at most {m.Parameters.Count} arguments, got {args.Count}", m.Offset);
        var scope = new Scope(defining);
        var rest = new Dictionary<string, object?>(kwargs, StringComparer.Ordinal);
        for (int i = 0; i < m.Parameters.Count; i++)
        {
            var (name, def) = m.Parameters[i];
            if (i < args.Count) scope.Vars[name] = args[i];
            else if (rest.Remove(name, out object? kv)) scope.Vars[name] = kv;
            else scope.Vars[name] = def is null ? JinjaUndefined.Instance : Eval(def, scope);
        }
        if (rest.Count > 0) throw Fail($"macro '{m.Name}' takes no keyword argument '{rest.Keys.First()}'", m.Offset);
        if (++_depth > 200) throw Fail($"macro '{m.Name}' recursed too deeply", m.Offset);
        try
        {
            var b = new JinjaString.Builder();
            Render(m.Body, scope, b);
            return b.ToJinjaString();
        }
        finally { _depth--; }
    });

    // Expressions.

    public object? Eval(Expr e, Scope scope)
    {
        switch (e)
        {
            case LiteralExpr l: return l.Value;
            case NameExpr n: return scope.TryLookup(n.Name, out object? v) ? v : JinjaUndefined.Instance;
            case ListExpr l: return new JinjaList(l.Items.Select(x => Eval(x, scope)).ToList());
            case TupleExpr t: return new JinjaList(t.Items.Select(x => Eval(x, scope)).ToList(), isTuple: true);
            case DictExpr d:
            {
                var dict = new JinjaDict();
                foreach (var (k, val) in d.Items)
                {
                    object? key = Eval(k, scope);
                    if (key is not JinjaString ks) throw Fail($"dict keys must be strings here, got {JinjaValue.TypeName(key)}", k.Offset);
                    dict.Set(ks, Eval(val, scope));
                }
                return dict;
            }
            case AttrExpr a: return GetAttribute(Eval(a.Target, scope), a.Name, a.Offset);
            case ItemExpr i: return GetItem(Eval(i.Target, scope), Eval(i.Index, scope), i.Offset);
            case SliceExpr s: return Slice(Eval(s.Target, scope), s, scope);
            case CallExpr c: return Call(c, scope);
            case FilterExpr f: return ApplyFilter(f, Eval(f.Operand!, scope), scope);
            case TestExpr t:
            {
                bool r = ApplyTest(t.Name, Eval(t.Operand, scope), t.Args.Select(x => Eval(x, scope)).ToList(), t.Offset);
                return t.Negated ? !r : r;
            }
            case UnaryExpr u: return Unary(u, scope);
            case BinaryExpr b: return Binary(b, scope);
            case CompareExpr c:
            {
                object? left = Eval(c.First, scope);
                foreach (var (op, rightExpr) in c.Rest)
                {
                    object? right = Eval(rightExpr, scope);
                    if (!Compare(op, left, right, c.Offset)) return false;
                    left = right;
                }
                return true;
            }
            case CondExpr c:
                if (JinjaValue.IsTrue(Eval(c.Test, scope))) return Eval(c.Then, scope);
                return c.Else is null ? JinjaUndefined.Instance : Eval(c.Else, scope);
            default: throw Fail($"cannot evaluate {e.GetType().Name}", e.Offset);
        }
    }

    private object? Call(CallExpr c, Scope scope)
    {
        object? callee = Eval(c.Callee, scope);
        var args = c.Args.Select(x => Eval(x, scope)).ToList();
        var kwargs = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (name, value) in c.Kwargs) kwargs[name] = Eval(value, scope);
        if (callee is JinjaCallable f)
        {
            try { return f.Invoke(args, kwargs); }
            catch (JinjaException) { throw; }
            catch (Exception ex) when (ex is ArgumentException or InvalidCastException or IndexOutOfRangeException or FormatException)
            {
                throw Fail($"{f.Name}(): {ex.Message}", c.Offset);
            }
        }
        string what = c.Callee switch
        {
            AttrExpr a => $"'{JinjaValue.TypeName(Eval(a.Target, scope))}.{a.Name}'",
            NameExpr n => $"'{n.Name}'",
            _ => "this expression",
        };
        if (callee is JinjaUndefined) throw Unsupported($"call of {what} (not a function this engine knows)", c.Offset);
        throw Fail($"{what} is a {JinjaValue.TypeName(callee)}, not a function", c.Offset);
    }

    private object? Unary(UnaryExpr u, Scope scope)
    {
        object? v = Eval(u.Operand, scope);
        switch (u.Op)
        {
            case "not": return !JinjaValue.IsTrue(v);
            case "-":
                return v switch
                {
                    long l => (object)(-l),
                    double d => -d,
                    bool b => b ? -1L : 0L,
                    _ => throw Fail($"bad operand type for unary -: '{JinjaValue.TypeName(v)}'", u.Offset),
                };
            default:
                return v switch
                {
                    long or double => v,
                    bool b => b ? 1L : 0L,
                    _ => throw Fail($"bad operand type for unary +: '{JinjaValue.TypeName(v)}'", u.Offset),
                };
        }
    }

    private object? Binary(BinaryExpr b, Scope scope)
    {
        if (b.Op == "and") { object? l = Eval(b.Left, scope); return JinjaValue.IsTrue(l) ? Eval(b.Right, scope) : l; }
        if (b.Op == "or") { object? l = Eval(b.Left, scope); return JinjaValue.IsTrue(l) ? l : Eval(b.Right, scope); }
        object? left = Eval(b.Left, scope), right = Eval(b.Right, scope);
        if (b.Op == "~") return JinjaString.Concat(JinjaValue.ToJinjaString(left), JinjaValue.ToJinjaString(right));
        if (b.Op == "+")
        {
            if (left is JinjaString ls && right is JinjaString rs) return JinjaString.Concat(ls, rs);
            if (left is JinjaList ll && right is JinjaList rl) return new JinjaList([.. ll.Items, .. rl.Items], ll.IsTuple && rl.IsTuple);
        }
        if (b.Op == "*")
        {
            if (left is JinjaString s && AsInt(right) is long n) return Repeat(s, n);
            if (left is JinjaList l && AsInt(right) is long m) return new JinjaList(Enumerable.Repeat(l.Items, (int)Math.Max(0, m)).SelectMany(x => x).ToList());
        }
        if (b.Op == "%" && left is JinjaString) throw Unsupported("printf-style string formatting ('...' % value)", b.Offset);
        if (IsNumber(left) && IsNumber(right)) return Arithmetic(b.Op, left, right, b.Offset);
        if (left is JinjaUndefined || right is JinjaUndefined)
            throw Fail($"'{b.Op}' with an undefined value (a variable or attribute the template reads is missing)", b.Offset);
        throw Fail($"unsupported operand types for {b.Op}: '{JinjaValue.TypeName(left)}' and '{JinjaValue.TypeName(right)}'", b.Offset);
    }

    private static JinjaString Repeat(JinjaString s, long n)
    {
        var b = new JinjaString.Builder();
        for (long i = 0; i < n; i++) b.Append(s);
        return b.ToJinjaString();
    }

    private static bool IsNumber(object? v) => v is long or double or bool;
    private static double AsDouble(object? v) => v switch { long l => l, double d => d, bool b => b ? 1 : 0, _ => 0 };
    internal static long? AsInt(object? v) => v switch { long l => l, bool b => b ? 1 : 0, _ => null };

    private object? Arithmetic(string op, object? left, object? right, int offset)
    {
        bool isFloat = left is double || right is double;
        if (!isFloat && op is not "/" and not "**")
        {
            long a = AsInt(left)!.Value, c = AsInt(right)!.Value;
            switch (op)
            {
                case "+": return a + c;
                case "-": return a - c;
                case "*": return a * c;
                case "//": if (c == 0) throw Fail("integer division by zero", offset); return (long)Math.Floor((double)a / c);
                case "%": if (c == 0) throw Fail("integer modulo by zero", offset); return ((a % c) + c) % c;
            }
        }
        double x = AsDouble(left), y = AsDouble(right);
        switch (op)
        {
            case "+": return x + y;
            case "-": return x - y;
            case "*": return x * y;
            case "/": if (y == 0) throw Fail("division by zero", offset); return x / y;
            case "//": if (y == 0) throw Fail("division by zero", offset); return Math.Floor(x / y);
            case "%": if (y == 0) throw Fail("modulo by zero", offset); return x - y * Math.Floor(x / y);
            case "**":
                double p = Math.Pow(x, y);
                return !isFloat && y >= 0 ? (object)(long)p : p;
        }
        throw Fail($"unknown operator {op}", offset);
    }

    internal bool Compare(string op, object? left, object? right, int offset)
    {
        switch (op)
        {
            case "==": return JinjaEquals(left, right);
            case "!=": return !JinjaEquals(left, right);
            case "in": return Contains(right, left, offset);
            case "not in": return !Contains(right, left, offset);
        }
        int c = Order(left, right, offset);
        return op switch { "<" => c < 0, "<=" => c <= 0, ">" => c > 0, _ => c >= 0 };
    }

    internal int Order(object? left, object? right, int offset)
    {
        if (IsNumber(left) && IsNumber(right)) return AsDouble(left).CompareTo(AsDouble(right));
        if (left is JinjaString a && right is JinjaString b) return string.CompareOrdinal(a.Value, b.Value);
        if (left is JinjaList la && right is JinjaList lb)
        {
            for (int i = 0; i < Math.Min(la.Count, lb.Count); i++)
            {
                if (JinjaEquals(la.Items[i], lb.Items[i])) continue;
                return Order(la.Items[i], lb.Items[i], offset);
            }
            return la.Count.CompareTo(lb.Count);
        }
        throw Fail($"cannot compare '{JinjaValue.TypeName(left)}' with '{JinjaValue.TypeName(right)}'", offset);
    }

    internal static bool JinjaEquals(object? a, object? b)
    {
        if (a is null || b is null) return a is null && b is null;
        if (IsNumber(a) && IsNumber(b)) return AsDouble(a) == AsDouble(b);
        switch (a)
        {
            case JinjaString sa: return b is JinjaString sb && sa.Value == sb.Value;
            case JinjaUndefined: return b is JinjaUndefined;
            case JinjaList la:
                if (b is not JinjaList lb || la.Count != lb.Count) return false;
                for (int i = 0; i < la.Count; i++) if (!JinjaEquals(la.Items[i], lb.Items[i])) return false;
                return true;
            case JinjaDict da:
                if (b is not JinjaDict db || da.Count != db.Count) return false;
                foreach (var kv in da.Items)
                    if (!db.TryGet(kv.Key.Value, out object? v) || !JinjaEquals(kv.Value, v)) return false;
                return true;
            default: return ReferenceEquals(a, b);
        }
    }

    private bool Contains(object? container, object? item, int offset) => container switch
    {
        JinjaString s when item is JinjaString sub => s.Value.Contains(sub.Value, StringComparison.Ordinal),
        JinjaString => throw Fail($"'in <string>' requires a string on the left, not '{JinjaValue.TypeName(item)}'", offset),
        JinjaList l => l.Items.Any(x => JinjaEquals(x, item)),
        JinjaDict d => item is JinjaString k && d.ContainsKey(k.Value),
        JinjaNamespace ns => item is JinjaString k && ns.Values.ContainsKey(k.Value),
        JinjaUndefined => false,
        _ => throw Fail($"argument of type '{JinjaValue.TypeName(container)}' is not iterable", offset),
    };

    // Attribute and item access, as Jinja2's sandbox-free getattr/getitem: dict keys first, then methods.

    internal object? GetAttribute(object? target, string name, int offset)
    {
        switch (target)
        {
            case JinjaDict d:
                if (d.TryGet(name, out object? v)) return v;
                return DictMethod(d, name) ?? (object)JinjaUndefined.Instance;
            case JinjaNamespace ns:
                return ns.Values.TryGetValue(name, out object? nv) ? nv : JinjaUndefined.Instance;
            case JinjaString s:
                return StringMethod(s, name, offset) ?? (object)JinjaUndefined.Instance;
            case JinjaList l:
                return ListMethod(l, name) ?? (object)JinjaUndefined.Instance;
            default:
                return JinjaUndefined.Instance;
        }
    }

    internal object? GetItem(object? target, object? index, int offset)
    {
        switch (target)
        {
            case JinjaDict d when index is JinjaString k:
                return d.TryGet(k.Value, out object? v) ? v : JinjaUndefined.Instance;
            case JinjaList l when AsInt(index) is long i:
                if (i < 0) i += l.Count;
                return i >= 0 && i < l.Count ? l.Items[(int)i] : JinjaUndefined.Instance;
            case JinjaString s when AsInt(index) is long i:
            {
                var cps = CodePoints(s);
                if (i < 0) i += cps.Count;
                return i >= 0 && i < cps.Count ? cps[(int)i] : JinjaUndefined.Instance;
            }
            case JinjaNamespace or JinjaDict or JinjaString or JinjaList when index is JinjaString name:
                return GetAttribute(target, name.Value, offset);
            default:
                return JinjaUndefined.Instance;
        }
    }

    private object? Slice(object? target, SliceExpr s, Scope scope)
    {
        long? Bound(Expr? x)
        {
            if (x is null) return null;
            object? v = Eval(x, scope);
            if (v is null or JinjaUndefined) return null;
            return AsInt(v) ?? throw Fail($"slice indices must be integers, not '{JinjaValue.TypeName(v)}'", x.Offset);
        }
        long? start = Bound(s.Start), stop = Bound(s.Stop), step = Bound(s.Step);
        if (step == 0) throw Fail("slice step cannot be zero", s.Offset);
        switch (target)
        {
            case JinjaList l:
                return new JinjaList(SliceIndices(l.Count, start, stop, step ?? 1).Select(i => l.Items[i]).ToList(), l.IsTuple);
            case JinjaString str:
            {
                var cps = CodePoints(str);
                var b = new JinjaString.Builder();
                foreach (int i in SliceIndices(cps.Count, start, stop, step ?? 1)) b.Append(cps[i]);
                return b.ToJinjaString();
            }
            case JinjaUndefined: return JinjaUndefined.Instance;
            default: throw Fail($"'{JinjaValue.TypeName(target)}' object is not subscriptable", s.Offset);
        }
    }

    // Python's slice.indices.
    internal static IEnumerable<int> SliceIndices(int length, long? start, long? stop, long step)
    {
        long lo, hi;
        if (step > 0)
        {
            lo = start is null ? 0 : start < 0 ? Math.Max(0, start.Value + length) : Math.Min(start.Value, length);
            hi = stop is null ? length : stop < 0 ? Math.Max(0, stop.Value + length) : Math.Min(stop.Value, length);
            for (long i = lo; i < hi; i += step) yield return (int)i;
        }
        else
        {
            lo = start is null ? length - 1 : start < 0 ? Math.Max(-1, start.Value + length) : Math.Min(start.Value, length - 1);
            hi = stop is null ? -1 : stop < 0 ? Math.Max(-1, stop.Value + length) : Math.Min(stop.Value, length - 1);
            for (long i = lo; i > hi; i += step) yield return (int)i;
        }
    }

    /// <summary>The code points of a string, each as a one-character (or surrogate pair) string with its ranges.</summary>
    internal static List<JinjaString> CodePoints(JinjaString s)
    {
        var list = new List<JinjaString>(s.Length);
        string v = s.Value;
        for (int i = 0; i < v.Length;)
        {
            int n = char.IsHighSurrogate(v[i]) && i + 1 < v.Length && char.IsLowSurrogate(v[i + 1]) ? 2 : 1;
            list.Add(s.Substring(i, n));
            i += n;
        }
        return list;
    }

    internal static int CodePointCount(string v)
    {
        int n = 0;
        for (int i = 0; i < v.Length; i++)
        {
            if (char.IsHighSurrogate(v[i]) && i + 1 < v.Length && char.IsLowSurrogate(v[i + 1])) i++;
            n++;
        }
        return n;
    }
}
