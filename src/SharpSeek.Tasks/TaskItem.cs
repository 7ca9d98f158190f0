namespace SharpSeek.Tasks;

/// <summary>
/// One verifiable problem: the user prompt, the exact answer, and the worked solution the assistant writes
/// inside <c>&lt;think&gt;</c>. <see cref="Category"/> is the task family (addition, subtraction, multiplication,
/// expression, identity) and <see cref="Difficulty"/> its size class (easy, medium, hard).
/// </summary>
public sealed record TaskItem(string Category, string Difficulty, string Prompt, string Answer, string Reasoning)
{
    /// <summary>What the assistant writes after the R1 generation prompt (<c>&lt;｜Assistant｜&gt;&lt;think&gt;\n</c>): reasoning, <c>&lt;/think&gt;</c>, the boxed answer.</summary>
    public string Completion => Category == TaskGenerator.Identity
        ? Reasoning + "\n</think>\n\n" + Answer
        : Reasoning + "\n</think>\n\nThe answer is \\boxed{" + Answer + "}.";
}
