using SharpSeek.Tensors;

namespace SharpSeek.Models;

/// <summary>What <c>sharpseek info</c> reports about a loaded model.</summary>
public sealed record ModelInfo
{
    public required string Path { get; init; }
    public required string Architecture { get; init; }
    public required string ModelType { get; init; }
    public required int Layers { get; init; }
    public required int MtpModules { get; init; }
    public required int HiddenSize { get; init; }
    public required int VocabSize { get; init; }
    public required long Parameters { get; init; }
    public required long ActiveParameters { get; init; }
    public required long MtpParameters { get; init; }
    /// <summary>Tensor count and element count per storage type, over every tensor in the checkpoint.</summary>
    public required IReadOnlyDictionary<string, (int Tensors, long Elements)> DTypes { get; init; }
    public required int ContextLength { get; init; }
    /// <summary>Bytes of cache per token as the engine stores it (float32).</summary>
    public required long KvCacheBytesPerToken { get; init; }
    /// <summary>Bytes per token a plain multi-head K/V cache (float32) would need.</summary>
    public required long PlainKvCacheBytesPerToken { get; init; }
    public required string KvCacheLayout { get; init; }

    public static ModelInfo Of(Transformer model)
    {
        var c = model.Config;
        var dtypes = new SortedDictionary<string, (int, long)>(StringComparer.Ordinal);
        foreach (var name in model.Source.Names)
        {
            WeightTensor t = model.Source.Get(name);
            string key = t.Type.DisplayName();
            var (n, e) = dtypes.GetValueOrDefault(key);
            dtypes[key] = (n + 1, e + t.ElementCount);
        }
        long perLayer = model.CachedValuesPerTokenPerLayer, plain = model.NaiveCachedValuesPerTokenPerLayer;
        string layout = c.Family == ModelFamily.DeepSeek
            ? $"MLA latent {c.KvLoraRank} + rope key {c.QkRopeHeadDim} values per layer"
            : $"K and V: 2 × {c.NumKeyValueHeads} KV heads × {c.HeadDim} values per layer";
        if (c.Family == ModelFamily.Dense) plain = 2L * c.NumAttentionHeads * c.HeadDim;
        return new ModelInfo
        {
            Path = model.Path,
            Architecture = c.Architecture,
            ModelType = c.ModelType,
            Layers = c.NumHiddenLayers,
            MtpModules = model.MtpModuleCount,
            HiddenSize = c.HiddenSize,
            VocabSize = c.VocabSize,
            Parameters = model.ParameterCount,
            ActiveParameters = model.ActiveParameterCount,
            MtpParameters = model.MtpParameterCount,
            DTypes = dtypes,
            ContextLength = c.MaxPositionEmbeddings,
            KvCacheBytesPerToken = 4 * perLayer * c.NumHiddenLayers,
            PlainKvCacheBytesPerToken = 4 * plain * c.NumHiddenLayers,
            KvCacheLayout = layout,
        };
    }
}
