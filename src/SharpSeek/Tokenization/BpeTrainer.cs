using System.Text;
using System.Text.Json;

namespace SharpSeek.Tokenization;

/// <summary>Settings for <see cref="BpeTrainer"/>.</summary>
public sealed record BpeTrainerOptions
{
    /// <summary>The target vocabulary size, special tokens and the 256 byte tokens included.</summary>
    public int VocabSize { get; init; } = 8192;

    /// <summary>Pairs seen fewer times than this are never merged.</summary>
    public int MinFrequency { get; init; } = 2;

    /// <summary>Special tokens, given the first ids in this order (the first is BOS, the second EOS in the written config).</summary>
    public IReadOnlyList<string> SpecialTokens { get; init; } =
        [DeepSeekSpecial.Bos, DeepSeekSpecial.Eos, DeepSeekSpecial.User, DeepSeekSpecial.Assistant, "<think>", "</think>"];

    /// <summary>Isolated-split pre-tokenizer patterns; DeepSeek-V3's by default (digits in threes, CJK runs, code punctuation kept apart).</summary>
    public IReadOnlyList<string> PreTokenizerPatterns { get; init; } = Tokenization.PreTokenizerPatterns.DeepSeekV3;

    private static class DeepSeekSpecial
    {
        public const string Bos = "<｜begin▁of▁sentence｜>";
        public const string Eos = "<｜end▁of▁sentence｜>";
        public const string User = "<｜User｜>";
        public const string Assistant = "<｜Assistant｜>";
    }
}

/// <summary>
/// Trains a byte-level BPE vocabulary from a corpus and writes it as a Hugging Face <c>tokenizer.json</c>
/// that this tokenizer and Hugging Face's load identically. Merges are chosen by highest pair count
/// (ties: lowest left id, then lowest right id), with incremental pair counts and a lazy max-queue.
/// </summary>
public static class BpeTrainer
{
    /// <summary>Trains on <paramref name="corpus"/> (documents or lines) and returns the <c>tokenizer.json</c> text.</summary>
    /// <exception cref="ArgumentException">the vocabulary size cannot hold the special and byte tokens.</exception>
    public static string TrainToJson(IEnumerable<string> corpus, BpeTrainerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(corpus);
        options ??= new BpeTrainerOptions();
        int baseSize = options.SpecialTokens.Count + 256;
        if (options.VocabSize < baseSize)
            throw new ArgumentException($"vocabulary size {options.VocabSize} is smaller than the {baseSize} special and byte tokens", nameof(options));

        // 1. Count pre-tokenized words (special tokens in the corpus are not learned from).
        PreTokenizer pre = Tokenization.PreTokenizerPatterns.Build(options.PreTokenizerPatterns);
        var specialMatcher = new AddedTokenMatcher(MakeAdded(options.SpecialTokens));
        var wordCounts = new Dictionary<string, long>(StringComparer.Ordinal);
        var segments = new List<TextSegment>();
        var input = new List<PreToken>();
        var pieces = new List<PreToken>();
        foreach (string doc in corpus)
        {
            if (string.IsNullOrEmpty(doc)) continue;
            segments.Clear();
            specialMatcher.Split(doc, true, segments);
            foreach (TextSegment seg in segments)
            {
                if (seg.TokenId >= 0) continue;
                string text = doc.Substring(seg.Start, seg.Length);
                input.Clear();
                pieces.Clear();
                input.Add(new PreToken(0, text.Length));
                pre.Split(text, input, pieces);
                foreach (PreToken p in pieces)
                {
                    string w = text.Substring(p.Start, p.Length);
                    wordCounts[w] = wordCounts.GetValueOrDefault(w) + 1;
                }
            }
        }

        // 2. Symbols: special tokens, then the 256 byte characters in byte order, then merges.
        var tokens = new List<string>(options.VocabSize);
        tokens.AddRange(options.SpecialTokens);
        int byteBase = tokens.Count;
        for (int b = 0; b < 256; b++) tokens.Add(ByteLevel.ByteToChar((byte)b).ToString());
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < tokens.Count; i++) ids.TryAdd(tokens[i], i);

        var words = new List<int[]>(wordCounts.Count);
        var lengths = new List<int>(wordCounts.Count);
        var freqs = new List<long>(wordCounts.Count);
        foreach (var (w, count) in wordCounts)
        {
            byte[] bytes = Encoding.UTF8.GetBytes(w);
            var syms = new int[bytes.Length];
            for (int i = 0; i < bytes.Length; i++) syms[i] = byteBase + bytes[i];
            words.Add(syms);
            lengths.Add(syms.Length);
            freqs.Add(count);
        }

        // 3. Pair counts and where each pair occurs.
        var pairCounts = new Dictionary<long, long>(PairKeyComparer.Instance);
        var pairWords = new Dictionary<long, HashSet<int>>(PairKeyComparer.Instance);
        for (int wi = 0; wi < words.Count; wi++) AddPairs(words[wi], lengths[wi], freqs[wi], wi, pairCounts, pairWords);
        var queue = new PriorityQueue<long, (long NegCount, long Pair)>();
        foreach (var (pair, count) in pairCounts) queue.Enqueue(pair, (-count, pair));

        var merges = new List<(string, string)>();
        while (tokens.Count < options.VocabSize && queue.TryDequeue(out long best, out var prio))
        {
            long count = pairCounts.GetValueOrDefault(best);
            if (count != -prio.NegCount) { if (count > 0) queue.Enqueue(best, (-count, best)); continue; } // stale
            if (count < options.MinFrequency) break;
            int a = (int)(best >> 32), b = (int)(best & 0xFFFFFFFF);
            string merged = tokens[a] + tokens[b];
            // Two merge paths may build the same string (ab+c, a+bc): the merge is kept, the token is not duplicated.
            if (!ids.TryGetValue(merged, out int newId))
            {
                newId = tokens.Count;
                tokens.Add(merged);
                ids[merged] = newId;
            }
            merges.Add((tokens[a], tokens[b]));

            var touched = new HashSet<long>(PairKeyComparer.Instance);
            foreach (int wi in pairWords[best])
            {
                int[] w = words[wi];
                int len = lengths[wi];
                RemovePairs(w, len, freqs[wi], pairCounts, touched);
                int write = 0;
                for (int i = 0; i < len; i++)
                {
                    if (i + 1 < len && w[i] == a && w[i + 1] == b) { w[write++] = newId; i++; }
                    else w[write++] = w[i];
                }
                lengths[wi] = write;
                AddPairs(w, write, freqs[wi], wi, pairCounts, pairWords, touched);
            }
            pairWords.Remove(best);
            foreach (long p in touched)
            {
                long c = pairCounts.GetValueOrDefault(p);
                if (c > 0) queue.Enqueue(p, (-c, p));
            }
        }
        return WriteJson(tokens, options.SpecialTokens.Count, merges, options.PreTokenizerPatterns);
    }

    /// <summary>Trains and writes <c>tokenizer.json</c> and <c>tokenizer_config.json</c> (BOS/EOS = the first two special tokens) into <paramref name="directory"/>.</summary>
    public static Tokenizer TrainToDirectory(IEnumerable<string> corpus, string directory, BpeTrainerOptions? options = null)
    {
        options ??= new BpeTrainerOptions();
        string json = TrainToJson(corpus, options);
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, "tokenizer.json"), json);
        using (var stream = File.Create(Path.Combine(directory, "tokenizer_config.json")))
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteBoolean("add_bos_token", false);
            w.WriteBoolean("add_eos_token", false);
            if (options.SpecialTokens.Count > 0) w.WriteString("bos_token", options.SpecialTokens[0]);
            if (options.SpecialTokens.Count > 1) w.WriteString("eos_token", options.SpecialTokens[1]);
            w.WriteString("tokenizer_class", "PreTrainedTokenizerFast");
            w.WriteEndObject();
        }
        return Tokenizer.FromFile(directory);
    }

    private static List<AddedToken> MakeAdded(IReadOnlyList<string> specials)
    {
        var list = new List<AddedToken>();
        for (int i = 0; i < specials.Count; i++) list.Add(new AddedToken(i, specials[i], true));
        return list;
    }

    private static long Key(int a, int b) => (long)a << 32 | (uint)b;

    private static void AddPairs(int[] w, int len, long freq, int wi, Dictionary<long, long> counts, Dictionary<long, HashSet<int>> where, HashSet<long>? touched = null)
    {
        for (int i = 0; i + 1 < len; i++)
        {
            long k = Key(w[i], w[i + 1]);
            counts[k] = counts.GetValueOrDefault(k) + freq;
            if (!where.TryGetValue(k, out var set)) where[k] = set = [];
            set.Add(wi);
            touched?.Add(k);
        }
    }

    private static void RemovePairs(int[] w, int len, long freq, Dictionary<long, long> counts, HashSet<long> touched)
    {
        for (int i = 0; i + 1 < len; i++)
        {
            long k = Key(w[i], w[i + 1]);
            counts[k] -= freq;
            touched.Add(k);
        }
    }

    private static string WriteJson(List<string> tokens, int specialCount, List<(string, string)> merges, IReadOnlyList<string> patterns)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = false, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteString("version", "1.0");
            w.WriteNull("truncation");
            w.WriteNull("padding");
            w.WriteStartArray("added_tokens");
            for (int i = 0; i < specialCount; i++)
            {
                w.WriteStartObject();
                w.WriteNumber("id", i);
                w.WriteString("content", tokens[i]);
                w.WriteBoolean("single_word", false);
                w.WriteBoolean("lstrip", false);
                w.WriteBoolean("rstrip", false);
                w.WriteBoolean("normalized", false);
                w.WriteBoolean("special", true);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteNull("normalizer");
            w.WriteStartObject("pre_tokenizer");
            w.WriteString("type", "Sequence");
            w.WriteStartArray("pretokenizers");
            foreach (string p in patterns)
            {
                w.WriteStartObject();
                w.WriteString("type", "Split");
                w.WriteStartObject("pattern");
                w.WriteString("Regex", p);
                w.WriteEndObject();
                w.WriteString("behavior", "Isolated");
                w.WriteBoolean("invert", false);
                w.WriteEndObject();
            }
            w.WriteStartObject();
            w.WriteString("type", "ByteLevel");
            w.WriteBoolean("add_prefix_space", false);
            w.WriteBoolean("trim_offsets", true);
            w.WriteBoolean("use_regex", false);
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteStartObject("post_processor");
            w.WriteString("type", "ByteLevel");
            w.WriteBoolean("add_prefix_space", true);
            w.WriteBoolean("trim_offsets", false);
            w.WriteBoolean("use_regex", true);
            w.WriteEndObject();
            w.WriteStartObject("decoder");
            w.WriteString("type", "ByteLevel");
            w.WriteBoolean("add_prefix_space", true);
            w.WriteBoolean("trim_offsets", true);
            w.WriteBoolean("use_regex", true);
            w.WriteEndObject();
            w.WriteStartObject("model");
            w.WriteString("type", "BPE");
            w.WriteNull("dropout");
            w.WriteNull("unk_token");
            w.WriteNull("continuing_subword_prefix");
            w.WriteNull("end_of_word_suffix");
            w.WriteBoolean("fuse_unk", false);
            w.WriteBoolean("byte_fallback", false);
            w.WriteBoolean("ignore_merges", false);
            w.WriteStartObject("vocab");
            for (int i = 0; i < tokens.Count; i++) w.WriteNumber(tokens[i], i);
            w.WriteEndObject();
            w.WriteStartArray("merges");
            foreach (var (a, b) in merges) w.WriteStringValue(a + " " + b);
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(ms.ToArray());
    }
}
