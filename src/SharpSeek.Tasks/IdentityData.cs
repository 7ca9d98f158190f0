namespace SharpSeek.Tasks;

/// <summary>A little identity and refusal data, so out-of-domain prompts get an honest answer rather than noise.</summary>
public static class IdentityData
{
    public const string Refusal = "I can only do arithmetic: addition, subtraction, multiplication and short expressions with parentheses. Try asking something like: What is 482 + 39?";
    public const string Identity = "I am SharpSeek-tiny, a very small DeepSeek-V3-style model trained from scratch with the SharpSeek recipe. I can only do arithmetic: addition, subtraction, multiplication and short expressions with parentheses.";

    private static readonly string[] IdentityPrompts =
    [
        "Who are you?", "What are you?", "What is your name?", "Introduce yourself.", "What can you do?", "Hello!", "Hi", "hello",
        "Hey, who am I talking to?", "Are you ChatGPT?", "What model are you?", "Help", "What are you good at?",
    ];

    private static readonly string[] OutOfDomain =
    [
        "Write a poem about the sea.", "What is the capital of France?", "Tell me a joke.", "Translate 'good morning' into French.",
        "What is the weather like today?", "Who won the world cup in 2018?", "Explain quantum computing.", "Write a Python function that sorts a list.",
        "What is the meaning of life?", "Recommend a good book.", "How do I bake bread?", "What is the square root of 2?", "Solve x^2 = 9.",
        "What is 7 divided by 2?", "Summarize this text for me.", "Can you help me with my homework in history?", "What day is it?",
        "Write an email to my boss.", "What is love?", "How tall is Mount Everest?",
    ];

    public static TaskItem Sample(Random rng)
    {
        if (rng.Next(3) == 0)
        {
            string p = IdentityPrompts[rng.Next(IdentityPrompts.Length)];
            return new TaskItem(TaskGenerator.Identity, TaskGenerator.Easy, p, Identity, "The user asks about me. I should say who I am and what I can do.");
        }
        string q = OutOfDomain[rng.Next(OutOfDomain.Length)];
        return new TaskItem(TaskGenerator.Identity, TaskGenerator.Easy, q, Refusal, "This is not an addition, subtraction, multiplication or expression problem, so I cannot solve it.");
    }
}
