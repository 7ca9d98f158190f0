using System.Text;

namespace SharpSeek.Tokenization;

/// <summary>
/// Turns tokens into text as they arrive. Bytes of a UTF-8 sequence that a token left unfinished are
/// held until the next token completes it, so no broken character or stray U+FFFD is emitted mid-character,
/// and the concatenation of all outputs (and <see cref="Flush"/>) equals <see cref="Tokenizer.Decode"/> of all ids.
/// Not thread-safe: one per stream.
/// </summary>
public sealed class StreamingDetokenizer(Tokenizer tokenizer, bool skipSpecialTokens = false)
{
    private byte[] _pending = new byte[64];
    private int _count;

    /// <summary>The tokenizer.</summary>
    public Tokenizer Tokenizer { get; } = tokenizer ?? throw new ArgumentNullException(nameof(tokenizer));

    /// <summary>Whether special tokens (BOS/EOS/...) are left out of the text.</summary>
    public bool SkipSpecialTokens { get; } = skipSpecialTokens;

    /// <summary>Adds one token and returns the text it completes (possibly empty).</summary>
    /// <exception cref="SharpSeekException">the id is outside the vocabulary.</exception>
    public string Push(int id)
    {
        ReadOnlySpan<byte> bytes = Tokenizer.GetTokenBytes(id);
        if (SkipSpecialTokens && Tokenizer.IsSpecial(id)) return "";
        if (_count + bytes.Length > _pending.Length) Array.Resize(ref _pending, Math.Max(_pending.Length * 2, _count + bytes.Length));
        bytes.CopyTo(_pending.AsSpan(_count));
        _count += bytes.Length;
        int cut = CompletePrefix(_pending.AsSpan(0, _count));
        if (cut == 0) return "";
        string text = Encoding.UTF8.GetString(_pending, 0, cut);
        _pending.AsSpan(cut, _count - cut).CopyTo(_pending);
        _count -= cut;
        return text;
    }

    /// <summary>Adds several tokens and returns the text they complete.</summary>
    public string Push(ReadOnlySpan<int> ids)
    {
        var sb = new StringBuilder();
        foreach (int id in ids) sb.Append(Push(id));
        return sb.ToString();
    }

    /// <summary>Emits whatever is held (an unfinished sequence becomes U+FFFD, as in a full decode) and resets.</summary>
    public string Flush()
    {
        string text = _count == 0 ? "" : Encoding.UTF8.GetString(_pending, 0, _count);
        _count = 0;
        return text;
    }

    /// <summary>Whether bytes of an unfinished character are held.</summary>
    public bool HasPending => _count > 0;

    // The length of the longest prefix that ends before a trailing, possibly incomplete, UTF-8 sequence.
    // A lead byte always starts a new sequence in the decoder, so cutting right before one never changes
    // how the bytes before it decode.
    internal static int CompletePrefix(ReadOnlySpan<byte> b)
    {
        int n = b.Length;
        for (int back = 1; back <= 3 && back <= n; back++)
        {
            byte c = b[n - back];
            if ((c & 0xC0) == 0x80) continue; // continuation byte: keep looking for its lead
            int need = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xC2 && c <= 0xDF ? 2 : 1;
            return need > back ? n - back : n;
        }
        return n;
    }
}
