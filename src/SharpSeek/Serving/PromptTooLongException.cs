using System.Globalization;

namespace SharpSeek.Serving;

/// <summary>
/// A prompt that cannot fit the context. Tokenizing stops once it is known not to fit, so the total is measured when
/// it was reached and otherwise estimated from the share of the text that was tokenized.
/// </summary>
public sealed class PromptTooLongException(int tokens, bool complete, long estimatedTokens, int contextSize)
    : SharpSeekException(Describe(tokens, complete, estimatedTokens, contextSize))
{
    public int ContextSize { get; } = contextSize;

    /// <summary>The prompt's length in tokens: exact when <see cref="Complete"/>, else estimated.</summary>
    public long PromptTokens { get; } = complete ? tokens : estimatedTokens;

    /// <summary>Whether the whole prompt was tokenized.</summary>
    public bool Complete { get; } = complete;

    /// <summary>From a bounded encoding: <paramref name="tokens"/> ids from the first <paramref name="encodedChars"/> of <paramref name="totalChars"/> characters.</summary>
    public static PromptTooLongException From(int tokens, int encodedChars, int totalChars, int contextSize)
    {
        bool complete = encodedChars >= totalChars;
        long estimate = complete || encodedChars <= 0 ? tokens : (long)Math.Ceiling((double)tokens * totalChars / encodedChars);
        return new PromptTooLongException(tokens, complete, Math.Max(estimate, tokens), contextSize);
    }

    private static string Describe(int tokens, bool complete, long estimate, int context)
    {
        // A prompt needs room for at least one generated token.
        int fits = context - 1;
        return complete
            ? string.Create(CultureInfo.InvariantCulture, $"the prompt has {tokens} tokens; the context holds {context}, so it is {tokens - fits} tokens too long (at most {fits} leave room for an answer)")
            : string.Create(CultureInfo.InvariantCulture, $"the prompt is about {estimate} tokens (tokenizing stopped after {tokens}); the context holds {context}, so it is about {estimate - fits} tokens too long (at most {fits} leave room for an answer)");
    }
}
