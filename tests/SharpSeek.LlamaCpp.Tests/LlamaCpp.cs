using LLama;
using LLama.Common;
using LLama.Native;

namespace SharpSeek.LlamaCpp.Tests;

/// <summary>
/// llama.cpp (LLamaSharp 0.30.0 + LLamaSharp.Backend.Cpu 0.30.0) as the oracle: the logits it computes for a GGUF file in
/// its exact configuration — KV cache F32, flash attention off (on CPU it is F16-precision), every position of one batch
/// in one <c>llama_decode</c>. Its own quantized products quantize the activations (Q8_0/Q8_K blocks, F16 or BF16 rows)
/// before each mat-mul, which is why only F32 files are compared to 1e-4.
/// </summary>
internal static class LlamaCpp
{
    private static readonly Lazy<bool> Configured = new(() =>
    {
        // llama.cpp logs every tensor it loads; keep its errors only. Must be set before the native library loads.
        NativeLibraryConfig.All.WithLogCallback((level, message) => { if (level >= LLamaLogLevel.Error) Console.Error.Write(message); });
        return true;
    });

    private static readonly object Gate = new();

    /// <summary>llama.cpp's ids for <paramref name="text"/> with the GGUF's own vocabulary, special-token text parsed, no BOS added.</summary>
    public static int[] Tokenize(string gguf, string text)
    {
        _ = Configured.Value;
        lock (Gate)
        {
            using var weights = LLamaWeights.LoadFromFile(new ModelParams(gguf) { GpuLayerCount = 0, VocabOnly = true });
            return [.. weights.Tokenize(text, false, true, System.Text.Encoding.UTF8).Select(t => (int)t)];
        }
    }

    /// <summary>[T × n_vocab] logits, row t after tokens[0..t].</summary>
    public static float[] Logits(string gguf, int[] tokens)
    {
        _ = Configured.Value;
        lock (Gate)   // one model at a time: the tests run in parallel and llama.cpp already uses both cores
        {
            var p = new ModelParams(gguf)
            {
                ContextSize = (uint)Math.Max(64, tokens.Length),
                BatchSize = (uint)tokens.Length,
                UBatchSize = (uint)tokens.Length,
                Threads = 2,
                BatchThreads = 2,
                GpuLayerCount = 0,
                TypeK = GGMLType.GGML_TYPE_F32,
                TypeV = GGMLType.GGML_TYPE_F32,
                FlashAttention = false,
                LoadMode = LLamaLoadMode.MemoryMap,
            };
            using var weights = LLamaWeights.LoadFromFile(p);
            using var context = weights.CreateContext(p, null);
            int vocab = weights.Vocab.Count;
            var batch = new LLamaBatch();
            for (int i = 0; i < tokens.Length; i++) batch.Add((LLamaToken)tokens[i], (LLamaPos)i, LLamaSeqId.Zero, true);
            var r = context.Decode(batch);
            if (r != DecodeResult.Ok) throw new InvalidOperationException($"llama_decode on {gguf}: {r}");
            var logits = new float[tokens.Length * vocab];
            for (int i = 0; i < tokens.Length; i++)
            {
                var row = context.NativeHandle.GetLogitsIth(i);
                if (row.Length != vocab) throw new InvalidOperationException($"llama.cpp returned {row.Length} logits for a vocabulary of {vocab}");
                row.CopyTo(logits.AsSpan(i * vocab, vocab));
            }
            return logits;
        }
    }
}
