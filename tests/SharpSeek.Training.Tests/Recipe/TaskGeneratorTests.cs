using System.Data;
using System.Globalization;
using SharpSeek.Training.Recipe;

namespace SharpSeek.Training.Tests.Recipe;

public sealed class TaskGeneratorTests
{
    [Fact]
    public void SameSeedSameItems_DifferentSeedDifferentItems()
    {
        var a = TaskGenerator.Sample(TaskSplit.Train, 50, 7);
        var b = TaskGenerator.Sample(TaskSplit.Train, 50, 7);
        var c = TaskGenerator.Sample(TaskSplit.Train, 50, 8);
        Assert.Equal(a, b);
        Assert.NotEqual(a.Select(i => i.Prompt), c.Select(i => i.Prompt));
    }

    [Fact]
    public void SplitsAreDisjointByProblem()
    {
        static HashSet<string> Problems(TaskSplit s) =>
            TaskGenerator.Sample(s, 1500, 3).Select(i => i.Reasoning.Split('\n')[0].TrimEnd(':')).ToHashSet();
        var train = Problems(TaskSplit.Train);
        var val = Problems(TaskSplit.Validation);
        var test = Problems(TaskSplit.Test);
        Assert.Empty(train.Intersect(test));
        Assert.Empty(train.Intersect(val));
        Assert.Empty(val.Intersect(test));
    }

    [Fact]
    public void OneDigitFactsAreAllTrainingProblems_AndEveryOtherProblemKeepsItsHashSplit()
    {
        // The hash rule itself is unchanged (these splits are what it has always given) ...
        Assert.Equal(TaskSplit.Test, TaskGenerator.SplitOf("1+1"));
        Assert.Equal(TaskSplit.Validation, TaskGenerator.SplitOf("0+0"));
        Assert.Equal(TaskSplit.Test, TaskGenerator.SplitOf("3*4"));
        // ... a one-digit fact is a training problem whatever the hash says ...
        foreach (char op in "+-*")
            foreach (var (a, b) in TaskGenerator.Facts())
                Assert.Equal(TaskSplit.Train, TaskGenerator.SplitOf(a, op, b));
        // ... and any other problem follows the hash rule.
        var rng = new Random(4);
        for (int i = 0; i < 2000; i++)
        {
            long a = rng.Next(0, 100_000), b = rng.Next(10, 1000);
            char op = "+-*"[i % 3];
            Assert.Equal(TaskGenerator.SplitOf(string.Create(CultureInfo.InvariantCulture, $"{a}{op}{b}")), TaskGenerator.SplitOf(a, op, b));
        }
        // So the held-out splits hold no fact: the problem line of every held-out binary item has a multi-digit operand.
        foreach (var split in new[] { TaskSplit.Validation, TaskSplit.Test })
            foreach (var item in TaskGenerator.Sample(split, 1500, 6, [TaskGenerator.Addition, TaskGenerator.Subtraction, TaskGenerator.Multiplication], [TaskGenerator.Easy]))
                Assert.True(Operands(item).Any(o => o.Length > 1), $"{split} holds the fact {item.Reasoning.Split('\n')[0]}");
    }

    [Fact]
    public void TrainingCoversEveryOneDigitFact_ZeroEqualOperandsAndNegativeDifferencesIncluded()
    {
        var seen = new HashSet<string>();
        var counts = new Dictionary<string, int>();
        foreach (var item in TaskGenerator.Sample(TaskSplit.Train, 40_000, 9, [TaskGenerator.Addition, TaskGenerator.Subtraction, TaskGenerator.Multiplication], [TaskGenerator.Easy]))
        {
            if (Operands(item).Any(o => o.Length > 1)) continue;
            string problem = item.Reasoning.Split('\n')[0].TrimEnd(':');
            seen.Add(problem);
            counts[problem] = counts.GetValueOrDefault(problem) + 1;
        }
        foreach (char op in "+-*")
            foreach (var (a, b) in TaskGenerator.Facts())
                Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"{a}{op}{b}"), seen);
        // One-digit differences come in the order drawn: a negative one as often as its positive mirror.
        int negative = counts.Where(kv => kv.Key.Contains('-', StringComparison.Ordinal) && kv.Key[0] < kv.Key[2]).Sum(kv => kv.Value);
        int positive = counts.Where(kv => kv.Key.Contains('-', StringComparison.Ordinal) && kv.Key[0] > kv.Key[2]).Sum(kv => kv.Value);
        Assert.InRange(negative / (double)positive, 0.85, 1.15);
        var sb = new System.Text.StringBuilder();
        WorkedSolution.Apply(sb, '-', 3, 5);
        Assert.Equal("3-5:\n5 is bigger, so compute 5-3 and negate\n5-3 5-3=2 got2\n3-5=-2\n", sb.ToString());
    }

    [Fact]
    public void SanitySuiteAsksEveryOneDigitFactOnce_AsPeopleTypeIt()
    {
        var items = EvalSuites.Get("sanity");
        Assert.Equal(300, items.Count);
        Assert.Equal(300, items.Select(i => i.Prompt).Distinct().Count());
        Assert.Equal([100, 100, 100], items.GroupBy(i => i.Category).Select(g => g.Count()));
        Assert.Contains(new EvalItem("What is 1 + 1?", "2", TaskGenerator.Addition), items);
        Assert.Contains(new EvalItem("What is 0 - 9?", "-9", TaskGenerator.Subtraction), items);
        Assert.Contains(new EvalItem("What is 7 * 7?", "49", TaskGenerator.Multiplication), items);
        Assert.Equal(45, items.Count(i => i.Answer.StartsWith('-')));
        foreach (var item in items)
        {
            var expr = item.Prompt["What is ".Length..^1].Replace(" ", "", StringComparison.Ordinal);
            Assert.Equal(Convert.ToInt64(new DataTable().Compute(expr, null), CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture), item.Answer);
        }
    }

    /// <summary>The operands of a binary item, from the first line of its worked solution ("482+39:").</summary>
    private static string[] Operands(TaskItem item) => item.Reasoning.Split('\n')[0].TrimEnd(':').Split('+', '-', '*');

    [Fact]
    public void EveryCategoryAndDifficultyAppears_WithLabels()
    {
        var items = TaskGenerator.Sample(TaskSplit.Test, 600, 1);
        foreach (var c in TaskGenerator.Categories)
            foreach (var d in TaskGenerator.Difficulties)
                Assert.Contains(items, i => i.Category == c && i.Difficulty == d);
    }

    [Fact]
    public void AnswersAreCorrect_AndTheWorkedSolutionEndsInThem()
    {
        foreach (var item in TaskGenerator.Sample(TaskSplit.Train, 800, 11))
        {
            // The first reasoning line restates the problem as an expression; evaluate it independently.
            string expr = item.Reasoning.Split('\n')[0].TrimEnd(':');
            var value = Convert.ToInt64(new DataTable().Compute(expr, null), CultureInfo.InvariantCulture);
            Assert.Equal(value.ToString(CultureInfo.InvariantCulture), item.Answer);
            Assert.EndsWith("=" + item.Answer, item.Reasoning, StringComparison.Ordinal);
            Assert.Equal(item.Answer, AnswerExtractor.Extract(item.Completion));
        }
    }

    [Fact]
    public void ColumnStepsCarryAndBorrow()
    {
        var sb = new System.Text.StringBuilder();
        WorkedSolution.Add(sb, 482, 39);
        Assert.Equal("482+39:\n482+39 2+9=11 carry1 got1\n48+3 8+3+1=12 carry1 got21\n4+ 4+0+1=5 carry0 got521\n482+39=521\n", sb.ToString());
        sb.Clear();
        WorkedSolution.Apply(sb, '-', 1200, 457);
        Assert.EndsWith("1200-457=743\n", sb.ToString(), StringComparison.Ordinal);
        Assert.Contains("borrow", sb.ToString(), StringComparison.Ordinal);
        sb.Clear();
        WorkedSolution.Apply(sb, '*', 34, 27);
        Assert.Contains("34*7 4*7=28 carry2 got8\n3*7 3*7=21+2=23 carry2 got38\nlast got238\n", sb.ToString(), StringComparison.Ordinal);
        Assert.Contains("34*7=238", sb.ToString(), StringComparison.Ordinal);
        Assert.Contains("34*20=680", sb.ToString(), StringComparison.Ordinal);
        Assert.EndsWith("34*27=918\n", sb.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void FactDrills_AreCorrect_CoverEveryKind_AndMatchTheScratchpadForm()
    {
        var lines = FactDrill.Document(new Random(3), 600).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(600, lines.Length);
        int add = 0, sub = 0, mul = 0;
        foreach (string line in lines)
        {
            // Every '=' in a line states the value of everything before it, read left to right.
            string[] parts = line.Replace(" borrow ", "=", StringComparison.Ordinal).Split('=');
            if (line.Contains('*', StringComparison.Ordinal)) mul++; else if (line.Contains('-', StringComparison.Ordinal)) sub++; else add++;
            if (line.Contains(" borrow ", StringComparison.Ordinal))
            {
                // "3-1-7 borrow 12-7=5": the borrowed top is the first two terms plus ten.
                var head = parts[0].Split('-').Select(t => int.Parse(t, CultureInfo.InvariantCulture)).ToArray();
                var tail = parts[1].Split('-').Select(t => int.Parse(t, CultureInfo.InvariantCulture)).ToArray();
                int top = head.Length == 3 ? head[0] - head[1] : head[0];
                Assert.True(top < head[^1], line);
                Assert.Equal(top + 10, tail[0]);
                Assert.Equal(tail[0] - tail[1], int.Parse(parts[2], CultureInfo.InvariantCulture));
                continue;
            }
            long value = Eval(parts[0]);
            for (int i = 1; i < parts.Length; i++)
            {
                string[] chained = parts[i].Split('+');
                Assert.Equal(value, long.Parse(chained[0], CultureInfo.InvariantCulture));
                value = chained.Select(t => long.Parse(t, CultureInfo.InvariantCulture)).Sum();
            }
        }
        Assert.True(add > 150 && sub > 150 && mul > 150, $"{add} {sub} {mul}");

        var sb = new System.Text.StringBuilder();
        WorkedSolution.Apply(sb, '+', 98, 5);
        Assert.Contains("8+5=13", sb.ToString(), StringComparison.Ordinal);
        Assert.Contains("9+0+1=10", sb.ToString(), StringComparison.Ordinal);

        static long Eval(string s)
        {
            if (s.Contains('*', StringComparison.Ordinal)) { var f = s.Split('*'); return long.Parse(f[0], CultureInfo.InvariantCulture) * long.Parse(f[1], CultureInfo.InvariantCulture); }
            if (s.Contains('+', StringComparison.Ordinal)) return s.Split('+').Select(t => long.Parse(t, CultureInfo.InvariantCulture)).Sum();
            var t = s.Split('-').Select(x => long.Parse(x, CultureInfo.InvariantCulture)).ToArray();
            return t[0] - t.Skip(1).Sum();
        }
    }

    [Fact]
    public void PromptsAreVaried_AndIncludeTheIssueForms()
    {
        var prompts = TaskGenerator.Sample(TaskSplit.Train, 2000, 5).Select(i => i.Prompt).ToList();
        Assert.Contains(prompts, p => p.StartsWith("What is ", StringComparison.Ordinal) && p.Contains(" + ", StringComparison.Ordinal) && p.EndsWith('?'));
        Assert.Contains(prompts, p => p.StartsWith("What is ", StringComparison.Ordinal) && p.Contains(" - ", StringComparison.Ordinal));
        Assert.Contains(prompts, p => p.StartsWith("What is ", StringComparison.Ordinal) && p.Contains(" * ", StringComparison.Ordinal));
        Assert.Contains(prompts, p => p.StartsWith("Calculate (", StringComparison.Ordinal) && p.EndsWith('.'));
        Assert.True(prompts.Select(p => new string(p.Where(char.IsLetter).ToArray())).Distinct().Count() > 20);
    }

    [Fact]
    public void IdentityItemsRefuseHonestly()
    {
        var items = TaskGenerator.Sample(TaskSplit.Train, 300, 2, identityShare: 0.2).Where(i => i.Category == TaskGenerator.Identity).ToList();
        Assert.NotEmpty(items);
        Assert.All(items, i => Assert.Contains("I can only do arithmetic", i.Completion, StringComparison.Ordinal));
    }
}
