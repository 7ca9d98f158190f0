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
