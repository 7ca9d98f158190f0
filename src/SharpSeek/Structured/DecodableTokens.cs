using SharpSeek.Generation;

namespace SharpSeek.Structured;

/// <summary>
/// Allows only ids the tokenizer can decode: a model's output layer may be padded past its tokenizer (DeepSeek-V3: 129,280
/// logits for 128,815 tokens), and an id past the tokenizer has no text. A trained model almost never picks one; a
/// random-weight one does, and the stream would fail on it. Grammar constraints already exclude them.
/// </summary>
public sealed class DecodableTokens(int tokenizerSize) : ITokenConstraint
{
    public void Mask(Span<float> logits)
    {
        if (logits.Length > tokenizerSize) logits[tokenizerSize..].Fill(float.NegativeInfinity);
    }

    public void Accept(int token) { }
}
