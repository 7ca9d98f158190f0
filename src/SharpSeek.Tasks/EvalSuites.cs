namespace SharpSeek.Tasks;

/// <summary>Named evaluation sets drawn from the generators' held-out splits (fixed seeds, so a suite is always the same items).</summary>
public static class EvalSuites
{
    public static readonly string[] Names = ["test", "validation", "test-small", "test-hard", "smoke", "test-addition", "test-subtraction", "test-multiplication", "test-expression"];

    public static List<EvalItem> Get(string name) => name switch
    {
        "test" => Make(TaskSplit.Test, 600, null),
        "validation" => Make(TaskSplit.Validation, 300, null),
        "test-small" => Make(TaskSplit.Test, 120, null),
        // The hardest split: hard problems of every category (5-digit sums and differences, 3×2-digit products, 3-step expressions).
        "test-hard" => Make(TaskSplit.Test, 300, null, [TaskGenerator.Hard]),
        "smoke" => Make(TaskSplit.Test, 8, null),
        _ when name.StartsWith("test-", StringComparison.Ordinal) && TaskGenerator.Categories.Contains(name[5..]) => Make(TaskSplit.Test, 150, [name[5..]]),
        _ => throw new SharpSeekException($"unknown suite '{name}' (known: {string.Join(", ", Names)})"),
    };

    private static List<EvalItem> Make(TaskSplit split, int n, string[]? categories, string[]? difficulties = null) =>
        TaskGenerator.Sample(split, n, seed: 20260101, categories, difficulties).Select(EvalItem.From).ToList();
}
