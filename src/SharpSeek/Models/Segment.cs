namespace SharpSeek.Models;

/// <summary>
/// One sequence's part of a forward step: the tokens to feed after what <see cref="State"/> holds (one to decode, k + 1 to
/// verify k drafted tokens, or a prefill chunk), and where its outputs go. A step can mix any segments of different sequences
/// (each sequence at most once); every layer runs once for all their rows.
/// </summary>
public readonly record struct Segment(InferenceState State, ReadOnlyMemory<int> Tokens)
{
    /// <summary>Empty: no logits. V floats: the last token's. Tokens·V floats: every token's (row t after tokens[0..t]).</summary>
    public Memory<float> Logits { get; init; }

    /// <summary>
    /// The final-normed hidden states (what the head reads, and what DeepSeek's MTP layer takes): empty, D floats (the last
    /// token's) or Tokens·D floats (every token's).
    /// </summary>
    public Memory<float> Hidden { get; init; }
}
