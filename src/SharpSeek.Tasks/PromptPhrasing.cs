namespace SharpSeek.Tasks;

/// <summary>Varied natural phrasings of a problem, so the model learns the arithmetic rather than one sentence shape.</summary>
public static class PromptPhrasing
{
    private static readonly string[] Plus =
    [
        "What is {a} + {b}?", "What is {a} + {b}?", "What is {a} + {b}?", "What's {a} + {b}?", "Calculate {a} + {b}.", "Compute {a} + {b}.",
        "{a} + {b} = ?", "What is {a} plus {b}?", "Add {a} and {b}.", "What is the sum of {a} and {b}?", "How much is {a} + {b}?",
        "Please work out {a} + {b}.", "what is {a}+{b}", "{a}+{b}", "Find {a} + {b}.", "Can you add {a} and {b}?",
    ];

    private static readonly string[] Minus =
    [
        "What is {a} - {b}?", "What is {a} - {b}?", "What is {a} - {b}?", "What's {a} - {b}?", "Calculate {a} - {b}.", "Compute {a} - {b}.",
        "{a} - {b} = ?", "What is {a} minus {b}?", "Subtract {b} from {a}.", "How much is {a} - {b}?", "Please work out {a} - {b}.",
        "what is {a}-{b}", "{a}-{b}", "Find {a} - {b}.", "What do you get if you take {b} away from {a}?",
    ];

    private static readonly string[] Times =
    [
        "What is {a} * {b}?", "What is {a} * {b}?", "What is {a} * {b}?", "What's {a} * {b}?", "Calculate {a} * {b}.", "Compute {a} * {b}.",
        "{a} * {b} = ?", "What is {a} times {b}?", "Multiply {a} by {b}.", "What is the product of {a} and {b}?", "How much is {a} * {b}?",
        "What is {a} × {b}?", "what is {a}*{b}", "{a}*{b}", "Find {a} * {b}.", "What is {a} x {b}?",
    ];

    private static readonly string[] Expr =
    [
        "Calculate {e}.", "Calculate {e}.", "What is {e}?", "What is {e}?", "Evaluate {e}.", "Compute {e}.", "{e} = ?",
        "Work out {e}.", "What's {e}?", "Find the value of {e}.", "Please calculate {e}.", "what is {e}",
    ];

    public static string Binary(Random rng, char op, string a, string b)
    {
        var list = op switch { '+' => Plus, '-' => Minus, _ => Times };
        return list[rng.Next(list.Length)].Replace("{a}", a, StringComparison.Ordinal).Replace("{b}", b, StringComparison.Ordinal);
    }

    public static string Expression(Random rng, string expression)
    {
        string t = Expr[rng.Next(Expr.Length)];
        string e = rng.Next(5) == 0 ? expression.Replace(" ", "", StringComparison.Ordinal) : expression;
        return t.Replace("{e}", e, StringComparison.Ordinal);
    }
}
