using SharpSeek.Formats.Gguf;
using SharpSeek.Formats.Safetensors;

using SharpSeek.Kernels;

namespace SharpSeek.Models;

/// <summary>How a model is set up when it is loaded.</summary>
public sealed record LoadOptions
{
    /// <summary>Pool, instruction-set path and integer products of every kernel the model runs.</summary>
    public KernelPolicy Kernels { get; init; } = KernelPolicy.Default;

    /// <summary>
    /// Copy Q4_0/Q8_0/Q4_K/Q6_K matrices into 8-row groups (<see cref="RowGroups"/>) at load, within half of the memory the process
    /// may use (the default). False keeps the file's layout and packs groups on the fly (benches compare; tests run both).
    /// </summary>
    public bool GroupRows { get; init; } = true;

    public static LoadOptions Default { get; } = new();
}

/// <summary>Opens a model from a Hugging Face directory (config.json + safetensors), a file inside one, or a GGUF file.</summary>
public static class ModelLoader
{
    /// <summary>
    /// Loads and then pages in every weight (<see cref="Transformer.PageIn"/>), reporting bytes done to
    /// <paramref name="progress"/>: for serving, where the first answer should not wait on the disk.
    /// </summary>
    public static Transformer Load(string path, IProgress<LoadProgress>? progress, LoadOptions? options = null)
    {
        var model = Load(path, options);
        try
        {
            model.PageIn(progress);
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>Opens the model; weights are read from the mapping when first used.</summary>
    public static Transformer Load(string path, LoadOptions? options = null)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new SharpSeekException("no model path given");
        string dir;
        if (Directory.Exists(path)) dir = path;
        else if (File.Exists(path))
        {
            if (path.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase)) return LoadGguf(path, options);
            string name = System.IO.Path.GetFileName(path);
            if (name.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase) || name is "config.json" or "model.safetensors.index.json")
                dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!;
            else throw new SharpSeekException($"{name}: not a model (expected a Hugging Face model directory, config.json or *.safetensors)");
        }
        else throw new SharpSeekException($"{path}: no such file or directory");

        string configPath = System.IO.Path.Combine(dir, "config.json");
        if (!File.Exists(configPath)) throw new ModelFormatException($"{dir}: config.json not found");
        var config = ModelConfig.Load(configPath);
        var source = new SafetensorsCheckpoint(dir, config.Fp8BlockSize);
        try
        {
            return new Transformer(config, source, options);
        }
        catch
        {
            source.Dispose();
            throw;
        }
    }

    private static Transformer LoadGguf(string path, LoadOptions? options)
    {
        var source = new GgufTensorSource(path);
        try
        {
            return new Transformer(GgufConfig.Build(source.File), source, options);
        }
        catch
        {
            source.Dispose();
            throw;
        }
    }
}
