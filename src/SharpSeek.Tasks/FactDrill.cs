using System.Text;

namespace SharpSeek.Tasks;

/// <summary>
/// Pretraining documents of one-digit facts, written exactly as the scratchpads write them ("8+4+1=13",
/// "4*6=24+4=28", "3-1-7 borrow 12-7=5"). Almost every error of the first bundled model was a wrong one-digit fact
/// inside otherwise correct steps; a worked solution spends about one token in twelve on a fact, a drill nearly
/// every other one, and it covers all facts evenly where solutions follow the skew of random numbers.
/// </summary>
public static class FactDrill
{
    /// <summary>A document of <paramref name="lines"/> random facts of the kinds the scratchpads use.</summary>
    public static string Document(Random rng, int lines)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < lines; i++)
        {
            int a = rng.Next(10), b = rng.Next(10);
            switch (rng.Next(3))
            {
                case 0: AdditionFact(sb, a, b, rng.Next(2)); break;
                case 1: SubtractionFact(sb, a, b, rng.Next(2)); break;
                default: MultiplicationFact(sb, a, b, rng.Next(2) == 0 ? 0 : rng.Next(1, 9)); break;
            }
            sb.Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>One addition column: "a+b=s" or, with a carry in, "a+b+1=s".</summary>
    public static void AdditionFact(StringBuilder sb, int a, int b, int carry)
    {
        sb.Append(a).Append('+').Append(b);
        if (carry > 0) sb.Append('+').Append(carry);
        sb.Append('=').Append(a + b + carry);
    }

    /// <summary>One subtraction column as <see cref="WorkedSolution.Subtract"/> writes it, with or without a borrow in.</summary>
    public static void SubtractionFact(StringBuilder sb, int top, int bottom, int borrow)
    {
        int t = top - borrow;
        sb.Append(top);
        if (borrow > 0) sb.Append('-').Append(borrow);
        sb.Append('-').Append(bottom);
        if (t < bottom) sb.Append(" borrow ").Append(t + 10).Append('-').Append(bottom).Append('=').Append(t + 10 - bottom);
        else sb.Append('=').Append(t - bottom);
    }

    /// <summary>One multiplication column: "a*b=p" or, with a carry in, "a*b=p+c=q".</summary>
    public static void MultiplicationFact(StringBuilder sb, int a, int b, int carry)
    {
        sb.Append(a).Append('*').Append(b).Append('=').Append(a * b);
        if (carry > 0) sb.Append('+').Append(carry).Append('=').Append(a * b + carry);
    }
}
