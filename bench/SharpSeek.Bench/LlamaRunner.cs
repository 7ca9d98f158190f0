using System.Diagnostics;
using LLama;
using LLama.Common;
using LLama.Native;

namespace SharpSeek.Bench;

/// <summary>
/// llama.cpp through LLamaSharp, driven like llama-bench: memory-mapped load, prompt processing = one llama_decode of N tokens
/// into an empty cache (n_batch = n_ubatch = N), generation = single-token decodes with logits and a greedy pick.
/// KV cache F16 and flash attention auto, llama.cpp's defaults.
/// </summary>
internal sealed class LlamaRunner : IDisposable
{
    private readonly LLamaWeights _weights;
    private readonly LLamaContext _context;
    private readonly LLamaBatch _batch = new();

    public LlamaRunner(string path, int threads, int contextSize, int batch, int sequences = 1)
    {
        var p = new ModelParams(path)
        {
            ContextSize = (uint)(contextSize * sequences),
            SeqMax = (uint)sequences,
            BatchSize = (uint)batch,
            UBatchSize = (uint)batch,
            Threads = threads,
            BatchThreads = threads,
            GpuLayerCount = 0,
            LoadMode = LLamaLoadMode.MemoryMap,
        };
        _weights = LLamaWeights.LoadFromFile(p);
        _context = _weights.CreateContext(p, null);
    }

    public double Prefill(int[] tokens)
    {
        _context.NativeHandle.MemoryClear(true);
        _batch.Clear();
        for (int i = 0; i < tokens.Length; i++) _batch.Add((LLamaToken)tokens[i], (LLamaPos)i, LLamaSeqId.Zero, i == tokens.Length - 1);
        var clock = Stopwatch.StartNew();
        var r = _context.Decode(_batch);
        double s = clock.Elapsed.TotalSeconds;
        if (r != DecodeResult.Ok) throw new InvalidOperationException($"llama_decode: {r}");
        return tokens.Length / s;
    }

    public double Decode(int first, int steps)
    {
        _context.NativeHandle.MemoryClear(true);
        int token = first;
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < steps; i++)
        {
            _batch.Clear();
            _batch.Add((LLamaToken)token, (LLamaPos)i, LLamaSeqId.Zero, true);
            var r = _context.Decode(_batch);
            if (r != DecodeResult.Ok) throw new InvalidOperationException($"llama_decode: {r}");
            token = ArgMax(_context.NativeHandle.GetLogitsIth(0));
        }
        return steps / clock.Elapsed.TotalSeconds;
    }

    /// <summary>
    /// <paramref name="sequences"/> sequences generated together from empty caches, llama.cpp's batched-bench way: each step is
    /// one llama_decode of one token per sequence id (logits for each), then a greedy pick per sequence. Summed tokens per second.
    /// </summary>
    public double DecodeBatched(int[] first, int steps)
    {
        _context.NativeHandle.MemoryClear(true);
        int b = first.Length;
        var tokens = (int[])first.Clone();
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < steps; i++)
        {
            _batch.Clear();
            for (int s = 0; s < b; s++) _batch.Add((LLamaToken)tokens[s], (LLamaPos)i, (LLamaSeqId)s, true);
            var r = _context.Decode(_batch);
            if (r != DecodeResult.Ok) throw new InvalidOperationException($"llama_decode: {r}");
            for (int s = 0; s < b; s++) tokens[s] = ArgMax(_context.NativeHandle.GetLogitsIth(s));
        }
        return (double)steps * b / clock.Elapsed.TotalSeconds;
    }

    /// <summary>One decode step of <paramref name="token"/> at <paramref name="pos"/> (the cache continues); its logits.</summary>
    public float[] Step(int token, int pos)
    {
        if (pos == 0) _context.NativeHandle.MemoryClear(true);
        _batch.Clear();
        _batch.Add((LLamaToken)token, (LLamaPos)pos, LLamaSeqId.Zero, true);
        var r = _context.Decode(_batch);
        if (r != DecodeResult.Ok) throw new InvalidOperationException($"llama_decode: {r}");
        return _context.NativeHandle.GetLogitsIth(0).ToArray();
    }

    private static int ArgMax(ReadOnlySpan<float> x)
    {
        int best = 0;
        for (int i = 1; i < x.Length; i++) if (x[i] > x[best]) best = i;
        return best;
    }

    public void Dispose()
    {
        _context.Dispose();
        _weights.Dispose();
    }
}
