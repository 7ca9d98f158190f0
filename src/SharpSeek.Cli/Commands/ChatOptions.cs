using System.CommandLine;
using SharpSeek.Chat;
using SharpSeek.Generation;
using SharpSeek.Serving;
using Spectre.Console;

namespace SharpSeek.Cli.Commands;

/// <summary>The options <c>chat</c> and <c>run</c> share, and loading the model behind a progress bar.</summary>
internal sealed class ChatOptions
{
    public readonly Option<string?> Model = new("--model", "-m")
    {
        Description = $"Model: a directory, a .gguf file, or a pulled owner/repo (default: the bundled {ModelLocator.DefaultRelativePath})",
    };
    public readonly Option<float> Temperature = new("--temperature", "-t") { Description = "Sampling temperature; 0 = greedy", DefaultValueFactory = _ => 0.6f };
    public readonly Option<float> TopP = new("--top-p") { Description = "Nucleus sampling threshold (1 = off)", DefaultValueFactory = _ => 0.95f };
    public readonly Option<int> MaxTokens = new("--max-tokens", "-n") { Description = "Tokens to generate at most (reasoning included)", DefaultValueFactory = _ => 2048 };
    public readonly Option<ulong?> Seed = new("--seed") { Description = "Sampling seed (reproducible output)" };
    public readonly Option<bool> NoThink = new("--no-think") { Description = "Answer without a reasoning block (sets the template's enable_thinking/thinking to false)" };
    public readonly Option<bool> Think = new("--think") { Description = "Ask a model with a thinking switch (DeepSeek-V3.1, Qwen3) to reason first" };
    public readonly Option<string?> Format = new("--chat-format") { Description = "Override the model's chat template with a built-in format: deepseek-v3, deepseek-r1, chatml" };
    public readonly Option<string?> Kwargs = new("--template-kwargs") { Description = "Extra chat template variables as a JSON object, e.g. '{\"enable_thinking\": false}'" };
    public readonly Option<string?> Speculate = CommonOptions.Speculate();

    public void AddTo(Command cmd)
    {
        cmd.Options.Add(Model);
        cmd.Options.Add(Temperature);
        cmd.Options.Add(TopP);
        cmd.Options.Add(MaxTokens);
        cmd.Options.Add(Seed);
        cmd.Options.Add(NoThink);
        cmd.Options.Add(Think);
        cmd.Options.Add(Format);
        cmd.Options.Add(Kwargs);
        cmd.Options.Add(Speculate);
    }

    public CompletionOptions Completion(ParseResult pr)
    {
        var sampling = new SamplingOptions { Temperature = pr.GetValue(Temperature), TopP = pr.GetValue(TopP), Seed = pr.GetValue(Seed) };
        sampling.Validate();
        int max = pr.GetValue(MaxTokens);
        if (max <= 0) throw new SharpSeekException($"--max-tokens must be > 0, is {max}");
        return new CompletionOptions { MaxTokens = max, Sampling = sampling };
    }

    /// <summary>The thinking switch: --no-think off, --think on, neither: the template's default.</summary>
    public bool? ThinkMode(ParseResult pr)
    {
        bool off = pr.GetValue(NoThink), on = pr.GetValue(Think);
        if (off && on) throw new SharpSeekException("--think and --no-think exclude each other");
        return off ? false : on ? true : null;
    }

    /// <summary>Resolves and loads the model, with a progress bar on stderr when that is a terminal.</summary>
    public ChatPipeline Load(ParseResult pr)
    {
        string path = ModelLocator.Resolve(pr.GetValue(Model));
        ChatFormat? format = pr.GetValue(Format) is { } f ? ChatTemplate.ParseFormat(f) : null;
        var kwargs = pr.GetValue(Kwargs) is { } k ? TemplateKwargs.Parse(k, "--template-kwargs") : null;
        CommonOptions.ParseSpeculation(pr.GetValue(Speculate));   // a bad value fails before the model loads
        var bundle = LoadProgressBar.Run(Path.GetFileName(Path.TrimEndingDirectorySeparator(path)), LoadProgressBar.WeightFiles(path), progress => ModelBundle.Load(path, format, progress));
        try
        {
            var speculation = CommonOptions.Speculation(pr.GetValue(Speculate), bundle.Model);
            return new ChatPipeline(bundle, new SchedulerOptions { MaxActive = 1, Speculation = speculation }, ownsBundle: true) { DefaultTemplateKwargs = kwargs };
        }
        catch
        {
            bundle.Dispose();
            throw;
        }
    }
}
