using SharpSeek.Models;

namespace SharpSeek.Generation;

/// <summary>
/// One sequence in the decode step (<see cref="DecodeStep"/>): its prompt, options and cache, how far it has come, and what it
/// produced. The step owns the rules (prefill, sampling, stop tokens, max tokens, context-full, speculation); callers own the
/// sequence's place in their loop (a server queue, a batch of rollouts, one generation).
/// </summary>
public sealed class DecodeSequence
{
    private readonly HashSet<int> _stops;
    private readonly List<int> _output = [];

    /// <param name="model">The model the step runs (its vocabulary sizes the buffers; its EOS tokens stop unless IgnoreEos).</param>
    /// <param name="prompt">Prompt token ids (at least one).</param>
    /// <param name="options">Length, sampling, stops, constraint, log-probabilities, speculation.</param>
    /// <param name="state">
    /// The sequence's cache: empty, or holding the first <paramref name="cached"/> prompt tokens (a prefix cache hit), or an earlier
    /// conversation the prompt continues (its tokens are context).
    /// </param>
    /// <param name="cached">Prompt tokens already at the end of <paramref name="state"/>.</param>
    public DecodeSequence(Transformer model, int[] prompt, GenerationOptions options, InferenceState state, int cached = 0)
    {
        if (prompt.Length == 0) throw new SharpSeekException("the prompt is empty: at least one token is needed");
        if (options.MaxTokens < 0) throw new SharpSeekException($"max_tokens must be ≥ 0, is {options.MaxTokens}");
        if (cached < 0 || cached > prompt.Length || state.Length < cached)
            throw new ArgumentException($"the state holds {state.Length} tokens, fewer than the {cached} cached prompt tokens", nameof(cached));
        if (prompt.Length - cached > state.MaxSequence - state.Length)
            throw new SharpSeekException($"the prompt ({prompt.Length} tokens) does not fit the context ({state.MaxSequence - state.Length} free)");
        int v = model.Config.VocabSize;
        foreach (int t in prompt)
            if ((uint)t >= (uint)v) throw new SharpSeekException($"token id {t} is outside the vocabulary [0, {v})");
        Prompt = prompt;
        Options = options;
        State = state;
        PromptDone = cached;
        _stops = new HashSet<int>(options.StopTokens);
        if (!options.IgnoreEos) _stops.UnionWith(model.Config.EosTokenIds);
        Sampler = new Sampler(v, options.Sampling);
        foreach (int t in prompt) Sampler.Observe(t);
        int drafts = options.Speculation.Enabled ? options.Speculation.Drafts : 0;
        Drafts = new int[drafts];
        Feed = new int[drafts + 1];
        if (options.Speculation.Kind == SpeculationKind.Mtp && state.MtpLength < state.Length)
        {
            // A prefix restored without the MTP layer's cache: that cache starts here.
            state.MtpStart = state.MtpLength = state.Length;
        }
    }

    public int[] Prompt { get; }
    public GenerationOptions Options { get; }
    public InferenceState State { get; }

    /// <summary>Prompt tokens already in the cache.</summary>
    public int PromptDone { get; internal set; }

    /// <summary>Tokens produced so far (the stop token only with <see cref="GenerationOptions.IncludeStopToken"/>).</summary>
    public IReadOnlyList<int> Output => _output;

    /// <summary>Why the sequence ended; null while it runs.</summary>
    public FinishReason? Finish { get; internal set; }

    /// <summary>Why it failed (a model, constraint or sampler error in its own rows); the other sequences of its steps go on.</summary>
    public Exception? Error { get; internal set; }

    public bool IsDone => Finish is not null || Error is not null;

    /// <summary>Tokens drafted and accepted for this sequence.</summary>
    public SpeculationStats Speculation { get; } = new();

    /// <summary>What the caller keeps with the sequence (its queue entry, its rollout index).</summary>
    public object? Tag { get; init; }

    /// <summary>The tokens the cache holds (for a state that held nothing but this prompt): the prompt so far, then every produced token that was fed.</summary>
    public int[] CachedTokens()
    {
        int n = State.Length;
        var tokens = new int[n];
        int p = Math.Min(n, PromptDone);
        Prompt.AsSpan(0, p).CopyTo(tokens);
        for (int i = p; i < n; i++) tokens[i] = _output[i - p];
        return tokens;
    }

    internal Sampler Sampler { get; }
    internal bool IsStop(int token) => _stops.Contains(token);
    internal void Add(int token) => _output.Add(token);

    /// <summary>Produced tokens not counting an included stop token (what max_tokens limits).</summary>
    internal int Produced;

    /// <summary>The last produced token, sampled but not yet fed (valid once the prompt is done).</summary>
    internal int Last;

    /// <summary>Tokens drafted for the next step (<see cref="DraftCount"/> of them) and the tokens fed this step.</summary>
    internal readonly int[] Drafts;
    internal int DraftCount;
    internal int[] Feed;
    internal int FeedCount;

    /// <summary>This step's outputs: logits of the rows that are sampled, the hidden states of every row (MTP drafting), a raw row for log-probabilities.</summary>
    internal float[] Logits = [];
    internal float[] Hidden = [];
    internal float[]? Raw;

    /// <summary>Position of the first row fed this step, and whether this step samples (the prompt is done after it).</summary>
    internal int StepStart;
    internal bool Samples;
    internal int StepDrafts;

    /// <summary>The MTP layer's inputs and outputs for this sequence (pinned): the tokens after each row, a draft's logits and hidden state.</summary>
    internal int[] MtpTokens = [];
    internal float[] MtpLogits = [], MtpHidden = [];
}
