using SharpSeek.Models;

namespace SharpSeek.Generation;

/// <summary>
/// The one decode step every caller shares (<see cref="Generator"/>, the server's scheduler, GRPO rollouts and evaluation): it
/// advances every unfinished sequence by one step in one forward — a prefill chunk, a decoded token, or a speculative
/// verification of drafted tokens — then samples, applies the stop, length and context rules, and drafts for the next step.
/// <list type="bullet">
/// <item>Each sequence samples from its own logits with its own sampler; a sequence's logits do not depend on the others in
/// the step, so its output is what it gets alone.</item>
/// <item>A constraint masks each sampled position before sampling and accepts each produced token (stop tokens excepted).</item>
/// <item>With speculation the drafts are verified in order with <see cref="Sampler.Verify"/>; the first token that differs from
/// its draft ends the run, and the cache is cut back to what was accepted.</item>
/// <item>A failure in one sequence's rows (a bad token, a non-finite activation, a constraint or sampler error) fails that
/// sequence alone: the step runs the others again without it, and their outputs are unchanged.</item>
/// </list>
/// </summary>
public sealed class DecodeStep(Transformer model, int prefillChunk = int.MaxValue)
{
    private readonly List<DecodeSequence> _running = [];
    private readonly List<Segment> _segments = [];
    private readonly MtpDrafter? _mtp = model.MtpModuleCount > 0 ? new MtpDrafter(model) : null;

    public Transformer Model { get; } = model;

    /// <summary>Prompt tokens fed per sequence and step (a long prompt then does not stall the others).</summary>
    public int PrefillChunk { get; } = prefillChunk > 0 ? prefillChunk : throw new ArgumentOutOfRangeException(nameof(prefillChunk));

    /// <summary>Drafted and accepted tokens of every sequence this step has run.</summary>
    public SpeculationStats Speculation { get; } = new();

    /// <summary>
    /// Advances every sequence of <paramref name="sequences"/> that is not done by one step, calling <paramref name="emit"/> for
    /// each produced token in order. A sequence that fails gets <see cref="DecodeSequence.Error"/>; nothing is thrown for it.
    /// </summary>
    public void Run(IReadOnlyList<DecodeSequence> sequences, Action<DecodeSequence, GeneratedToken>? emit = null)
    {
        _running.Clear();
        foreach (var s in sequences)
            if (!s.IsDone)
            {
                if (s.Options.Speculation.Kind == SpeculationKind.Mtp && _mtp is null)
                    Fail(s, new SharpSeekException($"--speculate mtp: model '{Path.GetFileName(Model.Path.TrimEnd('/'))}' has no MTP layer"));
                else _running.Add(s);
            }
        if (_running.Count == 0) return;
        foreach (var s in _running) Begin(s);
        Forward();
        foreach (var s in _running)
        {
            if (s.IsDone) continue;
            try { Settle(s, emit); }
            catch (Exception e) { Fail(s, e); }
        }
        _mtp?.Draft(_running, this);
    }

    /// <summary>What the sequence feeds this step: the next prompt chunk, or its last token and the drafts to verify.</summary>
    private void Begin(DecodeSequence s)
    {
        var state = s.State;
        int v = Model.Config.VocabSize, d = Model.Config.HiddenSize;
        s.StepStart = state.Length;
        s.StepDrafts = 0;
        bool mtp = s.Options.Speculation.Kind == SpeculationKind.Mtp;
        if (s.PromptDone < s.Prompt.Length)
        {
            int n = Math.Min(PrefillChunk, s.Prompt.Length - s.PromptDone);
            if (s.Feed.Length < n) s.Feed = new int[Math.Max(n, 2 * s.Feed.Length)];
            s.Prompt.AsSpan(s.PromptDone, n).CopyTo(s.Feed);
            s.FeedCount = n;
            s.Samples = s.PromptDone + n == s.Prompt.Length;
            Grow(ref s.Logits, s.Samples ? v : 0);
            GrowPinned(ref s.Hidden, mtp ? n * d : 0);
            return;
        }
        // Drafts: no more than the tokens still allowed after this step's sampled one, and than the context holds.
        int room = Math.Min(s.Options.MaxTokens - s.Produced - 1, state.MaxSequence - state.Length - 1);
        int k = Math.Clamp(Math.Min(s.Drafts.Length, room), 0, s.Drafts.Length);
        if (s.Options.Speculation.Kind == SpeculationKind.Ngram && k > 0)
        {
            var history = new ConcatList(s.Prompt, s.Output);
            k = NgramDrafter.Draft(history, s.Drafts.AsSpan(0, k));
        }
        else k = Math.Min(k, s.DraftCount);
        s.Feed[0] = s.Last;
        s.Drafts.AsSpan(0, k).CopyTo(s.Feed.AsSpan(1));
        s.FeedCount = 1 + k;
        s.StepDrafts = k;
        s.Samples = true;
        Grow(ref s.Logits, (1 + k) * v);
        GrowPinned(ref s.Hidden, mtp ? (1 + k) * d : 0);
    }

    private static void Grow(ref float[] buffer, int length)
    {
        if (buffer.Length < length) buffer = new float[length];
    }

    /// <summary>A pinned buffer (the MTP pass reads it through a pointer).</summary>
    internal static void GrowPinned<T>(ref T[] buffer, int length)
    {
        if (buffer.Length < length) buffer = GC.AllocateUninitializedArray<T>(Math.Max(length, 2 * buffer.Length), pinned: true);
    }

    /// <summary>
    /// One forward over every running sequence's segment. If it fails, each sequence runs alone: the ones whose own rows fail
    /// get the error, the others their logits (the same bits as in the batch). A failed forward leaves every cache's length as it was.
    /// </summary>
    private void Forward()
    {
        _segments.Clear();
        foreach (var s in _running) _segments.Add(SegmentOf(s));
        try
        {
            Model.Forward(_segments);
            return;
        }
        catch (Exception) when (_running.Count > 1)
        {
        }
        catch (Exception e)
        {
            Fail(_running[0], e);
            return;
        }
        foreach (var s in _running)
        {
            try { Model.Forward([SegmentOf(s)]); }
            catch (Exception e) { Fail(s, e); }
        }
    }

    private Segment SegmentOf(DecodeSequence s)
    {
        int v = Model.Config.VocabSize, d = Model.Config.HiddenSize, n = s.FeedCount;
        bool mtp = s.Options.Speculation.Kind == SpeculationKind.Mtp;
        return new Segment(s.State, s.Feed.AsMemory(0, n))
        {
            Logits = !s.Samples ? Memory<float>.Empty : s.PromptDone < s.Prompt.Length ? s.Logits.AsMemory(0, v) : s.Logits.AsMemory(0, n * v),
            Hidden = mtp ? s.Hidden.AsMemory(0, n * d) : Memory<float>.Empty,
        };
    }

    /// <summary>After the forward: the prompt advances, or the sequence samples (verifying its drafts) and the rules apply.</summary>
    private void Settle(DecodeSequence s, Action<DecodeSequence, GeneratedToken>? emit)
    {
        var state = s.State;
        int v = Model.Config.VocabSize;
        if (s.PromptDone < s.Prompt.Length)
        {
            s.PromptDone += s.FeedCount;
            if (!s.Samples) return;
            if (s.Options.MaxTokens == 0) { s.Finish = FinishReason.Length; return; }
            Sample(s, s.Logits.AsSpan(0, v), -1, emit);
        }
        else
        {
            int k = s.StepDrafts, accepted = 0, kept = 0;
            for (int j = 0; j <= k && !s.IsDone; j++)
            {
                int draft = j < k ? s.Feed[1 + j] : -1;
                int token = Sample(s, s.Logits.AsSpan(j * v, v), draft, emit);
                if (draft < 0 || token != draft) break;
                accepted++;
                // A draft accepted as the stop token ends the sequence outside its output (unless the stop token is part of
                // it), so its row is not kept either: the cache holds the fed tokens of the output and nothing else.
                if (s.Finish != FinishReason.Stop || s.Options.IncludeStopToken) kept++;
            }
            s.Speculation.Add(k, accepted);
            Speculation.Add(k, accepted);
            // The cache keeps the fed last token and the accepted drafts; a rejected draft's rows are forgotten.
            state.Truncate(Math.Min(state.Length, s.StepStart + 1 + kept));
        }
        if (!s.IsDone && state.Length + 1 > state.MaxSequence) s.Finish = FinishReason.ContextFull;
    }

    /// <summary>Samples one position (verifying <paramref name="draft"/> when ≥ 0) and produces the token; returns it.</summary>
    private static int Sample(DecodeSequence s, Span<float> logits, int draft, Action<DecodeSequence, GeneratedToken>? emit)
    {
        var o = s.Options;
        float lse = 0;
        if (o.TopLogprobs >= 0)
        {
            // Log-probabilities of the model's distribution, before the constraint and the sampler change the logits in place.
            s.Raw ??= new float[logits.Length];
            logits.CopyTo(s.Raw);
            lse = LogSumExp(s.Raw);
        }
        o.Constraint?.Mask(logits);
        int token = draft >= 0 ? s.Sampler.Verify(logits, draft) : s.Sampler.Sample(logits);
        float logprob = o.TopLogprobs >= 0 ? s.Raw![token] - lse : 0;
        TokenLogprob[]? top = o.TopLogprobs > 0 ? Top(s.Raw!, o.TopLogprobs, lse) : null;
        if (s.IsStop(token))
        {
            s.Finish = FinishReason.Stop;
            if (o.IncludeStopToken)
            {
                s.Add(token);
                emit?.Invoke(s, new GeneratedToken(token, logprob, top));
            }
            return token;
        }
        o.Constraint?.Accept(token);
        s.Add(token);
        s.Produced++;
        s.Last = token;
        s.Sampler.Observe(token);
        emit?.Invoke(s, new GeneratedToken(token, logprob, top));
        if (s.Produced >= o.MaxTokens) s.Finish = FinishReason.Length;
        return token;
    }

    internal static void Fail(DecodeSequence s, Exception e)
    {
        s.Error = e;
        s.DraftCount = 0;
    }

    private static float LogSumExp(ReadOnlySpan<float> x)
    {
        float max = float.NegativeInfinity;
        foreach (float v in x) max = Math.Max(max, v);
        double sum = 0;
        foreach (float v in x) sum += Math.Exp(v - max);
        return max + (float)Math.Log(sum);
    }

    private static TokenLogprob[] Top(float[] raw, int k, float lse)
    {
        k = Math.Min(k, raw.Length);
        var best = new List<TokenLogprob>(k + 1);
        for (int i = 0; i < raw.Length; i++)
        {
            if (best.Count == k && raw[i] <= best[^1].Logprob) continue;
            int at = best.Count;
            while (at > 0 && best[at - 1].Logprob < raw[i]) at--;
            best.Insert(at, new TokenLogprob(i, raw[i]));
            if (best.Count > k) best.RemoveAt(k);
        }
        return [.. best.Select(b => b with { Logprob = b.Logprob - lse })];
    }

    /// <summary>Prompt then output as one list, without copying (the n-gram drafter's history).</summary>
    private readonly struct ConcatList(int[] first, IReadOnlyList<int> second) : IReadOnlyList<int>
    {
        public int Count => first.Length + second.Count;
        public int this[int index] => index < first.Length ? first[index] : second[index - first.Length];
        public IEnumerator<int> GetEnumerator()
        {
            foreach (int t in first) yield return t;
            foreach (int t in second) yield return t;
        }
        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
