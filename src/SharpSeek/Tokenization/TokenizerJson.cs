using System.Text.Json;

namespace SharpSeek.Tokenization;

/// <summary>Reads Hugging Face <c>tokenizer.json</c> (+ <c>tokenizer_config.json</c>) into a <see cref="Tokenizer"/>; every problem becomes a <see cref="ModelFormatException"/> naming the file and key.</summary>
internal static class TokenizerJson
{
    public static Tokenizer LoadFile(string path)
    {
        string file = path;
        if (Directory.Exists(path)) file = Path.Combine(path, "tokenizer.json");
        if (!File.Exists(file))
            throw new ModelFormatException(Directory.Exists(path) ? $"no tokenizer.json in {path}" : $"tokenizer file not found: {path}");
        string? configText = null;
        string configPath = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(file)) ?? ".", "tokenizer_config.json");
        if (File.Exists(configPath)) configText = File.ReadAllText(configPath);
        // Parse the UTF-8 bytes directly: no UTF-16 copy of a file that can be 10 MB.
        return Load(File.ReadAllBytes(file), configText, file);
    }

    public static Tokenizer Load(string json, string? configJson, string source) =>
        Load(System.Text.Encoding.UTF8.GetBytes(json), configJson, source);

    public static Tokenizer Load(ReadOnlyMemory<byte> json, string? configJson, string source)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 256 });
        }
        catch (JsonException e)
        {
            throw new ModelFormatException($"{source}: malformed JSON ({e.Message})", e);
        }
        using (doc)
        {
            try
            {
                TokenizerConfig config = configJson is null ? new TokenizerConfig() : LoadConfig(configJson, source);
                return Build(doc.RootElement, config, source);
            }
            catch (Exception e) when (e is InvalidOperationException or KeyNotFoundException or FormatException or IndexOutOfRangeException or ArgumentException)
            {
                throw new ModelFormatException($"{source}: unexpected structure ({e.Message})", e);
            }
        }
    }

    private static Tokenizer Build(JsonElement root, TokenizerConfig config, string source)
    {
        if (root.ValueKind != JsonValueKind.Object) throw new ModelFormatException($"{source}: the top level is not a JSON object");
        JsonElement model = Required(root, "model", source);
        string type = model.TryGetProperty("type", out JsonElement t) && t.ValueKind == JsonValueKind.String ? t.GetString()! : "BPE";
        if (type != "BPE") throw new ModelFormatException($"{source}: model type '{type}' is not supported (only byte-level BPE)");
        foreach (string affix in (string[])["continuing_subword_prefix", "end_of_word_suffix"])
        {
            if (model.TryGetProperty(affix, out JsonElement a) && a.ValueKind == JsonValueKind.String && a.GetString()!.Length > 0)
                throw new ModelFormatException($"{source}: model.{affix} is not supported");
        }

        JsonElement vocabEl = Required(model, "vocab", source);
        if (vocabEl.ValueKind != JsonValueKind.Object) throw new ModelFormatException($"{source}: model.vocab is not an object");
        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (JsonProperty p in vocabEl.EnumerateObject())
        {
            if (p.Value.ValueKind != JsonValueKind.Number || !p.Value.TryGetInt32(out int id) || id < 0)
                throw new ModelFormatException($"{source}: model.vocab['{p.Name}'] is not a non-negative integer id");
            vocab[p.Name] = id;
        }

        var merges = new List<(string, string)>();
        if (model.TryGetProperty("merges", out JsonElement mergesEl) && mergesEl.ValueKind == JsonValueKind.Array)
        {
            int i = 0;
            foreach (JsonElement m in mergesEl.EnumerateArray())
            {
                if (m.ValueKind == JsonValueKind.String)
                {
                    string s = m.GetString()!;
                    int sp = s.IndexOf(' ', 1);
                    if (sp <= 0 || sp == s.Length - 1 || s.IndexOf(' ', sp + 1) >= 0)
                        throw new ModelFormatException($"{source}: model.merges[{i}] '{s}' is not two tokens separated by one space");
                    merges.Add((s[..sp], s[(sp + 1)..]));
                }
                else if (m.ValueKind == JsonValueKind.Array && m.GetArrayLength() == 2 &&
                         m[0].ValueKind == JsonValueKind.String && m[1].ValueKind == JsonValueKind.String)
                {
                    merges.Add((m[0].GetString()!, m[1].GetString()!));
                }
                else throw new ModelFormatException($"{source}: model.merges[{i}] is neither \"a b\" nor [\"a\",\"b\"]");
                i++;
            }
        }
        else throw new ModelFormatException($"{source}: model.merges is missing");
        bool ignoreMerges = model.TryGetProperty("ignore_merges", out JsonElement im) && im.ValueKind == JsonValueKind.True;
        var bpe = new BpeModel(vocab, merges, ignoreMerges);

        var added = new List<AddedToken>();
        if (root.TryGetProperty("added_tokens", out JsonElement addedEl) && addedEl.ValueKind == JsonValueKind.Array)
        {
            int i = 0;
            foreach (JsonElement a in addedEl.EnumerateArray())
            {
                if (!a.TryGetProperty("id", out JsonElement idEl) || !idEl.TryGetInt32(out int id) || id < 0 ||
                    !a.TryGetProperty("content", out JsonElement c) || c.ValueKind != JsonValueKind.String)
                    throw new ModelFormatException($"{source}: added_tokens[{i}] needs an integer 'id' and a string 'content'");
                added.Add(new AddedToken(id, c.GetString()!, Bool(a, "special"), Bool(a, "lstrip"), Bool(a, "rstrip")));
                i++;
            }
        }

        Normalizer? normalizer = root.TryGetProperty("normalizer", out JsonElement n) ? ParseNormalizer(n, source) : null;
        bool byteLevelSeen = false;
        PreTokenizer pre = root.TryGetProperty("pre_tokenizer", out JsonElement pt) && pt.ValueKind != JsonValueKind.Null
            ? ParsePreTokenizer(pt, source, ref byteLevelSeen)
            : new PreTokenizerSequence([]);
        if (!byteLevelSeen && !(root.TryGetProperty("decoder", out JsonElement dec) && dec.ValueKind == JsonValueKind.Object &&
                                 dec.TryGetProperty("type", out JsonElement dt) && dt.GetString() == "ByteLevel"))
            throw new ModelFormatException($"{source}: not a byte-level BPE tokenizer (no ByteLevel pre-tokenizer or decoder); only byte-level BPE is supported");

        List<int>? prefix = null, suffix = null;
        if (root.TryGetProperty("post_processor", out JsonElement post) && post.ValueKind == JsonValueKind.Object)
            ParsePostProcessor(post, source, ref prefix, ref suffix);

        return new Tokenizer(bpe, normalizer, pre, added, prefix, suffix, config);
    }

    private static Normalizer? ParseNormalizer(JsonElement n, string source)
    {
        if (n.ValueKind == JsonValueKind.Null) return null;
        string type = TypeOf(n, "normalizer", source);
        switch (type)
        {
            case "NFC": return new NormalizerNfc();
            case "Sequence":
            {
                var steps = new List<Normalizer>();
                foreach (JsonElement s in Required(n, "normalizers", source).EnumerateArray())
                {
                    Normalizer? step = ParseNormalizer(s, source);
                    if (step is not null) steps.Add(step);
                }
                return steps.Count == 0 ? null : new NormalizerSequence(steps);
            }
            default: throw new ModelFormatException($"{source}: normalizer '{type}' is not supported (supported: NFC, Sequence)");
        }
    }

    private static PreTokenizer ParsePreTokenizer(JsonElement p, string source, ref bool byteLevel)
    {
        string type = TypeOf(p, "pre_tokenizer", source);
        switch (type)
        {
            case "Sequence":
            {
                var steps = new List<PreTokenizer>();
                foreach (JsonElement s in Required(p, "pretokenizers", source).EnumerateArray()) steps.Add(ParsePreTokenizer(s, source, ref byteLevel));
                return new PreTokenizerSequence(steps);
            }
            case "Split":
            {
                JsonElement pattern = Required(p, "pattern", source);
                string regex;
                if (pattern.TryGetProperty("Regex", out JsonElement r)) regex = r.GetString()!;
                else if (pattern.TryGetProperty("String", out JsonElement s)) regex = EscapeLiteral(s.GetString()!);
                else throw new ModelFormatException($"{source}: Split pattern needs 'Regex' or 'String'");
                string behavior = p.TryGetProperty("behavior", out JsonElement b) ? b.GetString()! : "Isolated";
                SplitBehavior sb = behavior switch
                {
                    "Isolated" => SplitBehavior.Isolated,
                    "Removed" => SplitBehavior.Removed,
                    "MergedWithPrevious" => SplitBehavior.MergedWithPrevious,
                    "MergedWithNext" => SplitBehavior.MergedWithNext,
                    _ => throw new ModelFormatException($"{source}: Split behavior '{behavior}' is not supported"),
                };
                return new PreTokenizerSplit(CodePointRegex.Compile(regex), sb, Bool(p, "invert"));
            }
            case "ByteLevel":
                byteLevel = true;
                return new PreTokenizerByteLevel(Bool(p, "add_prefix_space"), !p.TryGetProperty("use_regex", out JsonElement u) || u.ValueKind == JsonValueKind.True);
            default:
                throw new ModelFormatException($"{source}: pre-tokenizer '{type}' is not supported (supported: Sequence, Split, ByteLevel)");
        }
    }

    private static void ParsePostProcessor(JsonElement post, string source, ref List<int>? prefix, ref List<int>? suffix)
    {
        string type = TypeOf(post, "post_processor", source);
        if (type == "Sequence")
        {
            foreach (JsonElement p in Required(post, "processors", source).EnumerateArray()) ParsePostProcessor(p, source, ref prefix, ref suffix);
            return;
        }
        if (type != "TemplateProcessing") return; // ByteLevel and the rest only adjust offsets
        var specials = new Dictionary<string, int[]>(StringComparer.Ordinal);
        if (post.TryGetProperty("special_tokens", out JsonElement st) && st.ValueKind == JsonValueKind.Object)
        {
            foreach (JsonProperty prop in st.EnumerateObject())
            {
                var ids = new List<int>();
                foreach (JsonElement id in Required(prop.Value, "ids", source).EnumerateArray()) ids.Add(id.GetInt32());
                specials[prop.Name] = ids.ToArray();
            }
        }
        prefix = [];
        suffix = [];
        bool afterSequence = false;
        foreach (JsonElement piece in Required(post, "single", source).EnumerateArray())
        {
            if (piece.TryGetProperty("Sequence", out _)) { afterSequence = true; continue; }
            if (piece.TryGetProperty("SpecialToken", out JsonElement sp))
            {
                string name = Required(sp, "id", source).GetString()!;
                if (!specials.TryGetValue(name, out int[]? ids))
                    throw new ModelFormatException($"{source}: post_processor template names '{name}', which is not in its special_tokens");
                (afterSequence ? suffix : prefix).AddRange(ids);
            }
        }
    }

    private static TokenizerConfig LoadConfig(string json, string source)
    {
        string file = Path.Combine(Path.GetDirectoryName(source) ?? "", "tokenizer_config.json");
        JsonDocument doc;
        try { doc = JsonDocument.Parse(json); }
        catch (JsonException e) { throw new ModelFormatException($"{file}: malformed JSON ({e.Message})", e); }
        using (doc)
        {
            JsonElement r = doc.RootElement;
            if (r.ValueKind != JsonValueKind.Object) throw new ModelFormatException($"{file}: the top level is not a JSON object");
            string? template = null;
            if (r.TryGetProperty("chat_template", out JsonElement ct))
            {
                if (ct.ValueKind == JsonValueKind.String) template = ct.GetString();
                else if (ct.ValueKind == JsonValueKind.Array)
                {
                    foreach (JsonElement e in ct.EnumerateArray())
                    {
                        if (e.TryGetProperty("name", out JsonElement nm) && nm.GetString() == "default" && e.TryGetProperty("template", out JsonElement tt))
                            template = tt.GetString();
                    }
                }
            }
            return new TokenizerConfig
            {
                ChatTemplate = template,
                BosToken = TokenString(r, "bos_token"),
                EosToken = TokenString(r, "eos_token"),
                AddBosToken = Bool(r, "add_bos_token"),
                AddEosToken = Bool(r, "add_eos_token"),
                TokenizerClass = r.TryGetProperty("tokenizer_class", out JsonElement tc) && tc.ValueKind == JsonValueKind.String ? tc.GetString() : null,
            };
        }
    }

    private static string? TokenString(JsonElement r, string name)
    {
        if (!r.TryGetProperty(name, out JsonElement e)) return null;
        if (e.ValueKind == JsonValueKind.String) return e.GetString();
        if (e.ValueKind == JsonValueKind.Object && e.TryGetProperty("content", out JsonElement c) && c.ValueKind == JsonValueKind.String) return c.GetString();
        return null;
    }

    private static string EscapeLiteral(string s)
    {
        var sb = new System.Text.StringBuilder();
        for (int i = 0; i < s.Length;)
        {
            int cp = CodePoint.At(s, i, out int len);
            sb.Append("\\x{").Append(cp.ToString("X", System.Globalization.CultureInfo.InvariantCulture)).Append('}');
            i += len;
        }
        return sb.ToString();
    }

    private static string TypeOf(JsonElement e, string what, string source)
    {
        if (e.ValueKind != JsonValueKind.Object || !e.TryGetProperty("type", out JsonElement t) || t.ValueKind != JsonValueKind.String)
            throw new ModelFormatException($"{source}: {what} has no 'type'");
        return t.GetString()!;
    }

    private static JsonElement Required(JsonElement e, string name, string source)
    {
        if (e.ValueKind != JsonValueKind.Object || !e.TryGetProperty(name, out JsonElement v))
            throw new ModelFormatException($"{source}: missing '{name}'");
        return v;
    }

    private static bool Bool(JsonElement e, string name) => e.TryGetProperty(name, out JsonElement v) && v.ValueKind == JsonValueKind.True;
}
