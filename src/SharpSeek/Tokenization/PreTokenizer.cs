namespace SharpSeek.Tokenization;

/// <summary>A piece of the (normalized) text that byte-level BPE encodes on its own: a UTF-16 range, optionally with a space to prepend.</summary>
public readonly record struct PreToken(int Start, int Length, bool PrefixSpace = false);

/// <summary>
/// Splits text into pieces before BPE, with Hugging Face semantics: each step re-splits every piece
/// the previous step produced.
/// </summary>
public abstract class PreTokenizer
{
    /// <summary>Splits every piece of <paramref name="input"/> (ranges of <paramref name="text"/>) and appends the results to <paramref name="output"/>.</summary>
    public abstract void Split(ReadOnlySpan<char> text, List<PreToken> input, List<PreToken> output);

    /// <summary>Splits a whole string into pieces (a convenience for tests and tools; allocates).</summary>
    public List<PreToken> Split(string text)
    {
        var input = new List<PreToken> { new(0, text.Length) };
        var output = new List<PreToken>();
        Split(text, input, output);
        return output;
    }
}
