using System.Runtime.CompilerServices;
using SharpSeek.Models;

namespace SharpSeek.Generation;

/// <summary>
/// Drafts with DeepSeek's MTP layer, as SGLang's NextN does: after each step, the MTP layer runs over the positions the step
/// settled (row i: the main model's final hidden state at i and the token at i + 1; "draft extend"), which fills its own cache
/// and predicts the token after the next one (the first draft, greedy); further drafts chain the MTP layer on its own normed
/// output and the draft before. One MTP pass serves every MTP sequence of the step. Drafts are argmax tokens (a deterministic
/// draft); <see cref="Sampler.Verify"/> keeps the sampled output on the model's distribution.
/// </summary>
internal sealed unsafe class MtpDrafter(Transformer model)
{
    private readonly List<DecodeSequence> _seqs = [];
    private SegmentRun[] _runs = [];

    public void Draft(List<DecodeSequence> running, DecodeStep step)
    {
        int v = model.Config.VocabSize, d = model.Config.HiddenSize;
        _seqs.Clear();
        foreach (var s in running)
            if (!s.IsDone && s.Options.Speculation.Kind == SpeculationKind.Mtp) _seqs.Add(s);
        if (_seqs.Count == 0) return;
        if (_runs.Length < _seqs.Count) _runs = new SegmentRun[2 * _seqs.Count];

        // Extend: the rows this step settled, each with the token that follows it.
        for (int i = 0; i < _seqs.Count; i++)
        {
            var s = _seqs[i];
            var state = s.State;
            int end = state.Length;
            if (state.MtpLength < s.StepStart) state.MtpStart = state.MtpLength = s.StepStart;   // rows without hidden states: start over here
            int start = state.MtpLength, n = end - start;
            DecodeStep.GrowPinned(ref s.MtpTokens, Math.Max(n, 1));
            DecodeStep.GrowPinned(ref s.MtpLogits, v);
            DecodeStep.GrowPinned(ref s.MtpHidden, d);
            for (int r = 0; r < n; r++)
            {
                int next = start + r + 1;
                s.MtpTokens[r] = next < end ? s.Feed[next - s.StepStart] : s.PromptDone < s.Prompt.Length ? s.Prompt[s.PromptDone] : s.Last;
            }
            bool drafts = Budget(s) > 0;
            _runs[i] = new SegmentRun(state, Pointer(s.MtpTokens), n, drafts ? Pointer(s.MtpLogits) : null, false,
                drafts ? Pointer(s.MtpHidden) : null, false, Pointer(s.Hidden) + (long)(start - s.StepStart) * d) { Start = start };
            s.DraftCount = 0;
        }
        Run(_runs.AsSpan(0, _seqs.Count), skipEmpty: true);
        foreach (var s in _seqs)
            if (!s.IsDone)
            {
                s.State.MtpLength = s.State.Length;
                if (Budget(s) > 0) { s.Drafts[0] = Sampler.ArgMax(s.MtpLogits.AsSpan(0, v)); s.DraftCount = 1; }
            }

        // Chain: each further draft from the MTP layer's own output and the draft before, one row per sequence.
        for (int c = 1; ; c++)
        {
            int count = 0;
            foreach (var s in _seqs)
            {
                if (s.IsDone || s.DraftCount != c || Budget(s) <= c) continue;
                s.MtpTokens[0] = s.Drafts[c - 1];
                _runs[count++] = new SegmentRun(s.State, Pointer(s.MtpTokens), 1, Pointer(s.MtpLogits), false, Pointer(s.MtpHidden), false, Pointer(s.MtpHidden))
                {
                    Start = s.State.Length + c - 1,
                };
            }
            if (count == 0) break;
            Run(_runs.AsSpan(0, count), skipEmpty: false);
            foreach (var s in _seqs)
                if (!s.IsDone && s.DraftCount == c && Budget(s) > c) { s.Drafts[c] = Sampler.ArgMax(s.MtpLogits.AsSpan(0, v)); s.DraftCount = c + 1; }
        }
    }

    /// <summary>Drafts the sequence may still use next step: its setting, the tokens max_tokens leaves after the next sampled one, the context.</summary>
    private static int Budget(DecodeSequence s) => s.PromptDone < s.Prompt.Length ? 0
        : Math.Min(s.Drafts.Length, Math.Min(s.Options.MaxTokens - s.Produced - 1, s.State.MaxSequence - s.State.Length - 1));

    /// <summary>The MTP pass over the runs; if it fails, each sequence alone, and the ones that fail get the error.</summary>
    private void Run(Span<SegmentRun> runs, bool skipEmpty)
    {
        int n = 0;
        for (int i = 0; i < runs.Length; i++)
            if (runs[i].Count > 0 || !skipEmpty) runs[n++] = runs[i];
        runs = runs[..n];
        if (n == 0) return;
        try
        {
            model.ForwardMtp(runs);
            return;
        }
        catch (Exception e) when (n == 1)
        {
            Fail(runs[0].State, e);
            return;
        }
        catch (Exception)
        {
        }
        for (int i = 0; i < n; i++)
        {
            try { model.ForwardMtp(runs.Slice(i, 1)); }
            catch (Exception e) { Fail(runs[i].State, e); }
        }
    }

    private void Fail(InferenceState state, Exception e)
    {
        foreach (var s in _seqs)
            if (ReferenceEquals(s.State, state)) DecodeStep.Fail(s, e);
    }

    private static T* Pointer<T>(T[] pinned) where T : unmanaged => (T*)Unsafe.AsPointer(ref pinned[0]);
}
