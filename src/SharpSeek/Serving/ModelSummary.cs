using SharpSeek.Formats;
using SharpSeek.Formats.Gguf;
using SharpSeek.Formats.Safetensors;
using SharpSeek.Models;
using SharpSeek.Tensors;

namespace SharpSeek.Serving;

/// <summary>
/// What a server lists about a model without loading it (Ollama's <c>/api/tags</c> details): read from the config and
/// the tensor headers, which are mapped but whose weights are never touched.
/// </summary>
/// <param name="Format"><c>gguf</c> or <c>safetensors</c>.</param>
/// <param name="ModelType">The config's <c>model_type</c> (<c>deepseek_v3</c>, <c>qwen2</c>, …), Ollama's family.</param>
/// <param name="Parameters">Elements of every tensor in the checkpoint.</param>
/// <param name="Quantization">The storage type most weight bytes are in (<c>Q4_K</c>, <c>BF16</c>, …).</param>
/// <param name="Bytes">Bytes of the weight files (links count as the files they name).</param>
public sealed record ModelSummary(string Format, string Architecture, string ModelType, long Parameters, string Quantization, int ContextLength, long Bytes, DateTime Modified)
{
    /// <summary>Reads the summary of the model at <paramref name="path"/>; a <see cref="SharpSeekException"/> names what is wrong with it.</summary>
    public static ModelSummary Read(string path)
    {
        bool gguf = File.Exists(path);
        ModelConfig config;
        ITensorSource source;
        if (gguf)
        {
            var g = new GgufTensorSource(path);
            source = g;
            try { config = GgufConfig.Build(g.File); }
            catch { g.Dispose(); throw; }
        }
        else
        {
            config = ModelConfig.Load(Path.Combine(path, "config.json"));
            source = new SafetensorsCheckpoint(path, config.Fp8BlockSize);
        }
        using (source)
        {
            long parameters = 0;
            var bytes = new Dictionary<string, long>(StringComparer.Ordinal);
            foreach (string name in source.Names)
            {
                var t = source.Get(name);
                parameters += t.ElementCount;
                if (t.Shape.Length >= 2) bytes[t.Type.DisplayName()] = bytes.GetValueOrDefault(t.Type.DisplayName()) + t.ByteLength;
            }
            var files = WeightFiles(path).ToList();
            return new ModelSummary(gguf ? "gguf" : "safetensors", config.Architecture, config.ModelType, parameters,
                bytes.Count == 0 ? "?" : bytes.MaxBy(kv => kv.Value).Key, config.MaxPositionEmbeddings,
                files.Sum(f => f.Length), files.Count == 0 ? DateTime.MinValue : files.Max(f => f.LastWriteTimeUtc));
        }
    }

    /// <summary>The weight files of a model (their link targets, as a hub cache snapshot is made of links).</summary>
    public static IEnumerable<FileInfo> WeightFiles(string path)
    {
        if (File.Exists(path)) return [RegularFile.Target(path)];
        if (!Directory.Exists(path)) return [];
        return new DirectoryInfo(path).EnumerateFiles("*.safetensors").Select(f => f.LinkTarget is null ? f : RegularFile.Target(f.FullName));
    }

    /// <summary>Bytes of the weight files: what loading the model will map (and, for quantized files, copy).</summary>
    public static long WeightBytes(string path) => WeightFiles(path).Sum(f => f.Length);
}
