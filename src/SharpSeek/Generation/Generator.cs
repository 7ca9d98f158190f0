using SharpSeek.Models;

namespace SharpSeek.Generation;

/// <summary>
/// One generation as a stream of token ids: the prompt prefilled in one step, then one <see cref="DecodeStep"/> per token (or per
/// verified run of drafts with speculation). The step reuses its buffers, so decoding allocates nothing per token.
/// </summary>
public sealed class Generator(Transformer model)
{
    public Transformer Model { get; } = model;

    public FinishReason LastFinishReason { get; private set; }

    /// <summary>Drafted and accepted tokens of the last generation (speculative decoding).</summary>
    public SpeculationStats LastSpeculation { get; private set; } = new();

    /// <summary>
    /// Prompt tokens per prefill step of the server's scheduler: 32 cost about a tenth of a 512-token prompt's speed, 64 nothing
    /// measurable (docs/PERFORMANCE.md). A generation alone prefills its whole prompt in one step.
    /// </summary>
    internal const int PrefillChunk = 64;

    /// <summary>Generates after <paramref name="prompt"/> in a fresh state (or <paramref name="state"/>, continuing it).</summary>
    public IEnumerable<int> Generate(IReadOnlyList<int> prompt, GenerationOptions options, InferenceState? state = null)
    {
        if (prompt.Count == 0) throw new SharpSeekException("the prompt is empty: at least one token is needed");
        if (options.MaxTokens < 0) throw new SharpSeekException($"max_tokens must be ≥ 0, is {options.MaxTokens}");
        options.Speculation.CheckModel(Model, Path.GetFileName(Model.Path.TrimEnd('/')));
        state ??= Model.CreateState(Math.Min(Model.Config.MaxPositionEmbeddings, prompt.Count + Math.Max(options.MaxTokens, 1)));
        return Run(new DecodeSequence(Model, [.. prompt], options, state));
    }

    private IEnumerable<int> Run(DecodeSequence seq)
    {
        var step = new DecodeStep(Model);
        var produced = new Queue<int>();
        var one = new[] { seq };
        LastFinishReason = FinishReason.Length;
        LastSpeculation = seq.Speculation;
        while (!seq.IsDone)
        {
            step.Run(one, (_, t) => produced.Enqueue(t.Token));
            while (produced.Count > 0) yield return produced.Dequeue();
        }
        if (seq.Error is { } e) throw e;
        LastFinishReason = seq.Finish!.Value;
    }
}
