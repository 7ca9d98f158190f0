using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using SharpSeek.Chat;
using SharpSeek.Hub;
using SharpSeek.Models;
using SharpSeek.Serving;

namespace SharpSeek.Cli.Commands;

/// <summary>
/// <c>sharpseek show [MODEL] [--json] [--template]</c>: a model's card without running it (its weights are mapped, not read):
/// architecture, parameters, context, quantization, the chat template it is prompted with, and what it can do here.
/// </summary>
internal static class ShowCommand
{
    /// <summary>The card's facts, in the order they print.</summary>
    internal sealed record Card(
        string Path, string Architecture, string ModelType, long Parameters, long ActiveParameters, long MtpParameters,
        int ContextLength, int EmbeddingLength, int Layers, int VocabSize, string Quantization,
        string TemplateFormat, bool TemplateFromModel, string EndOfTurn, string? Jinja, IReadOnlyList<string> Capabilities);

    public static Command Create()
    {
        var model = new Argument<string?>("model")
        {
            Description = $"a directory, a .gguf file, or a pulled owner/repo[:QUANT] (default: the bundled {ModelLocator.DefaultRelativePath})",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var json = new Option<bool>("--json") { Description = "Print the card as JSON" };
        var template = new Option<bool>("--template") { Description = "Also print the model's own chat template (Jinja)" };
        var cmd = new Command("show", "Show a model's card: architecture, parameters, context, quantization, chat template, capabilities") { model, json, template };
        cmd.SetAction(pr =>
        {
            var card = Describe(ModelLocator.Resolve(pr.GetValue(model)));
            Console.Out.Write(pr.GetValue(json) ? ToJson(card) : ToText(card, pr.GetValue(template)));
            return 0;
        });
        return cmd;
    }

    internal static Card Describe(string path)
    {
        using var bundle = ModelBundle.Open(path);
        var info = ModelInfo.Of(bundle.Model);
        var tokenizer = bundle.Tokenizer;
        var capabilities = new List<string> { "completion", "chat" };
        if (bundle.Template.SupportsReasoning) capabilities.Add("thinking");
        if (FimFormat.Detect(tokenizer) is not null) capabilities.Add("insert");
        // The type most weight values are stored in: what a user means by the model's quantization.
        string quant = info.DTypes.MaxBy(kv => kv.Value.Elements).Key;
        string? jinja = tokenizer.Config.ChatTemplate;
        return new Card(System.IO.Path.GetFullPath(path), info.Architecture, info.ModelType, info.Parameters, info.ActiveParameters, info.MtpParameters,
            info.ContextLength, info.HiddenSize, info.Layers, info.VocabSize, quant,
            bundle.Template.Format.ToString(), !string.IsNullOrEmpty(jinja), bundle.Template.EndOfTurnToken, jinja, capabilities);
    }

    /// <summary>1.6M, 671B: parameter counts as model names write them.</summary>
    internal static string Count(long n) => n switch
    {
        >= 1_000_000_000 => (n / 1e9).ToString(n >= 10_000_000_000 ? "0" : "0.0", CultureInfo.InvariantCulture) + "B",
        >= 1_000_000 => (n / 1e6).ToString(n >= 10_000_000 ? "0" : "0.0", CultureInfo.InvariantCulture) + "M",
        >= 1_000 => (n / 1e3).ToString("0", CultureInfo.InvariantCulture) + "K",
        _ => n.ToString(CultureInfo.InvariantCulture),
    };

    internal static string ToText(Card c, bool withTemplate)
    {
        var w = new StringWriter(CultureInfo.InvariantCulture);
        string parameters = Count(c.Parameters) + (c.ActiveParameters < c.Parameters ? $" ({Count(c.ActiveParameters)} active per token)" : "")
            + (c.MtpParameters > 0 ? $", + {Count(c.MtpParameters)} MTP" : "");
        w.WriteLine("  Model");
        Row(w, "architecture", $"{c.Architecture} ({c.ModelType})");
        Row(w, "parameters", parameters);
        Row(w, "context length", c.ContextLength.ToString(CultureInfo.InvariantCulture));
        Row(w, "embedding length", c.EmbeddingLength.ToString(CultureInfo.InvariantCulture));
        Row(w, "layers", c.Layers.ToString(CultureInfo.InvariantCulture));
        Row(w, "vocabulary", c.VocabSize.ToString(CultureInfo.InvariantCulture));
        Row(w, "quantization", c.Quantization);
        Row(w, "path", c.Path);
        w.WriteLine();
        w.WriteLine("  Template");
        Row(w, "format", c.TemplateFormat == "Jinja" ? "the model's own chat template (Jinja)"
            : c.TemplateFormat + (c.TemplateFromModel ? " (recognized from the model's chat template)" : " (from its tokens; the model has no chat template)"));
        Row(w, "end of turn", c.EndOfTurn);
        w.WriteLine();
        w.WriteLine("  Capabilities");
        foreach (string cap in c.Capabilities) w.WriteLine($"    {cap}");
        if (withTemplate)
        {
            w.WriteLine();
            w.WriteLine("  Chat template");
            w.WriteLine(c.Jinja is { Length: > 0 } j ? j : "    (none in the model)");
        }
        return w.ToString();
    }

    private static void Row(TextWriter w, string key, string value) => w.WriteLine($"    {key,-18}{value}");

    internal static string ToJson(Card c) => JsonSerializer.Serialize(new Dictionary<string, object?>
    {
        ["path"] = c.Path,
        ["architecture"] = c.Architecture,
        ["model_type"] = c.ModelType,
        ["parameters"] = c.Parameters,
        ["active_parameters"] = c.ActiveParameters,
        ["mtp_parameters"] = c.MtpParameters,
        ["context_length"] = c.ContextLength,
        ["embedding_length"] = c.EmbeddingLength,
        ["layers"] = c.Layers,
        ["vocab_size"] = c.VocabSize,
        ["quantization"] = c.Quantization,
        ["template"] = new Dictionary<string, object?> { ["format"] = c.TemplateFormat, ["from_model"] = c.TemplateFromModel, ["end_of_turn"] = c.EndOfTurn, ["jinja"] = c.Jinja },
        ["capabilities"] = c.Capabilities,
    }, new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }) + Environment.NewLine;
}
