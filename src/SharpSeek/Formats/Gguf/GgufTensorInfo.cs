namespace SharpSeek.Formats.Gguf;

/// <summary>
/// One tensor info of a GGUF file. <see cref="Ne"/> is ggml order (ne[0] contiguous);
/// <see cref="Shape"/> is the same reversed (PyTorch order, as <see cref="Tensors.WeightTensor"/> uses).
/// <see cref="Offset"/> is relative to the start of the data section.
/// </summary>
public sealed record GgufTensorInfo(string Name, long[] Ne, GgmlType Type, long Offset, long ByteLength)
{
    public long[] Shape => Ne.Reverse().ToArray();

    public long ElementCount
    {
        get
        {
            long n = 1;
            foreach (long d in Ne) n *= d;
            return n;
        }
    }

    /// <summary>Shape in ggml order, as llama.cpp tools print it.</summary>
    public string NeText => "{" + string.Join(", ", Ne) + "}";
}
