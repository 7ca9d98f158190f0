using System.Text;

namespace SharpSeek.Tasks;

/// <summary>An arithmetic expression tree: a number (<see cref="Op"/> = '\0') or a binary operation.</summary>
public sealed record ExprNode(char Op, long Value, ExprNode? Left, ExprNode? Right)
{
    public static ExprNode Leaf(long v) => new('\0', v, null, null);

    /// <summary>A random tree with <paramref name="ops"/> operations over numbers of up to <paramref name="maxDigits"/> digits.</summary>
    public static ExprNode Random(Random rng, int ops, int maxDigits)
    {
        if (ops == 0)
        {
            int hi = maxDigits == 1 ? 10 : 100;
            return Leaf(rng.Next(1, hi));
        }
        int left = rng.Next(ops);
        char op = "+-*"[rng.Next(3)];
        return new ExprNode(op, 0, Random(rng, left, maxDigits), Random(rng, ops - 1 - left, maxDigits));
    }

    /// <summary>Evaluated value (leaves: their number).</summary>
    public long Evaluate() => Op switch
    {
        '\0' => Value,
        '+' => Left!.Evaluate() + Right!.Evaluate(),
        '-' => Left!.Evaluate() - Right!.Evaluate(),
        _ => Left!.Evaluate() * Right!.Evaluate(),
    };

    /// <summary>Every intermediate result non-negative, every product within 3 × 1 or 2 × 2 digits.</summary>
    public bool IsValid()
    {
        if (Op == '\0') return true;
        if (!Left!.IsValid() || !Right!.IsValid()) return false;
        long a = Left.Evaluate(), b = Right.Evaluate();
        if (Op == '-' && a < b) return false;
        if (Op == '*')
        {
            int la = a.ToString(System.Globalization.CultureInfo.InvariantCulture).Length, lb = b.ToString(System.Globalization.CultureInfo.InvariantCulture).Length;
            // One single-digit factor (up to 3 × 1 digits) or two 2-digit ones: keeps the scratchpad of a 3-step expression within a few hundred tokens.
            if (Math.Min(la, lb) > 1 ? Math.Max(la, lb) > 2 : Math.Max(la, lb) > 3) return false;
        }
        return true;
    }

    private static int Precedence(char op) => op == '*' ? 2 : 1;

    /// <summary>The expression with the parentheses its tree needs (a right operand of equal precedence is bracketed, so the text's left-to-right reading is the tree).</summary>
    public string Render()
    {
        if (Op == '\0') return Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
        string l = Left!.Render(), r = Right!.Render();
        if (Left.Op != '\0' && Precedence(Left.Op) < Precedence(Op)) l = "(" + l + ")";
        if (Right.Op != '\0' && Precedence(Right.Op) <= Precedence(Op)) r = "(" + r + ")";
        return l + " " + Op + " " + r;
    }

    /// <summary>Evaluates the first operation in post-order (its scratchpad into <paramref name="sb"/>) and returns the reduced tree.</summary>
    public (ExprNode Tree, long Value) ReduceFirst(StringBuilder sb)
    {
        if (Left!.Op != '\0') { var (t, v) = Left.ReduceFirst(sb); return (this with { Left = t }, v); }
        if (Right!.Op != '\0') { var (t, v) = Right.ReduceFirst(sb); return (this with { Right = t }, v); }
        long value = WorkedSolution.Apply(sb, Op, Left.Value, Right.Value);
        return (Leaf(value), value);
    }
}
