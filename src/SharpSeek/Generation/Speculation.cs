using System.Globalization;
using SharpSeek.Models;

namespace SharpSeek.Generation;

/// <summary>Where draft tokens come from in speculative decoding.</summary>
public enum SpeculationKind
{
    /// <summary>Plain decoding: one token per step.</summary>
    None,
    /// <summary>DeepSeek-V3/R1's multi-token-prediction layer drafts from the last hidden state and the sampled token, chained.</summary>
    Mtp,
    /// <summary>Prompt lookup: the tokens that followed the longest recent n-gram match in prompt + output.</summary>
    Ngram,
}

/// <summary>
/// Speculative decoding, <c>--speculate none|mtp[:N]|ngram[:N]</c>: up to <see cref="Drafts"/> tokens are drafted per step and
/// the model verifies all of them in one forward (each weight streams once for the k + 1 rows). Greedy output is exactly plain
/// decoding's; sampled output follows the model's distribution (<see cref="Sampler.Verify"/>). A constrained sequence
/// (<see cref="ITokenConstraint"/>) speculates too: drafts are verified through the constraint, which masks each verified
/// position in the state the accepted tokens before it left, and only tokens that are emitted are accepted by it.
/// </summary>
public sealed record Speculation(SpeculationKind Kind, int Drafts)
{
    /// <summary>Drafts per step of <c>mtp</c> without a count (the measured best on the bundled model; docs/PERFORMANCE.md).</summary>
    public const int DefaultMtpDrafts = 2;

    /// <summary>Drafts per step of <c>ngram</c> without a count.</summary>
    public const int DefaultNgramDrafts = 4;

    public static Speculation None { get; } = new(SpeculationKind.None, 0);

    /// <summary>"auto": the model's default (<see cref="DefaultFor"/>), resolved when the model is known (<see cref="Resolve"/>).</summary>
    public static Speculation Auto { get; } = new(SpeculationKind.None, -1);

    public bool Enabled => Kind != SpeculationKind.None && Drafts > 0;

    /// <summary>
    /// The default per model, chosen from measurements (docs/PERFORMANCE.md, "Speculative decoding"): plain decoding for every
    /// model today. On the bundled model the MTP layer (trained only during pretraining) has 15 % of its mtp:1 drafts accepted on
    /// the test split, so drafting and verifying cost more than they save; prompt lookup pays only on prompts the answer copies
    /// from. Both stay opt-in until a model measures better with them.
    /// </summary>
    public static Speculation DefaultFor(Transformer model) => None;

    /// <summary>This speculation for <paramref name="model"/>: <see cref="Auto"/> becomes the model's default; others are checked against it.</summary>
    public Speculation Resolve(Transformer model, string option = "--speculate")
    {
        if (this == Auto) return DefaultFor(model);
        CheckModel(model, System.IO.Path.GetFileName(System.IO.Path.TrimEndingDirectorySeparator(model.Path)), option);
        return this;
    }

    public override string ToString() => Kind switch
    {
        SpeculationKind.None => Drafts < 0 ? "auto" : "none",
        SpeculationKind.Mtp => $"mtp:{Drafts}",
        _ => $"ngram:{Drafts}",
    };

    /// <summary>
    /// Parses <c>none</c>, <c>auto</c>, <c>mtp</c>, <c>mtp:N</c>, <c>ngram</c> or <c>ngram:N</c> (N a positive integer); a bad value
    /// fails with a message naming <paramref name="option"/>.
    /// </summary>
    public static Speculation Parse(string text, string option = "--speculate")
    {
        string t = text.Trim();
        int colon = t.IndexOf(':');
        string kind = (colon < 0 ? t : t[..colon]).ToLowerInvariant();
        if (kind == "none" && colon < 0) return None;
        if (kind == "auto" && colon < 0) return Auto;
        if (kind is not ("mtp" or "ngram"))
            throw new SharpSeekException($"{option}: '{text}' is not a speculation mode (none, auto, mtp, mtp:N, ngram, ngram:N)");
        int drafts = kind == "mtp" ? DefaultMtpDrafts : DefaultNgramDrafts;
        if (colon >= 0)
        {
            string n = t[(colon + 1)..];
            if (!int.TryParse(n, NumberStyles.None, CultureInfo.InvariantCulture, out drafts) || drafts <= 0)
                throw new SharpSeekException($"{option}: the draft count in '{text}' must be a positive integer, got '{n}'");
        }
        return new Speculation(kind == "mtp" ? SpeculationKind.Mtp : SpeculationKind.Ngram, drafts);
    }

    /// <summary>Fails when <paramref name="model"/> cannot speculate this way, naming the option and the model.</summary>
    public void CheckModel(Transformer model, string modelName, string option = "--speculate")
    {
        if (Kind == SpeculationKind.Mtp && model.MtpModuleCount == 0)
            throw new SharpSeekException($"{option} mtp: model '{modelName}' has no MTP layer (num_nextn_predict_layers = {model.Config.NumNextnPredictLayers}"
                + (model.Config.NumNextnPredictLayers > 0 ? ", but the checkpoint holds no MTP weights" : "") + "); use --speculate ngram or none");
    }
}

/// <summary>Draft and accept counts of speculative decoding (per sequence, or summed).</summary>
public sealed class SpeculationStats
{
    private long _drafted, _accepted;

    public long DraftTokens => Interlocked.Read(ref _drafted);
    public long AcceptedTokens => Interlocked.Read(ref _accepted);

    /// <summary>Accepted ÷ drafted (0 before any draft).</summary>
    public double AcceptRate => DraftTokens == 0 ? 0 : (double)AcceptedTokens / DraftTokens;

    internal void Add(int drafted, int accepted)
    {
        Interlocked.Add(ref _drafted, drafted);
        Interlocked.Add(ref _accepted, accepted);
    }
}
