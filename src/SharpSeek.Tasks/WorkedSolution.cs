using System.Globalization;
using System.Text;

namespace SharpSeek.Tasks;

/// <summary>
/// Column-method scratchpads for the <c>&lt;think&gt;</c> part, e.g. <c>48+3 8+3+1=12 carry1 got21</c>. Each column step
/// rewrites the digits still to use, names the two it uses now, the carry and the result digits so far, so every token the model writes is a local copy
/// or a one-digit fact: the form a small model can learn to generalise rather than memorise. Written without
/// spaces because each space before a digit costs a token, and a CPU-trained model's budget is tokens.
/// </summary>
public static class WorkedSolution
{
    private static string S(long v) => v.ToString(CultureInfo.InvariantCulture);

    /// <summary>a + b, column by column from the ones: "2+9=11 carry1 got1".</summary>
    public static void Add(StringBuilder sb, long a, long b)
    {
        sb.Append(S(a)).Append('+').Append(S(b)).Append(":\n");
        string x = S(a), y = S(b), partial = "";
        int n = Math.Max(x.Length, y.Length), carry = 0;
        for (int i = 0; i < n; i++)
        {
            int dx = Digit(x, i), dy = Digit(y, i);
            int s = dx + dy + carry;
            sb.Append(Rest(x, i)).Append('+').Append(Rest(y, i)).Append(' ');
            FactDrill.AdditionFact(sb, dx, dy, carry);
            carry = s / 10;
            partial = (s % 10).ToString(CultureInfo.InvariantCulture) + partial;
            sb.Append(" carry").Append(carry).Append(" got").Append(partial).Append('\n');
        }
        if (carry > 0)
        {
            partial = "1" + partial;
            sb.Append("last got").Append(partial).Append('\n');
        }
        sb.Append(S(a)).Append('+').Append(S(b)).Append('=').Append(S(a + b)).Append('\n');
        _ = partial;
    }

    /// <summary>a − b; for b &gt; a it computes b − a and negates. Borrow form: "2-7 borrow 12-7=5 got5".</summary>
    public static void Subtract(StringBuilder sb, long a, long b)
    {
        sb.Append(S(a)).Append('-').Append(S(b)).Append(":\n");
        if (b > a)
        {
            sb.Append(S(b)).Append(" is bigger, so compute ").Append(S(b)).Append('-').Append(S(a)).Append(" and negate\n");
            (a, b) = (b, a);
        }
        string x = S(a), y = S(b), partial = "";
        int borrow = 0;
        for (int i = 0; i < x.Length; i++)
        {
            int dx = Digit(x, i), dy = Digit(y, i);
            int top = dx - borrow;
            sb.Append(Rest(x, i)).Append('-').Append(Rest(y, i)).Append(' ');
            FactDrill.SubtractionFact(sb, dx, dy, borrow);
            if (top < dy)
            {
                partial = S(top + 10 - dy) + partial;
                borrow = 1;
            }
            else
            {
                partial = S(top - dy) + partial;
                borrow = 0;
            }
            sb.Append(" got").Append(partial).Append('\n');
        }
        _ = partial;
    }

    /// <summary>Finishes a subtraction scratchpad with its result line (after <see cref="Subtract"/>).</summary>
    public static void SubtractResult(StringBuilder sb, long a, long b) =>
        sb.Append(S(a)).Append('-').Append(S(b)).Append('=').Append(S(a - b)).Append('\n');

    /// <summary>a × b by partial products: one row per digit of b (each a digit-by-digit multiply), then their column sum.</summary>
    public static void Multiply(StringBuilder sb, long a, long b)
    {
        sb.Append(S(a)).Append('*').Append(S(b)).Append(":\n");
        if (S(b).Length > S(a).Length)
        {
            // Fewer rows when the shorter number supplies the digits.
            sb.Append("swap ").Append(S(b)).Append('*').Append(S(a)).Append('\n');
            MultiplyRows(sb, b, a);
            sb.Append(S(a)).Append('*').Append(S(b)).Append('=').Append(S(a * b)).Append('\n');
            return;
        }
        MultiplyRows(sb, a, b);
        sb.Append(S(a)).Append('*').Append(S(b)).Append('=').Append(S(a * b)).Append('\n');
    }

    private static void MultiplyRows(StringBuilder sb, long a, long b)
    {
        string y = S(b);
        var rows = new List<long>();
        for (int j = 0; j < y.Length; j++)
        {
            int d = Digit(y, j);
            long place = (long)Math.Pow(10, j);
            bool rows1 = y.Length == 1; // one row: the row is the product, no header or row total needed
            if (!rows1) sb.Append(S(a)).Append('*').Append(S(d * place)).Append(":\n");
            string x = S(a), partial = "";
            int carry = 0;
            for (int i = 0; i < x.Length; i++)
            {
                int dx = Digit(x, i);
                int p = dx * d + carry;
                sb.Append(Rest(x, i)).Append('*').Append(d).Append(' ');
                // The product and the carry as two one-step facts ("4*6=24+4=28"): a tiny model learns the
                // 100 products and a small addition far more reliably than 900 fused "a*b+c" facts.
                FactDrill.MultiplicationFact(sb, dx, d, carry);
                carry = p / 10;
                partial = S(p % 10) + partial;
                sb.Append(" carry").Append(carry).Append(" got").Append(partial).Append('\n');
            }
            if (carry > 0) sb.Append("last got").Append(S(carry) + partial).Append('\n');
            long row = a * d * place;
            rows.Add(row);
            if (!rows1) sb.Append(S(a)).Append('*').Append(S(d * place)).Append('=').Append(S(row)).Append('\n');
        }
        long total = rows[0];
        for (int j = 1; j < rows.Count; j++)
        {
            Add(sb, total, rows[j]);
            total += rows[j];
        }
    }

    /// <summary>One binary operation with its scratchpad; returns the value.</summary>
    public static long Apply(StringBuilder sb, char op, long a, long b)
    {
        switch (op)
        {
            case '+': Add(sb, a, b); return a + b;
            case '-': Subtract(sb, a, b); SubtractResult(sb, a, b); return a - b;
            case '*':
                if (a < 0 || b < 0) throw new ArgumentException("multiplication scratchpads take non-negative operands");
                Multiply(sb, a, b); return a * b;
            default: throw new ArgumentException($"unknown operator '{op}'", nameof(op));
        }
    }

    /// <summary>
    /// The digits not yet used after <paramref name="i"/> columns: each step starts by rewriting what is left, so
    /// its digits are the last ones of that line (a lookup next to a separator) and no step has to count columns,
    /// the mistake that cost the first bundled model most of its 4- and 5-digit problems.
    /// </summary>
    private static string Rest(string s, int i) => i < s.Length ? s[..(s.Length - i)] : "";

    /// <summary>The i-th digit from the right (0 = ones), 0 past the number's length.</summary>
    private static int Digit(string s, int i) => i < s.Length ? s[s.Length - 1 - i] - '0' : 0;
}
