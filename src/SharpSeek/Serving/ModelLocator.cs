using SharpSeek.Hub;

namespace SharpSeek.Serving;

/// <summary>
/// Turns what a user typed after <c>--model</c> into a path: a file or directory as given, a Hugging Face
/// <c>owner/repo[:QUANT|:FILE]</c> already pulled into the hub cache, or (nothing typed) the bundled default model.
/// </summary>
public static class ModelLocator
{
    /// <summary>The bundled default model, relative to the repository or the installed app.</summary>
    public const string DefaultRelativePath = "models/sharpseek-tiny";

    public static string Resolve(string? model)
    {
        if (string.IsNullOrWhiteSpace(model)) return FindDefault();
        if (File.Exists(model) || Directory.Exists(model)) return model;
        if (HubCache.FindModel(model) is { } pulled) return pulled;
        throw new SharpSeekException($"model '{model}' not found: not a file or directory, and not in the hub cache ({HubCache.Root}); try `sharpseek pull {model}`");
    }

    /// <summary>Looks for <see cref="DefaultRelativePath"/> in the working directory, then beside the app and every folder above it.</summary>
    public static string FindDefault()
    {
        var tried = new List<string>();
        string cwd = Path.GetFullPath(DefaultRelativePath);
        tried.Add(cwd);
        if (Directory.Exists(cwd)) return cwd;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, DefaultRelativePath);
            tried.Add(candidate);
            if (Directory.Exists(candidate)) return candidate;
        }
        throw new SharpSeekException($"the default model ({DefaultRelativePath}) was not found (looked in {string.Join(", ", tried.Take(3))}…); pass --model PATH");
    }
}
