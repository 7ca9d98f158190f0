namespace SharpSeek.Hub;

/// <summary>
/// What a user names a hub model by: <c>owner/repo</c>, optionally <c>@revision</c>, optionally <c>:QUANT</c> or <c>:FILE</c>
/// (llama.cpp's <c>-hf owner/repo:Q4_K_M</c>; Ollama's <c>hf.co/</c> prefix is accepted too).
/// </summary>
public sealed record HubReference(string Repo, string Revision, string? Selector)
{
    public const string DefaultRevision = "main";

    /// <summary>The reference as a user would type it back (<c>owner/repo[@rev][:selector]</c>).</summary>
    public override string ToString() =>
        Repo + (Revision == DefaultRevision ? "" : "@" + Revision) + (Selector is null ? "" : ":" + Selector);

    /// <summary>Parses <c>[hf.co/]owner/repo[@rev][:QUANT|:FILE]</c>; null when it is not of that shape.</summary>
    public static HubReference? TryParse(string text)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        foreach (string prefix in new[] { "https://huggingface.co/", "huggingface.co/", "hf.co/" })
            if (text.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)) { text = text[prefix.Length..]; break; }
        string? selector = null;
        int colon = text.IndexOf(':', StringComparison.Ordinal);
        if (colon >= 0)
        {
            selector = text[(colon + 1)..];
            text = text[..colon];
            if (selector.Length == 0 || selector.Contains("..", StringComparison.Ordinal) || selector.StartsWith('/')) return null;
        }
        string repo = text, rev = DefaultRevision;
        int at = text.IndexOf('@', StringComparison.Ordinal);
        if (at >= 0) { repo = text[..at]; rev = text[(at + 1)..]; }
        string[] parts = repo.Split('/');
        if (parts.Length != 2 || parts.Any(p => p.Length == 0 || p.Any(char.IsWhiteSpace) || p is "." or "..")) return null;
        if (rev.Length == 0 || rev.Contains("..", StringComparison.Ordinal) || rev.Any(char.IsWhiteSpace)) return null;
        return new HubReference(repo, rev, selector);
    }

    public static HubReference Parse(string text) =>
        TryParse(text) ?? throw new SharpSeekException($"'{text}' is not a hub model: use owner/repo, owner/repo:QUANT (e.g. :Q4_K_M) or owner/repo:FILE, optionally with @revision");
}
