namespace SharpSeek.Chat.Jinja;

// The syntax tree of a template. Every node keeps its offset in the source for error messages.

internal abstract record Node(int Offset);

internal sealed record TextNode(string Text, int Offset) : Node(Offset);
internal sealed record OutputNode(Expr Value, int Offset) : Node(Offset);
internal sealed record IfNode(IReadOnlyList<(Expr Test, IReadOnlyList<Node> Body)> Branches, IReadOnlyList<Node> Else, int Offset) : Node(Offset);
internal sealed record ForNode(IReadOnlyList<string> Targets, bool Unpack, Expr Iterable, Expr? Filter, IReadOnlyList<Node> Body, IReadOnlyList<Node> Else, int Offset) : Node(Offset);
internal sealed record SetNode(Expr Target, Expr? Value, IReadOnlyList<Node>? Body, int Offset) : Node(Offset);
internal sealed record MacroNode(string Name, IReadOnlyList<(string Name, Expr? Default)> Parameters, IReadOnlyList<Node> Body, int Offset) : Node(Offset);
internal sealed record FilterBlockNode(FilterExpr Filter, IReadOnlyList<Node> Body, int Offset) : Node(Offset);
internal sealed record BreakNode(int Offset) : Node(Offset);
internal sealed record ContinueNode(int Offset) : Node(Offset);

internal abstract record Expr(int Offset);

internal sealed record LiteralExpr(object? Value, int Offset) : Expr(Offset);
internal sealed record NameExpr(string Name, int Offset) : Expr(Offset);
internal sealed record ListExpr(IReadOnlyList<Expr> Items, int Offset) : Expr(Offset);
internal sealed record TupleExpr(IReadOnlyList<Expr> Items, int Offset) : Expr(Offset);
internal sealed record DictExpr(IReadOnlyList<(Expr Key, Expr Value)> Items, int Offset) : Expr(Offset);
internal sealed record AttrExpr(Expr Target, string Name, int Offset) : Expr(Offset);
internal sealed record ItemExpr(Expr Target, Expr Index, int Offset) : Expr(Offset);
internal sealed record SliceExpr(Expr Target, Expr? Start, Expr? Stop, Expr? Step, int Offset) : Expr(Offset);
internal sealed record CallExpr(Expr Callee, IReadOnlyList<Expr> Args, IReadOnlyList<(string Name, Expr Value)> Kwargs, int Offset) : Expr(Offset);
internal sealed record FilterExpr(Expr? Operand, string Name, IReadOnlyList<Expr> Args, IReadOnlyList<(string Name, Expr Value)> Kwargs, int Offset) : Expr(Offset);
internal sealed record TestExpr(Expr Operand, string Name, IReadOnlyList<Expr> Args, bool Negated, int Offset) : Expr(Offset);
internal sealed record UnaryExpr(string Op, Expr Operand, int Offset) : Expr(Offset);
internal sealed record BinaryExpr(string Op, Expr Left, Expr Right, int Offset) : Expr(Offset);
internal sealed record CompareExpr(Expr First, IReadOnlyList<(string Op, Expr Right)> Rest, int Offset) : Expr(Offset);
internal sealed record CondExpr(Expr Test, Expr Then, Expr? Else, int Offset) : Expr(Offset);
