using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using SharpSeek.Models;

namespace SharpSeek.Serving;

/// <summary>
/// What a prefix block on disk must match to be used: the model that computed it (<see cref="ModelId"/>), the tokens
/// per block and the widths of each layer's cached rows. Blocks of another model or layout are never loaded.
/// </summary>
public sealed class PrefixBlockLayout
{
    public PrefixBlockLayout(byte[] modelId, int blockSize, int[][] rowWidths)
    {
        if (modelId.Length != ModelIdBytes) throw new ArgumentException($"a model id has {ModelIdBytes} bytes", nameof(modelId));
        if (blockSize <= 0) throw new ArgumentOutOfRangeException(nameof(blockSize));
        if (rowWidths.Length == 0 || rowWidths.Any(l => l.Length != rowWidths[0].Length || l.Any(w => w <= 0)))
            throw new ArgumentException("every layer must have the same number of positive row widths", nameof(rowWidths));
        ModelId = modelId;
        BlockSize = blockSize;
        RowWidths = rowWidths;
        ValuesPerToken = rowWidths.Sum(l => l.Sum());
    }

    public const int ModelIdBytes = 16;

    public byte[] ModelId { get; }
    public int BlockSize { get; }

    /// <summary>[layer][row buffer] widths, in the order of <see cref="ILayerCache.Rows"/>.</summary>
    public int[][] RowWidths { get; }

    public int Layers => RowWidths.Length;
    public int RowsPerLayer => RowWidths[0].Length;

    /// <summary>Floats cached per token over all layers.</summary>
    public int ValuesPerToken { get; }

    /// <summary>Bytes a block's cached rows take on disk (float32).</summary>
    public long PayloadBytes => 4L * BlockSize * ValuesPerToken;

    /// <summary>
    /// The layout of <paramref name="model"/>'s cache. The model id hashes the configuration, the cache widths and the
    /// name, size and modification time of the weight files: a re-quantised, retrained or replaced model gets a new id.
    /// </summary>
    public static PrefixBlockLayout Of(Transformer model, int blockSize)
    {
        var widths = model.Layers.Select(l => l.Attention.CreateCache(1).Rows.Select(r => r.Width).ToArray()).ToArray();
        var text = new StringBuilder();
        text.Append("sharpseek-prefix-model\n").Append(model.Config).Append('\n');
        foreach (var layer in widths) text.Append(string.Join(',', layer)).Append(';');
        text.Append('\n');
        foreach (var file in WeightFiles(model.Path))
            text.Append(file.Name).Append(' ').Append(file.Length.ToString(CultureInfo.InvariantCulture)).Append(' ')
                .Append(file.LastWriteTimeUtc.Ticks.ToString(CultureInfo.InvariantCulture)).Append('\n');
        return new PrefixBlockLayout(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString()))[..ModelIdBytes], blockSize, widths);
    }

    private static IEnumerable<FileInfo> WeightFiles(string path)
    {
        // Sizes and times are the link targets' (a hub cache snapshot is made of links into blobs/).
        if (File.Exists(path)) return [Formats.RegularFile.Target(path)];
        if (Directory.Exists(path))
            return new DirectoryInfo(path).EnumerateFiles()
                .Where(f => f.Extension is ".safetensors" or ".json" or ".gguf" or ".bin")
                .OrderBy(f => f.Name, StringComparer.Ordinal)
                .Select(f => f.LinkTarget is null ? f : Formats.RegularFile.Target(f.FullName));
        return [];
    }
}
