using SharpSeek.Tensors;

namespace SharpSeek.Formats;

/// <summary>Named weight tensors of a checkpoint (safetensors directory or GGUF file), memory-mapped.</summary>
public interface ITensorSource : IDisposable
{
    /// <summary>Path of the checkpoint, for messages.</summary>
    string Path { get; }

    IReadOnlyCollection<string> Names { get; }

    bool Contains(string name);

    /// <summary>The tensor, or a <see cref="ModelFormatException"/> naming the file and tensor when it is missing or unreadable.</summary>
    WeightTensor Get(string name);
}
