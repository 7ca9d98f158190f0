using SharpSeek.Models;

namespace SharpSeek.Generation;

public enum FinishReason
{
    /// <summary>An end-of-sequence or stop token was produced.</summary>
    Stop,
    /// <summary>max_tokens was reached.</summary>
    Length,
    /// <summary>The context is full.</summary>
    ContextFull,
}

public sealed record GenerationOptions
{
    public int MaxTokens { get; init; } = 256;
    public SamplingOptions Sampling { get; init; } = SamplingOptions.Greedy;
    /// <summary>Extra stop tokens; the model's EOS tokens always stop unless <see cref="IgnoreEos"/>.</summary>
    public IReadOnlyCollection<int> StopTokens { get; init; } = [];
    public bool IgnoreEos { get; init; }
    /// <summary>Whether the stop token itself is yielded.</summary>
    public bool IncludeStopToken { get; init; }
    /// <summary>Which tokens may come next (a grammar); null: any.</summary>
    public ITokenConstraint? Constraint { get; init; }
}

/// <summary>
/// The generation loop: prefill the prompt in one call, then sample, yield and feed one token at a time
/// through the KV cache. The loop reuses one logits buffer and the state's workspace: no per-token allocation.
/// </summary>
public sealed class Generator(Transformer model)
{
    public Transformer Model { get; } = model;

    public FinishReason LastFinishReason { get; private set; }

    /// <summary>
    /// Tokens per prefill call of a fresh state (its workspace is sized for this many), and the server's default chunk: 32 cost
    /// about a tenth of a 512-token prompt's speed, 64 nothing measurable (docs/PERFORMANCE.md).
    /// </summary>
    internal const int PrefillChunk = 64;

    /// <summary>Generates after <paramref name="prompt"/> in a fresh state (or <paramref name="state"/>, continuing it).</summary>
    public IEnumerable<int> Generate(IReadOnlyList<int> prompt, GenerationOptions options, InferenceState? state = null)
    {
        if (prompt.Count == 0) throw new SharpSeekException("the prompt is empty: at least one token is needed");
        if (options.MaxTokens < 0) throw new SharpSeekException($"max_tokens must be ≥ 0, is {options.MaxTokens}");
        var sampler = new Sampler(Model.Config.VocabSize, options.Sampling);
        state ??= Model.CreateState(Math.Min(Model.Config.MaxPositionEmbeddings, prompt.Count + Math.Max(options.MaxTokens, 1)));
        if (state.Length + prompt.Count > state.MaxSequence)
            throw new SharpSeekException($"the prompt ({prompt.Count} tokens) does not fit the context ({state.MaxSequence - state.Length} free)");
        var stops = new HashSet<int>(options.StopTokens);
        if (!options.IgnoreEos) stops.UnionWith(Model.Config.EosTokenIds);
        return Run(prompt, options, state, sampler, stops);
    }

    private IEnumerable<int> Run(IReadOnlyList<int> prompt, GenerationOptions options, InferenceState state, Sampler sampler, HashSet<int> stops)
    {
        var logits = new float[Model.Config.VocabSize];
        var promptArray = prompt as int[] ?? prompt.ToArray();
        foreach (int t in promptArray) sampler.Observe(t);
        Model.Forward(state, promptArray, logits);
        var one = new int[1];
        LastFinishReason = FinishReason.Length;
        for (int produced = 0; produced < options.MaxTokens; produced++)
        {
            options.Constraint?.Mask(logits);
            int next = sampler.Sample(logits);
            if (stops.Contains(next))
            {
                LastFinishReason = FinishReason.Stop;
                if (options.IncludeStopToken) yield return next;
                yield break;
            }
            options.Constraint?.Accept(next);
            yield return next;
            if (produced + 1 == options.MaxTokens) yield break;
            if (state.Length >= state.MaxSequence)
            {
                LastFinishReason = FinishReason.ContextFull;
                yield break;
            }
            sampler.Observe(next);
            one[0] = next;
            Model.Forward(state, one, logits);
        }
    }
}
