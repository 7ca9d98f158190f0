using System.CommandLine;
using System.Globalization;

namespace SharpSeek.Cli.Commands;

/// <summary>Options several verbs share, and parsing helpers that fail with a message naming the option.</summary>
internal static class CommonOptions
{
    public static Option<string> Model(bool required = true) => new("--model", "-m")
    {
        Description = "Model: a Hugging Face directory (config.json + *.safetensors), a file in one, or a .gguf file",
        Required = required,
    };

    public static Option<string> Tokens() => new("--tokens")
    {
        Description = "Comma-separated token ids, e.g. 1,2,3",
        Required = true,
    };

    /// <summary><c>--speculate none|auto|mtp[:N]|ngram[:N]</c>; absent: auto, the model's default (<see cref="Generation.Speculation.DefaultFor"/>).</summary>
    public static Option<string?> Speculate() => new("--speculate")
    {
        Description = "Speculative decoding: none, auto, mtp[:N] (DeepSeek's MTP layer drafts N tokens) or ngram[:N] (prompt lookup); default auto: the model's measured default, none for every model today (docs/PERFORMANCE.md)",
    };

    /// <summary>What <c>--speculate</c> asks for (parsed, so a bad value fails before the model loads); absent: auto.</summary>
    public static Generation.Speculation ParseSpeculation(string? value) => value is null ? Generation.Speculation.Auto : Generation.Speculation.Parse(value);

    /// <summary>The speculation <paramref name="value"/> asks for on <paramref name="model"/> (checked against it), or the model's default.</summary>
    public static Generation.Speculation Speculation(string? value, Models.Transformer model) => ParseSpeculation(value).Resolve(model);

    public static int[] ParseTokens(string text, string option = "--tokens")
    {
        var parts = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts.Length == 0) throw new SharpSeekException($"{option}: no token ids given");
        var ids = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!int.TryParse(parts[i], NumberStyles.Integer, CultureInfo.InvariantCulture, out ids[i]) || ids[i] < 0)
                throw new SharpSeekException($"{option}: '{parts[i]}' is not a token id (a non-negative integer)");
        return ids;
    }
}
