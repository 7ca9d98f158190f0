using SharpSeek.Formats.Gguf;
using SharpSeek.Tensors;

namespace SharpSeek.Tests.Support;

/// <summary>
/// A random-weight Qwen2 GGUF as large as a test needs (tens or hundreds of MB, made at test time, never committed), with
/// the tokenizer of the tiny Qwen2 fixture. Weights are streamed into the file tensor by tensor, so making one costs
/// little memory.
/// </summary>
public static class LargeRandomGguf
{
    private const int HeadDim = 64;

    /// <summary>Writes the model; returns the bytes of its weight tensors. Matrices are <paramref name="type"/>, norms and biases F32.</summary>
    public static long Write(string path, int hidden, int ffn, int layers, DType type, int seed = 1)
    {
        using var tiny = new GgufFile(Fixtures.Path("llamacpp", "models", "tiny-qwen2-f32.gguf"));
        int vocab = (int)tiny.GetInteger("qwen2.vocab_size")!.Value;
        int heads = hidden / HeadDim, kvHeads = Math.Max(1, heads / 2);
        var w = new GgufWriter(tiny.Alignment);
        foreach (string key in tiny.MetadataKeys) w.Set(key, tiny.Metadata[key]);
        w.Set("general.name", Path.GetFileNameWithoutExtension(path));
        w.Set("qwen2.embedding_length", (uint)hidden);
        w.Set("qwen2.feed_forward_length", (uint)ffn);
        w.Set("qwen2.block_count", (uint)layers);
        w.Set("qwen2.attention.head_count", (uint)heads);
        w.Set("qwen2.attention.head_count_kv", (uint)kvHeads);
        long bytes = 0;
        var rng = new Random(seed);
        void Matrix(string name, int rows, int cols)
        {
            int tensorSeed = rng.Next();
            bytes += type.ByteCount((long)rows * cols);
            w.AddTensor(name, type, [rows, cols], s =>
            {
                var r = new Random(tensorSeed);
                float scale = 1f / MathF.Sqrt(cols);
                var row = new float[cols];
                var encoded = new byte[type.ByteCount(cols)];
                for (int i = 0; i < rows; i++)
                {
                    for (int j = 0; j < cols; j++) row[j] = (r.NextSingle() * 2 - 1) * scale;
                    GgufEncoding.Encode(type, row, encoded);
                    s.Write(encoded);
                }
            });
        }
        void Vector(string name, int n, float value)
        {
            bytes += 4L * n;
            w.AddTensor(name, [n], Enumerable.Repeat(value, n).ToArray(), DType.F32);
        }
        Matrix("token_embd.weight", vocab, hidden);
        Vector("output_norm.weight", hidden, 1);
        for (int l = 0; l < layers; l++)
        {
            string p = $"blk.{l}.";
            Vector(p + "attn_norm.weight", hidden, 1);
            Matrix(p + "attn_q.weight", heads * HeadDim, hidden);
            Vector(p + "attn_q.bias", heads * HeadDim, 0);
            Matrix(p + "attn_k.weight", kvHeads * HeadDim, hidden);
            Vector(p + "attn_k.bias", kvHeads * HeadDim, 0);
            Matrix(p + "attn_v.weight", kvHeads * HeadDim, hidden);
            Vector(p + "attn_v.bias", kvHeads * HeadDim, 0);
            Matrix(p + "attn_output.weight", hidden, heads * HeadDim);
            Vector(p + "ffn_norm.weight", hidden, 1);
            Matrix(p + "ffn_gate.weight", ffn, hidden);
            Matrix(p + "ffn_up.weight", ffn, hidden);
            Matrix(p + "ffn_down.weight", hidden, ffn);
        }
        w.Write(path);
        return bytes;
    }
}
