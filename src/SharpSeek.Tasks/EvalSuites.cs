using System.Globalization;

namespace SharpSeek.Tasks;

/// <summary>
/// Named evaluation sets: held-out ones drawn from the generators' validation and test splits (fixed seeds, so a suite is
/// always the same items), and <c>sanity</c>, every one-digit fact.
/// </summary>
public static class EvalSuites
{
    public static readonly string[] Names = ["test", "validation", "test-small", "test-hard", "smoke", "test-addition", "test-subtraction", "test-multiplication", "test-expression", "sanity"];

    public static List<EvalItem> Get(string name) => name switch
    {
        "test" => Make(TaskSplit.Test, 600, null),
        "validation" => Make(TaskSplit.Validation, 300, null),
        "test-small" => Make(TaskSplit.Test, 120, null),
        // The hardest split: hard problems of every category (5-digit sums and differences, 3×2-digit products, 3-step expressions).
        "test-hard" => Make(TaskSplit.Test, 300, null, [TaskGenerator.Hard]),
        "smoke" => Make(TaskSplit.Test, 8, null),
        "sanity" => Sanity(),
        _ when name.StartsWith("test-", StringComparison.Ordinal) && TaskGenerator.Categories.Contains(name[5..]) => Make(TaskSplit.Test, 150, [name[5..]]),
        _ => throw new SharpSeekException($"unknown suite '{name}' (known: {string.Join(", ", Names)})"),
    };

    /// <summary>
    /// Every one-digit addition, subtraction and multiplication, a and b in 0..9 (300 problems; differences are negative
    /// when b &gt; a, as the subtraction task allows), asked the way people type them: "What is 1 + 1?". Not held out:
    /// these facts are all training problems (<see cref="TaskGenerator.SplitOf(long, char, long)"/>), so the suite shows
    /// that the model answers the first things a user tries, not that it generalises; the test split does that.
    /// </summary>
    public static List<EvalItem> Sanity()
    {
        var items = new List<EvalItem>(300);
        foreach (var (op, category) in new[] { ('+', TaskGenerator.Addition), ('-', TaskGenerator.Subtraction), ('*', TaskGenerator.Multiplication) })
            foreach (var (a, b) in TaskGenerator.Facts())
            {
                long value = op switch { '+' => a + b, '-' => a - b, _ => a * b };
                items.Add(new EvalItem(string.Create(CultureInfo.InvariantCulture, $"What is {a} {op} {b}?"), value.ToString(CultureInfo.InvariantCulture), category));
            }
        return items;
    }

    private static List<EvalItem> Make(TaskSplit split, int n, string[]? categories, string[]? difficulties = null) =>
        TaskGenerator.Sample(split, n, seed: 20260101, categories, difficulties).Select(EvalItem.From).ToList();
}
