using SharpSeek.Chat;
using SharpSeek.Formats.Gguf;
using SharpSeek.Models;
using SharpSeek.Structured;
using SharpSeek.Tools;
using SharpSeek.Tokenization;

namespace SharpSeek.Serving;

/// <summary>
/// What it takes to chat with a model: the weights, the tokenizer and the chat template, from a Hugging Face
/// directory (tokenizer.json beside config.json) or a GGUF file (vocabulary in its metadata).
/// </summary>
public sealed class ModelBundle : IDisposable
{
    private ModelBundle(Transformer model, Tokenizer tokenizer, ChatTemplate template, string name)
    {
        Model = model;
        Tokenizer = tokenizer;
        Template = template;
        Name = name;
        var stops = new HashSet<int>(model.Config.EosTokenIds);
        if (tokenizer.EosId is int eos) stops.Add(eos);
        if (tokenizer.TryGetId(template.EndOfTurnToken, out int eot)) stops.Add(eot);
        StopTokens = stops;
        ToolFormat = ToolCallFormat.For(tokenizer, template);
        TemplateRendersTools = ToolPrompt.RendersTools(template);
        _grammars = new Lazy<GrammarCache>(() => new GrammarCache(TokenVocabulary.From(Tokenizer, Model.Config.VocabSize, StopTokens)));
    }

    private readonly Lazy<GrammarCache> _grammars;

    /// <summary>Whether the model's chat template renders the request's <c>tools</c> itself (Qwen's do; DeepSeek's do not).</summary>
    public bool TemplateRendersTools { get; }

    /// <summary>How this model writes tool calls, or null when its vocabulary and template have no tool format (see <see cref="ToolPrompt"/>).</summary>
    public ToolCallFormat? ToolFormat { get; }

    /// <summary>Compiled output grammars (JSON schemas, tool calls) for this model's vocabulary; the vocabulary's token trie is built on first use.</summary>
    public GrammarCache Grammars => _grammars.Value;

    public Transformer Model { get; }
    public Tokenizer Tokenizer { get; }
    public ChatTemplate Template { get; }

    /// <summary>The name clients use for this model: the directory or file name without extension.</summary>
    public string Name { get; }

    /// <summary>Tokens that end an answer: the model's EOS ids, the tokenizer's EOS and the template's end-of-turn token.</summary>
    public IReadOnlySet<int> StopTokens { get; }

    /// <summary>
    /// Loads a model directory or GGUF file and pages its weights in; <paramref name="format"/> overrides the detected
    /// chat format; <paramref name="progress"/> hears the bytes paged in.
    /// </summary>
    public static ModelBundle Load(string path, ChatFormat? format = null, IProgress<LoadProgress>? progress = null) =>
        Create(path, format, ModelLoader.Load(path, progress));

    /// <summary>Opens a model without paging its weights in: to describe it (<c>sharpseek show</c>), not to run it.</summary>
    public static ModelBundle Open(string path, ChatFormat? format = null) => Create(path, format, ModelLoader.Load(path));

    private static ModelBundle Create(string path, ChatFormat? format, Transformer model)
    {
        try
        {
            Tokenizer tokenizer = model.Source is GgufTensorSource gguf ? GgufTokenizer.Load(gguf.File) : LoadHfTokenizer(path);
            var template = ChatTemplate.For(tokenizer, format);
            return new ModelBundle(model, tokenizer, template, ModelCatalog.NameOf(path));
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    private static Tokenizer LoadHfTokenizer(string path)
    {
        string dir = Directory.Exists(path) ? path : System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!;
        if (!File.Exists(System.IO.Path.Combine(dir, "tokenizer.json")))
            throw new ModelFormatException($"{dir}: no tokenizer.json; chatting needs the model's tokenizer");
        return Tokenizer.FromFile(dir);
    }

    public void Dispose() => Model.Dispose();
}
