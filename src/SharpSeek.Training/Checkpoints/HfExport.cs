using System.Text.Json;
using SharpSeek.Formats.Safetensors;
using SharpSeek.Training.Data;
using SharpSeek.Training.Model;

namespace SharpSeek.Training.Checkpoints;

/// <summary>
/// Exports a trained model in the Hugging Face layout the engine loads: <c>config.json</c>, <c>model.safetensors</c>
/// (official DeepSeek names; the MTP module at layer <c>num_hidden_layers</c> with copies of the shared
/// <c>embed_tokens</c> and <c>shared_head.head</c>, as DeepSeek ships it), <c>generation_config.json</c> and,
/// for byte-level training, <c>tokenizer.json</c> + <c>tokenizer_config.json</c>.
/// </summary>
public static class HfExport
{
    /// <param name="dtype">"F32" (exact) or "BF16" (half the size; the engine widens it).</param>
    /// <param name="byteTokenizer">Write the byte-level tokenizer files (the model was trained on <see cref="ByteTokenizer"/> ids).</param>
    public static void Save(DeepSeekModel model, string directory, string dtype = "F32", bool byteTokenizer = true)
    {
        Directory.CreateDirectory(directory);
        var cfg = model.Config;
        File.WriteAllBytes(Path.Combine(directory, "config.json"), ConfigJson.Write(cfg, dtype == "BF16" ? "bfloat16" : "float32"));
        Weights(model, dtype).Save(Path.Combine(directory, "model.safetensors"));
        File.WriteAllBytes(Path.Combine(directory, "generation_config.json"), GenerationConfig(cfg.BosTokenId, cfg.EosTokenIds));
        if (byteTokenizer)
        {
            File.WriteAllBytes(Path.Combine(directory, "tokenizer.json"), ByteTokenizer.TokenizerJson());
            File.WriteAllBytes(Path.Combine(directory, "tokenizer_config.json"), ByteTokenizer.TokenizerConfigJson(cfg.MaxPositionEmbeddings));
        }
    }

    /// <summary>Every parameter under its checkpoint name (the gate bias in F32 always), plus the MTP layer's aliases.</summary>
    public static SafetensorsWriter Weights(DeepSeekModel model, string dtype = "F32")
    {
        var writer = new SafetensorsWriter();
        // The detached, reshaped temporaries are freed here rather than by finalizers on another thread: GRPO exports
        // every step, and a background-GC crash once ended a GRPO run (cause not pinned down; this removes one suspect).
        using var scope = TorchSharp.torch.NewDisposeScope();
        foreach (var (name, p) in model.named_parameters())
        {
            float[] data = p.detach().contiguous().reshape(-1).data<float>().ToArray();
            bool keepF32 = p.dim() == 1 && name.EndsWith("e_score_correction_bias", StringComparison.Ordinal);
            writer.Add(name, data, p.shape, keepF32 ? "F32" : dtype);
        }
        if (model.Mtp is not null)
        {
            string prefix = $"model.layers.{model.Config.NumHiddenLayers}.";
            var named = model.named_parameters().ToDictionary(x => x.name, x => x.parameter);
            foreach (var (alias, source) in new[] { ("embed_tokens.weight", "model.embed_tokens.weight"), ("shared_head.head.weight", "lm_head.weight") })
            {
                var p = named[source];
                writer.Add(prefix + alias, p.detach().contiguous().reshape(-1).data<float>().ToArray(), p.shape, dtype);
            }
        }
        return writer;
    }

    private static byte[] GenerationConfig(int? bos, IReadOnlyList<int> eos)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            if (bos is int b) w.WriteNumber("bos_token_id", b);
            if (eos.Count > 0) w.WriteNumber("eos_token_id", eos[0]);
            w.WriteBoolean("do_sample", true);
            w.WriteNumber("temperature", 0.6);
            w.WriteNumber("top_p", 0.95);
            w.WriteEndObject();
        }
        return stream.ToArray();
    }
}
