using System.Globalization;

namespace SharpSeek.Chat.Jinja;

/// <summary>
/// Parses tokens into a tree with Jinja2's grammar and operator precedence (lowest first): conditional expression,
/// <c>or</c>, <c>and</c>, <c>not</c>, comparisons and <c>in</c>, <c>+ -</c>, <c>~</c>, <c>* / // %</c>, <c>**</c>,
/// unary sign, then primaries with attribute, subscript, slice and call postfixes, filters (<c>|</c>) and tests (<c>is</c>).
/// </summary>
internal sealed class JinjaParser
{
    private static readonly HashSet<string> UnsupportedStatements =
        ["extends", "block", "include", "import", "from", "call", "with", "autoescape", "do", "trans", "pluralize"];

    private readonly string _source;
    private readonly List<JinjaToken> _tokens;
    private int _i;

    private JinjaParser(string source, List<JinjaToken> tokens)
    {
        _source = source;
        _tokens = tokens;
    }

    public static IReadOnlyList<Node> Parse(string source)
    {
        var p = new JinjaParser(source, JinjaLexer.Tokenize(source));
        var body = p.ParseBody([]);
        if (p.Peek.Kind != TokenKind.End) throw p.Error($"unexpected '{{% {p.PeekAt(1).Text} %}}'", p.Peek.Offset);
        return body;
    }

    private JinjaToken Peek => _tokens[_i];
    private JinjaToken PeekAt(int k) => _tokens[Math.Min(_i + k, _tokens.Count - 1)];
    private JinjaToken Next() => _tokens[_i++];

    private JinjaException Error(string message, int offset) => JinjaLexer.At(_source, offset, message);

    private JinjaUnsupportedException Unsupported(string construct, int offset) => JinjaLexer.UnsupportedAt(_source, offset, construct);

    private JinjaToken Expect(TokenKind kind, string? text, string what)
    {
        JinjaToken t = Peek;
        if (t.Kind != kind || (text is not null && t.Text != text))
            throw Error($"expected {what}, found '{(t.Kind == TokenKind.End ? "end of template" : t.Text)}'", t.Offset);
        return Next();
    }

    private void ExpectBlockEnd() => Expect(TokenKind.BlockEnd, null, "'%}'");

    // Parses nodes until a block tag whose keyword is in endKeywords (not consumed).
    private List<Node> ParseBody(HashSet<string> endKeywords)
    {
        var nodes = new List<Node>();
        while (true)
        {
            JinjaToken t = Peek;
            switch (t.Kind)
            {
                case TokenKind.End:
                    if (endKeywords.Count > 0) throw Error($"missing '{{% {string.Join("' or '{% ", endKeywords)} %}}'", t.Offset);
                    return nodes;
                case TokenKind.Text:
                    nodes.Add(new TextNode(Next().Text, t.Offset));
                    break;
                case TokenKind.VarStart:
                    Next();
                    var e = ParseTuple();
                    Expect(TokenKind.VarEnd, null, "'}}'");
                    nodes.Add(new OutputNode(e, t.Offset));
                    break;
                case TokenKind.BlockStart:
                    JinjaToken kw = PeekAt(1);
                    if (kw.Kind == TokenKind.Name && endKeywords.Contains(kw.Text)) return nodes;
                    nodes.Add(ParseStatement());
                    break;
                default:
                    throw Error($"unexpected '{t.Text}'", t.Offset);
            }
        }
    }

    private Node ParseStatement()
    {
        JinjaToken start = Next();
        JinjaToken kw = Expect(TokenKind.Name, null, "a statement keyword");
        switch (kw.Text)
        {
            case "if": return ParseIf(start.Offset);
            case "for": return ParseFor(start.Offset);
            case "set": return ParseSet(start.Offset);
            case "macro": return ParseMacro(start.Offset);
            case "filter": return ParseFilterBlock(start.Offset);
            case "break": ExpectBlockEnd(); return new BreakNode(start.Offset);
            case "continue": ExpectBlockEnd(); return new ContinueNode(start.Offset);
            default:
                if (UnsupportedStatements.Contains(kw.Text)) throw Unsupported(kw.Text, kw.Offset);
                throw Error($"unknown statement '{kw.Text}'", kw.Offset);
        }
    }

    private void ExpectEnd(string keyword)
    {
        Expect(TokenKind.BlockStart, null, $"'{{% {keyword} %}}'");
        Expect(TokenKind.Name, keyword, $"'{keyword}'");
        ExpectBlockEnd();
    }

    private IfNode ParseIf(int offset)
    {
        var branches = new List<(Expr, IReadOnlyList<Node>)>();
        IReadOnlyList<Node> elseBody = [];
        Expr test = ParseTuple();
        ExpectBlockEnd();
        while (true)
        {
            var body = ParseBody(["elif", "else", "endif"]);
            branches.Add((test, body));
            Next();
            string kw = Next().Text;
            if (kw == "elif") { test = ParseTuple(); ExpectBlockEnd(); continue; }
            if (kw == "else")
            {
                ExpectBlockEnd();
                elseBody = ParseBody(["endif"]);
                ExpectEnd("endif");
            }
            else ExpectBlockEnd();
            return new IfNode(branches, elseBody, offset);
        }
    }

    private ForNode ParseFor(int offset)
    {
        var targets = new List<string>();
        bool unpack = false, paren = false;
        if (Peek.IsOp("(")) { Next(); paren = true; unpack = true; }
        targets.Add(Expect(TokenKind.Name, null, "a loop variable").Text);
        while (Peek.IsOp(","))
        {
            Next();
            unpack = true;
            if (Peek.Kind != TokenKind.Name) break;
            targets.Add(Next().Text);
        }
        if (paren) Expect(TokenKind.Operator, ")", "')'");
        Expect(TokenKind.Name, "in", "'in'");
        Expr iterable = ParseTuple(withCondExpr: false);
        Expr? filter = null;
        if (Peek.IsName("if")) { Next(); filter = ParseExpression(); }
        if (Peek.IsName("recursive")) throw Unsupported("for ... recursive", Peek.Offset);
        ExpectBlockEnd();
        var body = ParseBody(["else", "endfor"]);
        IReadOnlyList<Node> elseBody = [];
        Next();
        if (Next().Text == "else")
        {
            ExpectBlockEnd();
            elseBody = ParseBody(["endfor"]);
            ExpectEnd("endfor");
        }
        else ExpectBlockEnd();
        return new ForNode(targets, unpack, iterable, filter, body, elseBody, offset);
    }

    private SetNode ParseSet(int offset)
    {
        JinjaToken first = Expect(TokenKind.Name, null, "a variable name");
        Expr target = new NameExpr(first.Text, first.Offset);
        if (Peek.IsOp("."))
        {
            Next();
            JinjaToken attr = Expect(TokenKind.Name, null, "an attribute name");
            target = new AttrExpr(target, attr.Text, attr.Offset);
        }
        else if (Peek.IsOp(","))
        {
            var names = new List<Expr> { target };
            while (Peek.IsOp(","))
            {
                Next();
                JinjaToken n = Expect(TokenKind.Name, null, "a variable name");
                names.Add(new NameExpr(n.Text, n.Offset));
            }
            target = new TupleExpr(names, first.Offset);
        }
        if (Peek.IsOp("="))
        {
            Next();
            Expr value = ParseTuple();
            ExpectBlockEnd();
            return new SetNode(target, value, null, offset);
        }
        if (Peek.IsOp("|")) throw Unsupported("set block with a filter", Peek.Offset);
        ExpectBlockEnd();
        var body = ParseBody(["endset"]);
        ExpectEnd("endset");
        return new SetNode(target, null, body, offset);
    }

    private MacroNode ParseMacro(int offset)
    {
        string name = Expect(TokenKind.Name, null, "a macro name").Text;
        Expect(TokenKind.Operator, "(", "'('");
        var parameters = new List<(string, Expr?)>();
        while (!Peek.IsOp(")"))
        {
            string p = Expect(TokenKind.Name, null, "a parameter name").Text;
            Expr? def = null;
            if (Peek.IsOp("=")) { Next(); def = ParseExpression(); }
            parameters.Add((p, def));
            if (!Peek.IsOp(",")) break;
            Next();
        }
        Expect(TokenKind.Operator, ")", "')'");
        ExpectBlockEnd();
        var body = ParseBody(["endmacro"]);
        ExpectEnd("endmacro");
        return new MacroNode(name, parameters, body, offset);
    }

    private FilterBlockNode ParseFilterBlock(int offset)
    {
        FilterExpr f = ParseFilterCall(null);
        ExpectBlockEnd();
        var body = ParseBody(["endfilter"]);
        ExpectEnd("endfilter");
        return new FilterBlockNode(f, body, offset);
    }

    // Expressions.

    private Expr ParseTuple(bool withCondExpr = true)
    {
        int offset = Peek.Offset;
        Expr first = withCondExpr ? ParseExpression() : ParseOr();
        if (!Peek.IsOp(",")) return first;
        var items = new List<Expr> { first };
        while (Peek.IsOp(","))
        {
            Next();
            if (IsTupleEnd()) break;
            items.Add(withCondExpr ? ParseExpression() : ParseOr());
        }
        return new TupleExpr(items, offset);
    }

    private bool IsTupleEnd() => Peek.Kind is TokenKind.BlockEnd or TokenKind.VarEnd or TokenKind.End || Peek.IsOp(")") || Peek.IsName("if");

    private Expr ParseExpression()
    {
        int offset = Peek.Offset;
        Expr e = ParseOr();
        if (!Peek.IsName("if")) return e;
        Next();
        Expr test = ParseOr();
        Expr? otherwise = null;
        if (Peek.IsName("else")) { Next(); otherwise = ParseExpression(); }
        return new CondExpr(test, e, otherwise, offset);
    }

    private Expr ParseOr()
    {
        Expr left = ParseAnd();
        while (Peek.IsName("or")) { int o = Next().Offset; left = new BinaryExpr("or", left, ParseAnd(), o); }
        return left;
    }

    private Expr ParseAnd()
    {
        Expr left = ParseNot();
        while (Peek.IsName("and")) { int o = Next().Offset; left = new BinaryExpr("and", left, ParseNot(), o); }
        return left;
    }

    private Expr ParseNot()
    {
        if (Peek.IsName("not")) { int o = Next().Offset; return new UnaryExpr("not", ParseNot(), o); }
        return ParseCompare();
    }

    private Expr ParseCompare()
    {
        int offset = Peek.Offset;
        Expr first = ParseMath1();
        var rest = new List<(string, Expr)>();
        while (true)
        {
            JinjaToken t = Peek;
            string? op = null;
            if (t.Kind == TokenKind.Operator && t.Text is "==" or "!=" or "<" or "<=" or ">" or ">=") { Next(); op = t.Text; }
            else if (t.IsName("in")) { Next(); op = "in"; }
            else if (t.IsName("not") && PeekAt(1).IsName("in")) { Next(); Next(); op = "not in"; }
            if (op is null) break;
            rest.Add((op, ParseMath1()));
        }
        return rest.Count == 0 ? first : new CompareExpr(first, rest, offset);
    }

    private Expr ParseMath1()
    {
        Expr left = ParseConcat();
        while (Peek.Kind == TokenKind.Operator && Peek.Text is "+" or "-")
        {
            JinjaToken op = Next();
            left = new BinaryExpr(op.Text, left, ParseConcat(), op.Offset);
        }
        return left;
    }

    private Expr ParseConcat()
    {
        Expr left = ParseMath2();
        while (Peek.IsOp("~")) { JinjaToken op = Next(); left = new BinaryExpr("~", left, ParseMath2(), op.Offset); }
        return left;
    }

    private Expr ParseMath2()
    {
        Expr left = ParsePow();
        while (Peek.Kind == TokenKind.Operator && Peek.Text is "*" or "/" or "//" or "%")
        {
            JinjaToken op = Next();
            left = new BinaryExpr(op.Text, left, ParsePow(), op.Offset);
        }
        return left;
    }

    private Expr ParsePow()
    {
        Expr left = ParseUnary(true);
        while (Peek.IsOp("**")) { JinjaToken op = Next(); left = new BinaryExpr("**", left, ParseUnary(true), op.Offset); }
        return left;
    }

    private Expr ParseUnary(bool withFilter)
    {
        JinjaToken t = Peek;
        Expr node;
        if (t.IsOp("-") || t.IsOp("+")) { Next(); node = new UnaryExpr(t.Text, ParseUnary(false), t.Offset); }
        else node = ParsePrimary();
        node = ParsePostfix(node);
        return withFilter ? ParseFilterTests(node) : node;
    }

    private Expr ParsePrimary()
    {
        JinjaToken t = Next();
        switch (t.Kind)
        {
            case TokenKind.Name:
                return t.Text switch
                {
                    "true" or "True" => new LiteralExpr(true, t.Offset),
                    "false" or "False" => new LiteralExpr(false, t.Offset),
                    "none" or "None" => new LiteralExpr(null, t.Offset),
                    _ => new NameExpr(t.Text, t.Offset),
                };
            case TokenKind.String:
            {
                string s = t.Text;
                while (Peek.Kind == TokenKind.String) s += Next().Text;
                return new LiteralExpr(JinjaString.Markup(s), t.Offset);
            }
            case TokenKind.Integer:
                return new LiteralExpr(long.Parse(t.Text, CultureInfo.InvariantCulture), t.Offset);
            case TokenKind.Float:
                return new LiteralExpr(double.Parse(t.Text, CultureInfo.InvariantCulture), t.Offset);
            case TokenKind.Operator when t.Text == "(":
            {
                if (Peek.IsOp(")")) { Next(); return new TupleExpr([], t.Offset); }
                Expr e = ParseExpression();
                if (Peek.IsOp(","))
                {
                    var items = new List<Expr> { e };
                    while (Peek.IsOp(",")) { Next(); if (Peek.IsOp(")")) break; items.Add(ParseExpression()); }
                    e = new TupleExpr(items, t.Offset);
                }
                Expect(TokenKind.Operator, ")", "')'");
                return e;
            }
            case TokenKind.Operator when t.Text == "[":
            {
                var items = new List<Expr>();
                while (!Peek.IsOp("]"))
                {
                    items.Add(ParseExpression());
                    if (!Peek.IsOp(",")) break;
                    Next();
                }
                Expect(TokenKind.Operator, "]", "']'");
                return new ListExpr(items, t.Offset);
            }
            case TokenKind.Operator when t.Text == "{":
            {
                var items = new List<(Expr, Expr)>();
                while (!Peek.IsOp("}"))
                {
                    Expr k = ParseExpression();
                    Expect(TokenKind.Operator, ":", "':'");
                    items.Add((k, ParseExpression()));
                    if (!Peek.IsOp(",")) break;
                    Next();
                }
                Expect(TokenKind.Operator, "}", "'}'");
                return new DictExpr(items, t.Offset);
            }
            default:
                throw Error($"unexpected '{(t.Kind == TokenKind.End ? "end of template" : t.Text)}' in an expression", t.Offset);
        }
    }

    private Expr ParsePostfix(Expr node)
    {
        while (true)
        {
            JinjaToken t = Peek;
            if (t.IsOp("."))
            {
                Next();
                JinjaToken name = Next();
                if (name.Kind == TokenKind.Name) node = new AttrExpr(node, name.Text, name.Offset);
                else if (name.Kind == TokenKind.Integer) node = new ItemExpr(node, new LiteralExpr(long.Parse(name.Text, CultureInfo.InvariantCulture), name.Offset), name.Offset);
                else throw Error("expected an attribute name after '.'", name.Offset);
            }
            else if (t.IsOp("["))
            {
                Next();
                node = ParseSubscript(node, t.Offset);
            }
            else if (t.IsOp("("))
            {
                Next();
                var (args, kwargs) = ParseCallArgs();
                node = new CallExpr(node, args, kwargs, t.Offset);
            }
            else return node;
        }
    }

    private Expr ParseSubscript(Expr target, int offset)
    {
        Expr? start = null, stop = null, step = null;
        bool slice = false;
        if (!Peek.IsOp(":")) start = ParseExpression();
        if (Peek.IsOp(":"))
        {
            slice = true;
            Next();
            if (!Peek.IsOp("]") && !Peek.IsOp(":")) stop = ParseExpression();
            if (Peek.IsOp(":"))
            {
                Next();
                if (!Peek.IsOp("]")) step = ParseExpression();
            }
        }
        Expect(TokenKind.Operator, "]", "']'");
        if (slice) return new SliceExpr(target, start, stop, step, offset);
        return new ItemExpr(target, start ?? throw Error("empty subscript", offset), offset);
    }

    private (List<Expr>, List<(string, Expr)>) ParseCallArgs()
    {
        var args = new List<Expr>();
        var kwargs = new List<(string, Expr)>();
        while (!Peek.IsOp(")"))
        {
            if (Peek.IsOp("*") || Peek.IsOp("**")) throw Unsupported("argument unpacking (*args/**kwargs)", Peek.Offset);
            if (Peek.Kind == TokenKind.Name && PeekAt(1).IsOp("="))
            {
                string name = Next().Text;
                Next();
                kwargs.Add((name, ParseExpression()));
            }
            else
            {
                if (kwargs.Count > 0) throw Error("a positional argument follows a keyword argument", Peek.Offset);
                args.Add(ParseExpression());
            }
            if (!Peek.IsOp(",")) break;
            Next();
        }
        Expect(TokenKind.Operator, ")", "')'");
        return (args, kwargs);
    }

    private Expr ParseFilterTests(Expr node)
    {
        while (true)
        {
            if (Peek.IsOp("|")) { Next(); node = ParseFilterCall(node); }
            else if (Peek.IsName("is")) { Next(); node = ParseTest(node); }
            else if (Peek.IsOp("(")) { int o = Next().Offset; var (a, k) = ParseCallArgs(); node = new CallExpr(node, a, k, o); }
            else return node;
        }
    }

    private FilterExpr ParseFilterCall(Expr? operand)
    {
        JinjaToken name = Expect(TokenKind.Name, null, "a filter name");
        string filter = name.Text;
        while (Peek.IsOp(".")) { Next(); filter += "." + Expect(TokenKind.Name, null, "a filter name").Text; }
        List<Expr> args = [];
        List<(string, Expr)> kwargs = [];
        if (Peek.IsOp("(")) { Next(); (args, kwargs) = ParseCallArgs(); }
        return new FilterExpr(operand, filter, args, kwargs, name.Offset);
    }

    private Expr ParseTest(Expr operand)
    {
        bool negated = false;
        if (Peek.IsName("not")) { Next(); negated = true; }
        JinjaToken name = Expect(TokenKind.Name, null, "a test name");
        string test = name.Text;
        var args = new List<Expr>();
        if (Peek.IsOp("("))
        {
            Next();
            var (a, k) = ParseCallArgs();
            if (k.Count > 0) throw Unsupported($"keyword arguments to the test '{test}'", name.Offset);
            args.AddRange(a);
        }
        else if ((Peek.Kind is TokenKind.Name or TokenKind.String or TokenKind.Integer or TokenKind.Float || Peek.IsOp("[") || Peek.IsOp("{"))
                 && !(Peek.Kind == TokenKind.Name && Peek.Text is "else" or "or" or "and" or "if" or "in" or "not" or "is"))
        {
            args.Add(ParsePostfix(ParsePrimary()));
        }
        return new TestExpr(operand, test, args, negated, name.Offset);
    }
}
