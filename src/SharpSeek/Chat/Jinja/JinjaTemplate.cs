using System.Globalization;

namespace SharpSeek.Chat.Jinja;

/// <summary>
/// A parsed Jinja template (the subset chat templates use), rendered as Hugging Face's <c>apply_chat_template</c> does:
/// Jinja2 with <c>trim_blocks</c> and <c>lstrip_blocks</c>, the <c>loopcontrols</c> extension, and the globals
/// <c>raise_exception</c>, <c>strftime_now</c>, <c>range</c>, <c>namespace</c> and <c>dict</c>. The output is a
/// <see cref="JinjaString"/> that knows which characters came from the data passed in.
/// </summary>
public sealed class JinjaTemplate
{
    private readonly IReadOnlyList<Node> _body;

    private JinjaTemplate(string source, IReadOnlyList<Node> body)
    {
        Source = source;
        _body = body;
    }

    /// <summary>The template text.</summary>
    public string Source { get; }

    /// <summary>Parses a template.</summary>
    /// <exception cref="JinjaException">a syntax error or an unsupported construct (with its line and column).</exception>
    public static JinjaTemplate Parse(string source)
    {
        ArgumentNullException.ThrowIfNull(source);
        var body = JinjaParser.Parse(source);
        new JinjaInterpreter(source).Validate(body);
        return new JinjaTemplate(source, body);
    }

    /// <summary>Renders with <paramref name="variables"/> (runtime values; see <see cref="JinjaValue"/>); <paramref name="now"/> is what <c>strftime_now</c> formats.</summary>
    /// <exception cref="JinjaRaisedException">the template called <c>raise_exception</c>.</exception>
    /// <exception cref="JinjaException">an error while rendering (with its line and column).</exception>
    public JinjaString Render(IReadOnlyDictionary<string, object?> variables, DateTimeOffset? now = null)
    {
        ArgumentNullException.ThrowIfNull(variables);
        var interp = new JinjaInterpreter(Source);
        var globals = new JinjaInterpreter.Scope(null);
        DateTimeOffset clock = now ?? DateTimeOffset.Now;
        globals.Vars["range"] = new JinjaCallable("range", Range);
        globals.Vars["namespace"] = new JinjaCallable("namespace", (args, kwargs) =>
        {
            var ns = new JinjaNamespace();
            if (args.Count > 0 && args[0] is JinjaDict d) foreach (var kv in d.Items) ns.Values[kv.Key.Value] = kv.Value;
            foreach (var kv in kwargs) ns.Values[kv.Key] = kv.Value;
            return ns;
        });
        globals.Vars["dict"] = new JinjaCallable("dict", (args, kwargs) =>
        {
            var d = new JinjaDict();
            if (args.Count > 0 && args[0] is JinjaDict src) foreach (var kv in src.Items) d.Set(kv.Key, kv.Value);
            foreach (var kv in kwargs) d.Set(kv.Key, kv.Value);
            return d;
        });
        globals.Vars["raise_exception"] = new JinjaCallable("raise_exception", (args, _) =>
            throw new JinjaRaisedException(args.Count > 0 ? JinjaValue.ToPlainString(args[0]) : "the chat template raised an exception"));
        globals.Vars["strftime_now"] = new JinjaCallable("strftime_now", (args, _) =>
            JinjaString.Markup(Strftime(clock, args.Count > 0 ? JinjaValue.ToPlainString(args[0]) : "")));
        var scope = new JinjaInterpreter.Scope(globals);
        foreach (var kv in variables) scope.Vars[kv.Key] = kv.Value;
        var output = new JinjaString.Builder();
        interp.Render(_body, scope, output);
        return output.ToJinjaString();
    }

    private static object? Range(List<object?> args, Dictionary<string, object?> kwargs)
    {
        long start = 0, stop, step = 1;
        if (args.Count == 1) stop = JinjaInterpreter.AsInt(args[0]) ?? throw new ArgumentException("range needs integers");
        else if (args.Count >= 2)
        {
            start = JinjaInterpreter.AsInt(args[0]) ?? throw new ArgumentException("range needs integers");
            stop = JinjaInterpreter.AsInt(args[1]) ?? throw new ArgumentException("range needs integers");
            if (args.Count > 2) step = JinjaInterpreter.AsInt(args[2]) ?? throw new ArgumentException("range needs integers");
        }
        else throw new ArgumentException("range expected at least 1 argument");
        if (step == 0) throw new ArgumentException("range() arg 3 must not be zero");
        var items = new List<object?>();
        for (long i = start; step > 0 ? i < stop : i > stop; i += step)
        {
            items.Add(i);
            if (items.Count > 1_000_000) throw new ArgumentException("range() too large");
        }
        return new JinjaList(items);
    }

    private static string Strftime(DateTimeOffset t, string format)
    {
        var sb = new System.Text.StringBuilder();
        for (int i = 0; i < format.Length; i++)
        {
            if (format[i] != '%' || i + 1 >= format.Length) { sb.Append(format[i]); continue; }
            char c = format[++i];
            sb.Append(c switch
            {
                'Y' => t.Year.ToString("0000", CultureInfo.InvariantCulture),
                'y' => (t.Year % 100).ToString("00", CultureInfo.InvariantCulture),
                'm' => t.Month.ToString("00", CultureInfo.InvariantCulture),
                'd' => t.Day.ToString("00", CultureInfo.InvariantCulture),
                'H' => t.Hour.ToString("00", CultureInfo.InvariantCulture),
                'M' => t.Minute.ToString("00", CultureInfo.InvariantCulture),
                'S' => t.Second.ToString("00", CultureInfo.InvariantCulture),
                'b' => CultureInfo.InvariantCulture.DateTimeFormat.GetAbbreviatedMonthName(t.Month),
                'B' => CultureInfo.InvariantCulture.DateTimeFormat.GetMonthName(t.Month),
                'a' => CultureInfo.InvariantCulture.DateTimeFormat.GetAbbreviatedDayName(t.DayOfWeek),
                'A' => CultureInfo.InvariantCulture.DateTimeFormat.GetDayName(t.DayOfWeek),
                'j' => t.DayOfYear.ToString("000", CultureInfo.InvariantCulture),
                '%' => "%",
                _ => "%" + c,
            });
        }
        return sb.ToString();
    }
}
