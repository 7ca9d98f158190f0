using System.Diagnostics;
using SharpSeek.Generation;
using SharpSeek.Models;

namespace SharpSeek.Diagnostics;

/// <summary>Medians of one <see cref="ThroughputBenchmark"/> run, in tokens per second.</summary>
public sealed record ThroughputResult(double PrefillTps, double DecodeTps, double[] PrefillRuns, double[] DecodeRuns, long RssBytes, long KvBytesPerToken)
{
    /// <summary>Batched decode: B sequences stepped together, tokens per second summed over them (0 when not measured).</summary>
    public double BatchDecodeTps { get; init; }
    public double[] BatchDecodeRuns { get; init; } = [];
    public int Batch { get; init; } = 1;

    /// <summary>Greedy decoding with speculation (<see cref="Speculation"/>), tokens per second, and its drafts (0 when not measured).</summary>
    public Speculation Speculation { get; init; } = Speculation.None;
    public double SpeculativeDecodeTps { get; init; }
    public double[] SpeculativeDecodeRuns { get; init; } = [];
    public long DraftTokens { get; init; }
    public long AcceptedTokens { get; init; }
    public double AcceptRate => DraftTokens == 0 ? 0 : (double)AcceptedTokens / DraftTokens;
}

/// <summary>
/// llama-bench style throughput: prompt processing is one batch of N random tokens into an empty cache; generation is
/// single-token steps from an empty cache with a greedy pick from the logits; with <c>batch</c> B &gt; 1 also B sequences
/// generated together (llama.cpp's batched-bench: each step is one forward of B decode rows, every weight streamed once for all
/// of them), reported as their summed tokens per second. Warm-up passes first, repeated for at least <see cref="WarmUpTime"/>
/// (the first also pages in the memory-mapped weights), then <c>reps</c> runs of each, interleaved; medians are reported.
/// </summary>
public static class ThroughputBenchmark
{
    /// <summary>
    /// The least time spent in warm-up passes. The runtime's tiered JIT starts optimizing a method only after it has been
    /// called often and no new method was compiled for 100 ms, then compiles it in the background; one warm-up pass of a
    /// small model lasts milliseconds, so its first timed reps ran unoptimized code at a third of the later reps' speed. A
    /// large model's single pass already lasts longer than this.
    /// </summary>
    public static readonly TimeSpan WarmUpTime = TimeSpan.FromSeconds(1.5);

    public static ThroughputResult Run(Transformer model, int promptTokens, int genTokens, int reps, int seed = 1234, Action<string>? log = null, int batch = 1,
        Speculation? speculation = null)
    {
        speculation ??= Speculation.None;
        if (promptTokens < 1 || genTokens < 1 || reps < 1) throw new ArgumentOutOfRangeException(nameof(reps), "prompt tokens, generated tokens and reps must be positive");
        int vocab = model.Config.VocabSize;
        var rng = new Random(seed);
        var prompt = new int[promptTokens];
        var logits = new float[vocab];
        var pp = new InferenceState[reps + 1];
        var tg = new InferenceState[reps + 1];
        // States are made up front so that neither timed loop allocates its cache or workspace.
        int maxSeq = Math.Max(promptTokens, genTokens) + 1;
        for (int i = 0; i <= reps; i++)
        {
            pp[i] = model.CreateState(maxSeq);
            tg[i] = model.CreateState(maxSeq);
        }
        var batched = new InferenceState[batch > 1 ? (reps + 1) * batch : 0];
        for (int i = 0; i < batched.Length; i++) batched[i] = model.CreateState(genTokens + 1);
        var batchLogits = new float[batch > 1 ? (long)batch * vocab : 0];
        var prefill = new double[reps];
        var decode = new double[reps];
        var batchDecode = new double[batch > 1 ? reps : 0];
        var specDecode = new double[speculation.Enabled ? reps : 0];
        var specStats = new SpeculationStats();
        // Slot 0's states serve every warm-up pass (emptied before each); slot rep + 1 serves timed rep `rep`.
        (double Pp, double Tg, double Bt, double Sp) Pass(int slot, int steps, SpeculationStats stats)
        {
            for (int i = 0; i < prompt.Length; i++) prompt[i] = rng.Next(vocab);
            var state = pp[slot];
            var clock = Stopwatch.StartNew();
            model.Forward(state, prompt, logits);
            double ppTps = promptTokens / clock.Elapsed.TotalSeconds;
            state = tg[slot];
            Span<int> token = [rng.Next(vocab)];
            clock.Restart();
            for (int i = 0; i < steps; i++)
            {
                model.Forward(state, token, logits);
                token[0] = ArgMax(logits);
            }
            double tgTps = steps / clock.Elapsed.TotalSeconds;
            double btTps = batch > 1 ? BatchDecode(model, batched.AsSpan(slot * batch, batch), steps, rng, batchLogits) : 0;
            double spTps = speculation.Enabled ? SpeculativeDecode(model, rng.Next(vocab), steps, speculation, stats) : 0;
            return (ppTps, tgTps, btTps, spTps);
        }
        string Line(string name, (double Pp, double Tg, double Bt, double Sp) r) => FormattableString.Invariant(
            $"{name}: prefill {r.Pp:0.00} tok/s, decode {r.Tg:0.00} tok/s{(batch > 1 ? $", batched decode ×{batch} {r.Bt:0.00} tok/s" : "")}{(speculation.Enabled ? $", speculative decode ({speculation}) {r.Sp:0.00} tok/s" : "")}");

        var warmUp = Stopwatch.StartNew();
        int passes = 0;
        (double Pp, double Tg, double Bt, double Sp) last;
        do
        {
            if (passes++ > 0)
            {
                pp[0].Truncate(0);
                tg[0].Truncate(0);
                foreach (var st in batched.AsSpan(0, batch > 1 ? batch : 0)) st.Truncate(0);
            }
            last = Pass(0, genTokens, new SpeculationStats());
        } while (warmUp.Elapsed < WarmUpTime);
        log?.Invoke(Line(FormattableString.Invariant($"warm-up ({passes} passes, {warmUp.Elapsed.TotalSeconds:0.0} s, the last)"), last));
        for (int rep = 0; rep < reps; rep++)
        {
            var r = Pass(rep + 1, genTokens, specStats);
            prefill[rep] = r.Pp;
            decode[rep] = r.Tg;
            if (batch > 1) batchDecode[rep] = r.Bt;
            if (speculation.Enabled) specDecode[rep] = r.Sp;
            log?.Invoke(Line($"rep {rep + 1}", r));
        }
        long kvPerToken = (long)model.CachedValuesPerTokenPerLayer * model.Config.NumHiddenLayers * sizeof(float);
        long rss = Process.GetCurrentProcess().WorkingSet64;
        return new ThroughputResult(Median(prefill), Median(decode), prefill, decode, rss, kvPerToken)
        {
            Batch = batch,
            BatchDecodeTps = batch > 1 ? Median(batchDecode) : 0,
            BatchDecodeRuns = batchDecode,
            Speculation = speculation,
            SpeculativeDecodeTps = speculation.Enabled ? Median(specDecode) : 0,
            SpeculativeDecodeRuns = specDecode,
            DraftTokens = specStats.DraftTokens,
            AcceptedTokens = specStats.AcceptedTokens,
        };
    }

    /// <summary>
    /// Greedy decoding with speculation from an empty cache, as the plain decode runs: <paramref name="steps"/> tokens after one
    /// random token, through the decode step every caller uses; tokens per second of the tokens after the first.
    /// </summary>
    private static double SpeculativeDecode(Transformer model, int first, int steps, Speculation speculation, SpeculationStats stats)
    {
        var step = new DecodeStep(model);
        var options = new GenerationOptions { MaxTokens = steps + 1, IgnoreEos = true, Speculation = speculation };
        var seq = new DecodeSequence(model, [first], options, model.CreateState(steps + 2));
        var one = new[] { seq };
        step.Run(one);   // the prompt and the first token
        var clock = Stopwatch.StartNew();
        while (!seq.IsDone) step.Run(one);
        double seconds = clock.Elapsed.TotalSeconds;
        if (seq.Error is { } e) throw e;
        stats.Add((int)step.Speculation.DraftTokens, (int)step.Speculation.AcceptedTokens);
        return (seq.Output.Count - 1) / seconds;
    }

    /// <summary><paramref name="steps"/> steps of the sequences together from empty caches, greedy; summed tokens per second.</summary>
    private static double BatchDecode(Transformer model, Span<InferenceState> states, int steps, Random rng, float[] logits)
    {
        int b = states.Length, v = model.Config.VocabSize;
        var tokens = new int[b][];
        var segments = new Segment[b];
        for (int i = 0; i < b; i++)
        {
            tokens[i] = [rng.Next(v)];
            segments[i] = new Segment(states[i], tokens[i]) { Logits = logits.AsMemory(i * v, v) };
        }
        var clock = Stopwatch.StartNew();
        for (int s = 0; s < steps; s++)
        {
            model.Forward(segments);
            for (int i = 0; i < b; i++) tokens[i][0] = ArgMax(logits.AsSpan(i * v, v));
        }
        return (double)steps * b / clock.Elapsed.TotalSeconds;
    }

    public static double Median(double[] values)
    {
        var s = values.Order().ToArray();
        return s.Length == 0 ? double.NaN : s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
    }

    private static int ArgMax(ReadOnlySpan<float> x)
    {
        int best = 0;
        for (int i = 1; i < x.Length; i++) if (x[i] > x[best]) best = i;
        return best;
    }
}
