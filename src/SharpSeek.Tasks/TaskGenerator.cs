using System.Globalization;
using System.Text;

namespace SharpSeek.Tasks;

/// <summary>
/// Seeded generators of verifiable arithmetic problems with worked solutions. A problem's split is decided by a
/// stable hash of its canonical form ("482+39"), so train, validation and test never share a problem however it
/// is phrased, and the same seed always gives the same items. The one exception are the 300 one-digit facts
/// (<see cref="IsFact"/>): all of them are training problems, never held out (see <see cref="SplitOf(long, char, long)"/>).
/// </summary>
public static class TaskGenerator
{
    public const string Addition = "addition", Subtraction = "subtraction", Multiplication = "multiplication", Expression = "expression", Identity = "identity";
    public const string Easy = "easy", Medium = "medium", Hard = "hard";

    /// <summary>The arithmetic task families, in report order.</summary>
    public static readonly string[] Categories = [Addition, Subtraction, Multiplication, Expression];
    public static readonly string[] Difficulties = [Easy, Medium, Hard];

    /// <summary>The hash rule: the split a canonical problem belongs to, 80 % train, 10 % validation, 10 % test.</summary>
    public static TaskSplit SplitOf(string canonical)
    {
        ulong h = 14695981039346656037UL;
        foreach (char c in canonical) { h ^= c; h *= 1099511628211UL; }
        h ^= h >> 29; h *= 0xBF58476D1CE4E5B9UL; h ^= h >> 32;
        int bucket = (int)(h % 20);
        return bucket < 16 ? TaskSplit.Train : bucket < 18 ? TaskSplit.Validation : TaskSplit.Test;
    }

    /// <summary>
    /// A one-digit fact: <c>a op b</c> with both operands in 0..9 (300 problems over +, −, ×; zero and equal operands
    /// included). Every multi-digit column step is made of these, and they are the first thing a user tries.
    /// </summary>
    public static bool IsFact(long a, long b) => a is >= 0 and <= 9 && b is >= 0 and <= 9;

    /// <summary>
    /// The split of the binary problem <c>a op b</c>: a one-digit fact is always a training problem; any other problem
    /// follows the hash rule <see cref="SplitOf(string)"/>. The hash would hold a quarter of the 300 facts out (1 + 1
    /// among them), and a model that has never been taught 1 + 1 answers it wrongly; a finite table is taught whole,
    /// like a times table. Validation and test therefore hold no fact, and every other problem keeps the split it always had.
    /// </summary>
    public static TaskSplit SplitOf(long a, char op, long b) => IsFact(a, b) ? TaskSplit.Train : SplitOf(S(a) + op + S(b));

    /// <summary>Every one-digit fact of the operation, in order: a = 0..9, then b = 0..9 (negative differences included).</summary>
    public static IEnumerable<(long A, long B)> Facts() =>
        Enumerable.Range(0, 10).SelectMany(a => Enumerable.Range(0, 10).Select(b => ((long)a, (long)b)));

    /// <summary>
    /// <paramref name="count"/> items of <paramref name="split"/>, categories and difficulties drawn uniformly from
    /// the given lists (all arithmetic by default), plus identity/refusal items at <paramref name="identityShare"/>.
    /// </summary>
    public static List<TaskItem> Sample(TaskSplit split, int count, long seed, IReadOnlyList<string>? categories = null,
        IReadOnlyList<string>? difficulties = null, double identityShare = 0)
    {
        categories ??= Categories;
        difficulties ??= Difficulties;
        var rng = new Random(unchecked((int)(seed * 1000003 + (int)split)));
        var items = new List<TaskItem>(count);
        while (items.Count < count)
        {
            if (identityShare > 0 && rng.NextDouble() < identityShare) { items.Add(IdentityData.Sample(rng)); continue; }
            string cat = categories[rng.Next(categories.Count)], diff = difficulties[rng.Next(difficulties.Count)];
            for (int attempt = 0; attempt < 10000; attempt++)
            {
                var item = TryMake(rng, cat, diff, split);
                if (item is not null) { items.Add(item); break; }
            }
        }
        return items;
    }

    /// <summary>One item of the category and difficulty, or null when the drawn problem belongs to another split.</summary>
    public static TaskItem? TryMake(Random rng, string category, string difficulty, TaskSplit split) => category switch
    {
        Addition => Binary(rng, '+', difficulty, split),
        Subtraction => Binary(rng, '-', difficulty, split),
        Multiplication => Binary(rng, '*', difficulty, split),
        Expression => Expr(rng, difficulty, split),
        _ => throw new ArgumentException($"unknown task category '{category}'", nameof(category)),
    };

    private static string S(long v) => v.ToString(CultureInfo.InvariantCulture);

    private static long Number(Random rng, int digits) => digits == 1 ? rng.Next(0, 10) : rng.NextInt64((long)Math.Pow(10, digits - 1), (long)Math.Pow(10, digits));

    private static TaskItem? Binary(Random rng, char op, string difficulty, TaskSplit split)
    {
        int da, db;
        if (op == '*')
        {
            (da, db) = difficulty switch { Easy => (rng.Next(1, 3), 1), Medium => rng.Next(2) == 0 ? (2, 2) : (3, 1), _ => (3, 2) };
        }
        else
        {
            int max = difficulty switch { Easy => rng.Next(1, 3), Medium => 3, _ => rng.Next(4, 6) };
            da = max;
            db = rng.Next(1, max + 1);
            if (rng.Next(2) == 0) (da, db) = (db, da);
        }
        long a = Number(rng, da), b = Number(rng, db);
        // Mostly non-negative differences, some negative; a one-digit fact keeps the order it was drawn in, so all 100
        // subtraction facts come equally often, the 45 negative ones too.
        if (op == '-' && b > a && !IsFact(a, b) && rng.Next(4) != 0) (a, b) = (b, a);
        if (op == '*' && rng.Next(2) == 0) (a, b) = (b, a);
        if (SplitOf(a, op, b) != split) return null;
        var sb = new StringBuilder();
        long value = WorkedSolution.Apply(sb, op, a, b);
        string cat = op switch { '+' => Addition, '-' => Subtraction, _ => Multiplication };
        return new TaskItem(cat, difficulty, PromptPhrasing.Binary(rng, op, S(a), S(b)), S(value), sb.ToString().TrimEnd('\n'));
    }

    private static TaskItem? Expr(Random rng, string difficulty, TaskSplit split)
    {
        int ops = difficulty == Hard ? 3 : 2;
        int maxDigits = difficulty == Easy ? 1 : 2;
        var tree = ExprNode.Random(rng, ops, maxDigits);
        if (!tree.IsValid()) return null;
        string text = tree.Render();
        if (SplitOf(text.Replace(" ", "", StringComparison.Ordinal)) != split) return null;
        var sb = new StringBuilder();
        sb.Append(text.Replace(" ", "", StringComparison.Ordinal)).Append('\n');
        var current = tree;
        while (current.Op != '\0')
        {
            var (next, value) = current.ReduceFirst(sb);
            current = next;
            if (current.Op != '\0') sb.Append("now ").Append(current.Render().Replace(" ", "", StringComparison.Ordinal)).Append('\n');
            _ = value;
        }
        sb.Append(text.Replace(" ", "", StringComparison.Ordinal)).Append('=').Append(S(current.Value)).Append('\n');
        return new TaskItem(Expression, difficulty, PromptPhrasing.Expression(rng, text), S(current.Value), sb.ToString().TrimEnd('\n'));
    }
}
