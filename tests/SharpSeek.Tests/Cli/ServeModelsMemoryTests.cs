using System.Net;
using System.Text;
using System.Text.Json;
using SharpSeek.Tensors;
using SharpSeek.Tests.Support;
using Xunit.Abstractions;

namespace SharpSeek.Tests.Cli;

/// <summary>
/// Unloading gives the memory back, measured on a real <c>sharpseek serve --models-dir</c> process: a 126 MB F32 model
/// (memory-mapped) and a 128 MB Q8_0 model (copied into the weight arena's native blocks) each raise the resident set by
/// about their size when loaded, and an unload (Ollama's <c>keep_alive: 0</c>) takes it down again at once, without a
/// garbage collection, also on the second load and unload of the same model.
/// </summary>
public sealed class ServeModelsMemoryTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Unloading_a_model_takes_the_resident_set_back_down()
    {
        string models = Path.Combine(_dir.Path, "models");
        Directory.CreateDirectory(models);
        var sizes = new Dictionary<string, long>
        {
            ["big-f32"] = LargeRandomGguf.Write(Path.Combine(models, "big-f32.gguf"), hidden: 512, ffn: 2048, layers: 8, DType.F32),
            ["big-q8"] = LargeRandomGguf.Write(Path.Combine(models, "big-q8.gguf"), hidden: 1024, ffn: 4096, layers: 8, DType.Q8_0),
        };
        File.Copy(Fixtures.Path("llamacpp", "models", "tiny-qwen2-f32.gguf"), Path.Combine(models, "tiny.gguf"));
        var (server, http) = await SharpSeekProcess.ServeAsync(["--models-dir", models, "--ctx", "256", "--parallel", "2", "--keep-alive", "-1", "--data-dir", Path.Combine(_dir.Path, "data")]);
        using (server)
        using (http)
        {
            async Task<JsonElement> Generate(object body)
            {
                using var r = await http.PostAsync("api/generate", new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json"));
                string text = await r.Content.ReadAsStringAsync();
                Assert.True(r.StatusCode == HttpStatusCode.OK, text);
                return JsonDocument.Parse(text).RootElement.Clone();
            }
            async Task<long> Settled()
            {
                // The resident set of an idle process, read twice 200 ms apart until it stops moving.
                long last = server.ResidentBytes();
                for (int i = 0; i < 20; i++)
                {
                    await Task.Delay(200);
                    long now = server.ResidentBytes();
                    if (Math.Abs(now - last) < 2 << 20) return now;
                    last = now;
                }
                return last;
            }
            // The code paths of a load, a request and an unload are compiled first, on a tiny model.
            await Generate(new { model = "tiny", prompt = "hi", stream = false, options = new { num_predict = 2 } });
            Assert.Equal("unload", (await Generate(new { model = "tiny", keep_alive = 0 })).GetProperty("done_reason").GetString());

            foreach (string model in new[] { "big-f32", "big-q8", "big-q8" })
            {
                long baseline = await Settled();
                await Generate(new { model, prompt = "hi", stream = false, options = new { num_predict = 2 } });
                long loaded = await Settled();
                Assert.Equal("unload", (await Generate(new { model, keep_alive = 0 })).GetProperty("done_reason").GetString());
                long after = await Settled();
                long size = sizes[model];
                output.WriteLine($"{model} ({size >> 20} MiB of weights): RSS {baseline >> 20} MiB before, {loaded >> 20} MiB loaded, {after >> 20} MiB after the unload");
                Assert.True(loaded - baseline >= size * 8 / 10, $"{model}: loading raised RSS by {(loaded - baseline) >> 20} MiB, its weights are {size >> 20} MiB");
                Assert.True(loaded - after >= size * 8 / 10, $"{model}: unloading lowered RSS by {(loaded - after) >> 20} MiB of {(loaded - baseline) >> 20} MiB");
                Assert.True(after - baseline <= 32 << 20, $"{model}: {(after - baseline) >> 20} MiB stayed resident after the unload");
            }
        }
    }
}
