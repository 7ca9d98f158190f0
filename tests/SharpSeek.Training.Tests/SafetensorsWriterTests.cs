using SharpSeek.Formats.Safetensors;
using SharpSeek.Tensors;

namespace SharpSeek.Training.Tests;

public sealed class SafetensorsWriterTests
{
    [Fact]
    public void RoundTripsThroughTheReader()
    {
        var rng = new Random(7);
        float[] a = Enumerable.Range(0, 3 * 5).Select(_ => (float)(rng.NextDouble() * 4 - 2)).ToArray();
        float[] b = Enumerable.Range(0, 7).Select(_ => (float)(rng.NextDouble() * 100 - 50)).ToArray();
        var w = new SafetensorsWriter();
        w.Add("model.b", b, [7], "BF16");
        w.Add("model.a", a, [3, 5]);
        w.Metadata["note"] = "test";
        string path = Path.Combine(Path.GetTempPath(), "sharpseek-writer-" + Guid.NewGuid().ToString("N") + ".safetensors");
        try
        {
            w.Save(path);
            using var f = new SafetensorsFile(path);
            Assert.Equal(0, (f.DataStart - 8) % 8);
            Assert.Equal("test", f.Metadata["note"]);
            var ta = f.GetTensor("model.a");
            Assert.Equal(DType.F32, ta.Type);
            Assert.Equal(new long[] { 3, 5 }, ta.Shape);
            Assert.Equal(a, ta.ToFloat32());
            var tb = f.GetTensor("model.b");
            Assert.Equal(DType.BF16, tb.Type);
            float[] back = tb.ToFloat32();
            for (int i = 0; i < b.Length; i++) Assert.True(Math.Abs(back[i] - b[i]) <= Math.Abs(b[i]) / 256, $"{back[i]} vs {b[i]}");
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void RejectsShapeAndDataMismatch()
    {
        var w = new SafetensorsWriter();
        Assert.Throws<ArgumentException>(() => w.Add("x", new float[5], [2, 3]));
        w.Add("x", new float[6], [2, 3]);
        Assert.Throws<ArgumentException>(() => w.Add("x", new float[6], [6]));
    }
}
