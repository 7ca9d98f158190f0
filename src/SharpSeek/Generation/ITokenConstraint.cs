namespace SharpSeek.Generation;

/// <summary>
/// A rule on which token may come next (a JSON-schema grammar, a forced tool call). The decode step masks the logits
/// with it before sampling and tells it the token that was chosen; both happen once per generated position.
/// An implementation knows the vocabulary and the end-of-sequence ids it was built for: once its text is complete it
/// allows only those, so the ordinary stop rule ends the sequence.
/// </summary>
public interface ITokenConstraint
{
    /// <summary>Sets the logit of every token that may not come next to negative infinity; leaves the others unchanged.</summary>
    void Mask(Span<float> logits);

    /// <summary>Advances past <paramref name="token"/>, which <see cref="Mask"/> allowed and which is not a stop token.</summary>
    void Accept(int token);
}
