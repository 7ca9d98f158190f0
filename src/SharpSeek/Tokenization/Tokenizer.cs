using System.Text;

namespace SharpSeek.Tokenization;

/// <summary>
/// A byte-level BPE tokenizer as Hugging Face <c>tokenizers</c> runs it: added tokens are matched
/// first (longest at each position), the rest is normalized, pre-tokenized and BPE-encoded piece by
/// piece. Thread-safe for concurrent Encode/Decode.
/// </summary>
public sealed class Tokenizer
{
    private readonly AddedTokenMatcher _added;
    private readonly byte[][] _tokenBytes;
    private readonly bool[] _isSpecial;
    private readonly Dictionary<string, int> _addedByContent = new(StringComparer.Ordinal);

    [ThreadStatic] private static List<TextSegment>? t_segments;
    [ThreadStatic] private static List<PreToken>? t_pieces;
    [ThreadStatic] private static List<PreToken>? t_input;

    /// <summary>The BPE model (vocabulary and merges).</summary>
    public BpeModel Model { get; }

    /// <summary>The normalizer, or null for none.</summary>
    public Normalizer? Normalizer { get; }

    /// <summary>The pre-tokenizer.</summary>
    public PreTokenizer PreTokenizer { get; }

    /// <summary>Tokens matched atomically in text.</summary>
    public IReadOnlyList<AddedToken> AddedTokens { get; }

    /// <summary>Ids put before the text when special tokens are added (the post-processor's template, or BOS per <c>tokenizer_config.json</c>).</summary>
    public IReadOnlyList<int> PrefixIds { get; }

    /// <summary>Ids put after the text when special tokens are added.</summary>
    public IReadOnlyList<int> SuffixIds { get; }

    /// <summary>The beginning-of-sequence token id, if known.</summary>
    public int? BosId { get; }

    /// <summary>The end-of-sequence token id, if known.</summary>
    public int? EosId { get; }

    /// <summary>Settings from <c>tokenizer_config.json</c> (or GGUF metadata): chat template, BOS/EOS names.</summary>
    public TokenizerConfig Config { get; }

    /// <summary>One more than the largest id (the model's embedding may have more rows).</summary>
    public int VocabSize => _tokenBytes.Length;

    /// <summary>Assembles a tokenizer from its parts; usually called by <see cref="FromFile"/> and friends.</summary>
    public Tokenizer(BpeModel model, Normalizer? normalizer, PreTokenizer preTokenizer, IReadOnlyList<AddedToken> addedTokens,
        IReadOnlyList<int>? prefixIds = null, IReadOnlyList<int>? suffixIds = null, TokenizerConfig? config = null)
    {
        Model = model;
        Normalizer = normalizer;
        PreTokenizer = preTokenizer;
        AddedTokens = addedTokens;
        Config = config ?? new TokenizerConfig();
        _added = new AddedTokenMatcher(addedTokens);

        int size = model.IdToToken.Count;
        foreach (AddedToken t in addedTokens) size = Math.Max(size, t.Id + 1);
        _tokenBytes = new byte[size][];
        _isSpecial = new bool[size];
        for (int id = 0; id < model.IdToToken.Count; id++)
        {
            string? tok = model.IdToToken[id];
            if (tok is null) continue;
            // A token with a character outside the byte alphabet decodes to its own UTF-8 (as Hugging Face's ByteLevel decoder does).
            _tokenBytes[id] = ByteLevel.TryDecode(tok, out byte[] bytes) ? bytes : Encoding.UTF8.GetBytes(tok);
        }
        foreach (AddedToken t in addedTokens)
        {
            _tokenBytes[t.Id] = Encoding.UTF8.GetBytes(t.Content);
            _isSpecial[t.Id] = t.Special;
            _addedByContent[t.Content] = t.Id;
        }
        for (int id = 0; id < size; id++) _tokenBytes[id] ??= [];

        BosId = Config.BosToken is { } bos && TryGetId(bos, out int b) ? b : null;
        EosId = Config.EosToken is { } eos && TryGetId(eos, out int e) ? e : null;
        PrefixIds = prefixIds ?? (Config.AddBosToken && BosId is int bosId ? [bosId] : []);
        SuffixIds = suffixIds ?? (Config.AddEosToken && EosId is int eosId ? [eosId] : []);
    }

    /// <summary>Loads a tokenizer from a <c>tokenizer.json</c> path or a model directory holding one (and <c>tokenizer_config.json</c>).</summary>
    public static Tokenizer FromFile(string path) => TokenizerJson.LoadFile(path);

    /// <summary>Builds a tokenizer from the text of a Hugging Face <c>tokenizer.json</c> and, optionally, <c>tokenizer_config.json</c>.</summary>
    public static Tokenizer FromHuggingFaceJson(string tokenizerJson, string? tokenizerConfigJson = null, string source = "tokenizer.json") =>
        TokenizerJson.Load(tokenizerJson, tokenizerConfigJson, source);

    /// <summary>
    /// Builds a tokenizer from a GGUF vocabulary given as plain data (<c>tokenizer.ggml.tokens</c>, <c>.merges</c>,
    /// <c>.token_type</c>, <c>.bos_token_id</c>, <c>.eos_token_id</c>, <c>.pre</c>, <c>.add_bos_token</c>, <c>chat_template</c>).
    /// Control tokens (type 3) become special added tokens; user-defined ones (type 4) plain added tokens.
    /// </summary>
    public static Tokenizer FromGgufVocabulary(GgufVocabulary vocabulary) => GgufTokenizerFactory.Create(vocabulary);

    /// <summary>A tokenizer sharing this one's model, normalizer and pre-tokenizer with other added tokens, template and config (e.g. R1-Distill-Qwen from Qwen).</summary>
    public Tokenizer WithAddedTokens(IReadOnlyList<AddedToken> addedTokens, IReadOnlyList<int>? prefixIds, TokenizerConfig config) =>
        new(Model, Normalizer, PreTokenizer, addedTokens, prefixIds, [], config);

    /// <summary>Encodes <paramref name="text"/>; with <paramref name="addSpecialTokens"/> the template's BOS (and EOS) are added.</summary>
    /// <param name="text">Any string; lone surrogates are encoded as U+FFFD.</param>
    /// <param name="addSpecialTokens">Add <see cref="PrefixIds"/>/<see cref="SuffixIds"/>.</param>
    /// <param name="parseSpecial">Match special added tokens (BOS, EOS, ...) written in the text; non-special added tokens are always matched.</param>
    public int[] Encode(string text, bool addSpecialTokens = false, bool parseSpecial = true)
    {
        var ids = new List<int>(text.Length / 3 + 4);
        Encode(text, ids, addSpecialTokens, parseSpecial);
        return ids.ToArray();
    }

    /// <summary>
    /// Encodes a rendered chat prompt: added tokens (special or not) are matched only in the template's markup, never in
    /// <paramref name="content"/> ranges (conversation text), which is encoded as plain text — a user who types
    /// <c>&lt;｜Assistant｜&gt;</c> gets the ids of those characters, not the control token. Text runs between matched tokens
    /// are pre-tokenized whole, so without control-token text in the content the ids equal Hugging Face's encoding of the string.
    /// </summary>
    public int[] EncodeMarkedUp(string text, IReadOnlyList<Chat.Jinja.TextRange> content)
    {
        var ids = new List<int>(text.Length / 3 + 4);
        EncodeMarkedUp(text, content, ids, int.MaxValue);
        return ids.ToArray();
    }

    /// <summary>
    /// As <see cref="EncodeMarkedUp(string, IReadOnlyList{Chat.Jinja.TextRange})"/> into <paramref name="output"/>, stopping
    /// once it holds more than <paramref name="maxTokens"/> ids; returns how many characters were encoded (all: the length).
    /// </summary>
    public int EncodeMarkedUp(string text, IReadOnlyList<Chat.Jinja.TextRange> content, List<int> output, int maxTokens)
    {
        ArgumentNullException.ThrowIfNull(content);
        return Encode(text, output, addSpecialTokens: false, parseSpecial: true, plainRanges: content, maxTokens);
    }

    /// <summary>Appends the ids of <paramref name="text"/> to <paramref name="output"/>.</summary>
    public void Encode(string text, List<int> output, bool addSpecialTokens = false, bool parseSpecial = true) =>
        Encode(text, output, addSpecialTokens, parseSpecial, null, int.MaxValue);

    /// <summary>
    /// As <see cref="Encode(string, List{int}, bool, bool)"/>, but stops once <paramref name="output"/> holds more than
    /// <paramref name="maxTokens"/> ids (a prompt that cannot fit the context is not tokenized to its end). Returns how
    /// many characters of <paramref name="text"/> were encoded: its length when it was not cut short.
    /// </summary>
    public int Encode(string text, List<int> output, int maxTokens, bool addSpecialTokens = false, bool parseSpecial = true) =>
        Encode(text, output, addSpecialTokens, parseSpecial, null, maxTokens);

    private const int ScratchKeep = 1 << 16;

    private int Encode(string text, List<int> output, bool addSpecialTokens, bool parseSpecial, IReadOnlyList<Chat.Jinja.TextRange>? plainRanges, int maxTokens)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(output);
        try { return EncodeBounded(text, output, addSpecialTokens, parseSpecial, plainRanges, maxTokens); }
        finally
        {
            // The per-thread scratch lists must not keep a huge prompt's pieces alive for the life of the thread.
            if (t_pieces?.Capacity > ScratchKeep) t_pieces = null;
            if (t_input?.Capacity > ScratchKeep) t_input = null;
            if (t_segments?.Capacity > ScratchKeep) t_segments = null;
        }
    }

    private int EncodeBounded(string text, List<int> output, bool addSpecialTokens, bool parseSpecial, IReadOnlyList<Chat.Jinja.TextRange>? plainRanges, int maxTokens)
    {
        if (addSpecialTokens) output.AddRange(PrefixIds);
        text = ReplaceLoneSurrogates(text);
        List<TextSegment> segments = t_segments ??= [];
        segments.Clear();
        _added.Split(text, parseSpecial, segments, plainRanges);
        List<PreToken> pieces = t_pieces ??= [];
        List<PreToken> input = t_input ??= [];
        for (int s = 0; s < segments.Count; s++)
        {
            TextSegment seg = segments[s];
            if (output.Count > maxTokens) return seg.Start;
            if (seg.TokenId >= 0) { output.Add(seg.TokenId); continue; }
            string segText = seg.Start == 0 && seg.Length == text.Length ? text : text.Substring(seg.Start, seg.Length);
            if (Normalizer is not null) segText = Normalizer.Normalize(segText);
            pieces.Clear();
            input.Clear();
            input.Add(new PreToken(0, segText.Length));
            PreTokenizer.Split(segText, input, pieces);
            for (int p = 0; p < pieces.Count; p++)
            {
                PreToken piece = pieces[p];
                Model.EncodePiece(segText.AsSpan(piece.Start, piece.Length), piece.PrefixSpace, output);
                if (output.Count > maxTokens) return seg.Start + Math.Min(seg.Length, piece.Start + piece.Length);
            }
        }
        if (addSpecialTokens) output.AddRange(SuffixIds);
        return text.Length;
    }

    // Rust strings cannot hold lone surrogates; Hugging Face's bindings turn them into U+FFFD, and so do we.
    private static string ReplaceLoneSurrogates(string text)
    {
        int i = text.AsSpan().IndexOfAnyInRange('\uD800', '\uDFFF');
        if (i < 0) return text;
        char[]? copy = null;
        for (; i < text.Length; i++)
        {
            char c = text[i];
            if (!char.IsSurrogate(c)) continue;
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1])) { i++; continue; }
            copy ??= text.ToCharArray();
            copy[i] = '\uFFFD';
        }
        return copy is null ? text : new string(copy);
    }

    /// <summary>Decodes ids to text; invalid UTF-8 (a sequence cut mid-character) becomes U+FFFD.</summary>
    /// <exception cref="SharpSeekException">an id is outside the vocabulary.</exception>
    public string Decode(ReadOnlySpan<int> ids, bool skipSpecialTokens = false)
    {
        byte[] buffer = new byte[Math.Max(16, ids.Length * 4)];
        int n = 0;
        foreach (int id in ids)
        {
            ReadOnlySpan<byte> tb = GetTokenBytes(id);
            if (skipSpecialTokens && _isSpecial[id]) continue;
            if (n + tb.Length > buffer.Length) Array.Resize(ref buffer, Math.Max(buffer.Length * 2, n + tb.Length + 64));
            tb.CopyTo(buffer.AsSpan(n));
            n += tb.Length;
        }
        return Encoding.UTF8.GetString(buffer, 0, n);
    }

    /// <summary>The raw bytes token <paramref name="id"/> stands for (added tokens: their UTF-8 content).</summary>
    /// <exception cref="SharpSeekException">the id is outside the vocabulary.</exception>
    public ReadOnlySpan<byte> GetTokenBytes(int id)
    {
        if ((uint)id >= (uint)_tokenBytes.Length)
            throw new SharpSeekException($"token id {id} is outside the vocabulary (0..{_tokenBytes.Length - 1})");
        return _tokenBytes[id];
    }

    /// <summary>Whether <paramref name="id"/> is an added token (matched atomically in text).</summary>
    public bool IsAddedToken(int id)
    {
        foreach (AddedToken t in AddedTokens) if (t.Id == id) return true;
        return false;
    }

    /// <summary>Whether <paramref name="id"/> is a special (control) added token.</summary>
    public bool IsSpecial(int id) => (uint)id < (uint)_isSpecial.Length && _isSpecial[id];

    /// <summary>The id of an added token or vocabulary token string.</summary>
    public bool TryGetId(string token, out int id) =>
        _addedByContent.TryGetValue(token, out id) || Model.Vocab.TryGetValue(token, out id);

    /// <summary>The id of a token string (an added token such as <c>&lt;｜User｜&gt;</c>, or a vocabulary entry).</summary>
    /// <exception cref="SharpSeekException">the token is unknown.</exception>
    public int GetId(string token) =>
        TryGetId(token, out int id) ? id : throw new SharpSeekException($"token '{token}' is not in the vocabulary");

    /// <summary>The vocabulary string of <paramref name="id"/> (byte-level form), or the added token's content.</summary>
    public string? IdToToken(int id)
    {
        foreach (AddedToken t in AddedTokens) if (t.Id == id) return t.Content;
        return (uint)id < (uint)Model.IdToToken.Count ? Model.IdToToken[id] : null;
    }
}
