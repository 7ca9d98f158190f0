namespace SharpSeek.Generation;

/// <summary>
/// Picks the next token from logits: repetition penalty → temperature → top-k → softmax → top-p → min-p → draw.
/// Buffers are sized once for the vocabulary, so sampling allocates nothing per token.
/// </summary>
public sealed class Sampler
{
    private readonly SamplingOptions _options;
    private readonly Rng _rng;
    private readonly int[] _index;
    private readonly float[] _prob;
    private readonly bool[] _seen;

    /// <summary>First window of the top-p-only path (see <see cref="Sample"/>).</summary>
    private const int NucleusWindow = 256;

    public Sampler(int vocabSize, SamplingOptions options)
    {
        options.Validate();
        _options = options;
        _rng = new Rng(options.Seed ?? (ulong)Environment.TickCount64 ^ (ulong)Environment.ProcessId << 32);
        _index = new int[vocabSize];
        _prob = new float[vocabSize];
        _seen = new bool[vocabSize];
    }

    public SamplingOptions Options => _options;

    /// <summary>Tells the sampler a token is now part of the sequence (for the repetition penalty).</summary>
    public void Observe(int token)
    {
        if ((uint)token < (uint)_seen.Length) _seen[token] = true;
    }

    public void Reset() => Array.Clear(_seen);

    /// <summary>Chooses a token; <paramref name="logits"/> is modified.</summary>
    public int Sample(Span<float> logits)
    {
        int n = Candidates(logits, out double sum);
        return n < 0 ? _index[0] : Draw(n, sum, -1);
    }

    /// <summary>
    /// Speculative verification of a drafted token against these logits (the target model's), with the standard acceptance rule
    /// for a deterministic draft (the draft distribution puts all its mass on <paramref name="draft"/>): the draft is kept with
    /// probability p(draft), else a token is drawn from p with the draft left out (max(p − q, 0), renormalised). The result is
    /// distributed exactly as <see cref="Sample"/>'s; greedy sampling returns the argmax, which equals the draft exactly when the
    /// draft is the token plain decoding would pick. <paramref name="logits"/> is modified.
    /// </summary>
    public int Verify(Span<float> logits, int draft)
    {
        int n = Candidates(logits, out double sum);
        if (n < 0) return _index[0];
        double pd = 0;
        for (int i = 0; i < n; i++)
            if (_index[i] == draft) { pd = _prob[i]; break; }
        if (pd > 0 && _rng.NextDouble() * sum < pd) return draft;
        return Draw(n, sum - pd, draft);
    }

    /// <summary>Draws from the first <paramref name="n"/> candidates (their weights summing to <paramref name="sum"/>), leaving out <paramref name="excluded"/>.</summary>
    private int Draw(int n, double sum, int excluded)
    {
        double r = _rng.NextDouble() * sum;
        int last = -1;
        for (int i = 0; i < n; i++)
        {
            if (_index[i] == excluded) continue;
            last = _index[i];
            r -= _prob[i];
            if (r < 0) return _index[i];
        }
        return last >= 0 ? last : _index[0];
    }

    /// <summary>
    /// The distribution to draw from: candidate tokens in _index[0..n) with unnormalised weights in _prob[0..n) summing to
    /// <paramref name="sum"/>. Greedy sampling returns −1 with the argmax in _index[0].
    /// </summary>
    private int Candidates(Span<float> logits, out double sum)
    {
        int v = logits.Length;
        sum = 0;
        if (_options.RepetitionPenalty != 1)
        {
            float rp = _options.RepetitionPenalty;
            for (int i = 0; i < v; i++)
                if (_seen[i]) logits[i] = logits[i] > 0 ? logits[i] / rp : logits[i] * rp;
        }
        if (_options.Temperature < SamplingOptions.GreedyBelowTemperature)
        {
            _index[0] = ArgMax(logits);
            return -1;
        }

        float invT = 1f / _options.Temperature;
        float max = float.NegativeInfinity;
        for (int i = 0; i < v; i++) max = Math.Max(max, logits[i]);

        // Candidates sorted by logit, largest first (top-k keeps a prefix).
        int n = v;
        for (int i = 0; i < v; i++) _index[i] = i;
        int k = _options.TopK > 0 ? Math.Min(_options.TopK, v) : v;
        double mass = -1;   // the whole vocabulary's softmax mass when only a window of it is sorted (top-p without top-k)
        bool selected = false;
        if (k == v && _options.TopP < 1 && v > NucleusWindow)
        {
            // Top-p alone: the nucleus is almost always a few hundred tokens, so sort a top-w window and widen it
            // only until it holds the top-p mass, instead of sorting a 150k vocabulary for every token.
            mass = 0;
            for (int i = 0; i < v; i++) mass += MathF.Exp((logits[i] - max) * invT);
            double target = _options.TopP * mass;
            for (int w = NucleusWindow; ; w = Math.Min(v, w * 4))
            {
                SelectTopK(logits, w);
                double inWindow = 0;
                for (int i = 0; i < w; i++) inWindow += MathF.Exp((logits[_index[i]] - max) * invT);
                if (inWindow >= target || w == v) { k = w; selected = true; break; }
            }
        }
        if (k < v || _options.TopP < 1)
        {
            int m = v;
            if (k < v)
            {
                // Top-k first: keep the k best in _index[0..k) with one pass and a min-heap, then sort only those.
                if (!selected) SelectTopK(logits, k);
                m = k;
            }
            for (int i = 0; i < m; i++) _prob[i] = -logits[_index[i]];
            Array.Sort(_prob, _index, 0, m);   // ascending of negated = descending logits
            n = k;
        }
        for (int i = 0; i < n; i++)
        {
            float p = MathF.Exp((logits[_index[i]] - max) * invT);
            _prob[i] = p;
            sum += p;
        }
        if (_options.TopP < 1)
        {
            double cum = 0, target = _options.TopP * (mass >= 0 ? mass : sum);
            for (int i = 0; i < n; i++)
            {
                cum += _prob[i];
                if (cum >= target) { n = i + 1; break; }
            }
        }
        if (_options.MinP > 0)
        {
            float best = 0;
            for (int i = 0; i < n; i++) best = Math.Max(best, _prob[i]);
            float floor = _options.MinP * best;
            int m = 0;
            for (int i = 0; i < n; i++)
                if (_prob[i] >= floor) { _index[m] = _index[i]; _prob[m] = _prob[i]; m++; }
            n = m;
        }
        sum = 0;
        for (int i = 0; i < n; i++) sum += _prob[i];
        // NaN or infinite logits (broken weights, an overflow) would otherwise draw the last candidate for ever.
        if (!double.IsFinite(sum) || !(sum > 0)) throw NonFinite();
        return n;
    }

    /// <summary>Puts the indices of the k largest logits into _index[0..k) (a min-heap on logit; order unspecified).</summary>
    private void SelectTopK(ReadOnlySpan<float> logits, int k)
    {
        var heap = _index.AsSpan(0, k);
        for (int i = 0; i < k; i++) { heap[i] = i; SiftUp(heap, logits, i); }
        for (int i = k; i < logits.Length; i++)
        {
            if (logits[i] <= logits[heap[0]]) continue;
            heap[0] = i;
            SiftDown(heap, logits, 0);
        }
    }

    private static void SiftUp(Span<int> heap, ReadOnlySpan<float> key, int i)
    {
        while (i > 0)
        {
            int parent = (i - 1) / 2;
            if (key[heap[parent]] <= key[heap[i]]) return;
            (heap[parent], heap[i]) = (heap[i], heap[parent]);
            i = parent;
        }
    }

    private static void SiftDown(Span<int> heap, ReadOnlySpan<float> key, int i)
    {
        while (true)
        {
            int l = 2 * i + 1, r = l + 1, smallest = i;
            if (l < heap.Length && key[heap[l]] < key[heap[smallest]]) smallest = l;
            if (r < heap.Length && key[heap[r]] < key[heap[smallest]]) smallest = r;
            if (smallest == i) return;
            (heap[smallest], heap[i]) = (heap[i], heap[smallest]);
            i = smallest;
        }
    }

    /// <summary>The index of the largest logit (the first on ties); NaN logits are refused.</summary>
    public static int ArgMax(ReadOnlySpan<float> logits)
    {
        int best = 0;
        for (int i = 1; i < logits.Length; i++)
            if (logits[i] > logits[best] || float.IsNaN(logits[best])) best = i;
        if (float.IsNaN(logits[best])) throw NonFinite();
        return best;
    }

    private static SharpSeekException NonFinite() =>
        new("the model's next-token probabilities are not finite (NaN or infinite logits); the weights or the config are broken");
}
