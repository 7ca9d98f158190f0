using System.Net;
using System.Text;
using SharpSeek.Tests.Support;
using Xunit.Abstractions;

namespace SharpSeek.Tests.Cli;

/// <summary>
/// Issue 17.4 with a real <c>sharpseek serve</c> process: four concurrent 7.5 MB messages (each far over the context)
/// are refused with 400 after tokenizing one context's worth, and the process's RSS comes back near its baseline.
/// </summary>
public sealed class ServeMemoryTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempDir _data = new();

    public void Dispose() => _data.Dispose();

    /// <summary>
    /// What may stay resident after the burst: code jitted for the new paths, Kestrel's per-connection input buffers
    /// (≤ 1 MiB each by its request buffer limit, 4 connections) and small pooled arrays: well under one body per
    /// request. So the bound is 4 × 8 MiB = 32 MiB above the baseline, while the burst itself costs far more than that.
    /// </summary>
    private const long RetainedBound = 32L << 20;

    [Fact]
    public async Task Rss_returns_near_its_baseline_after_huge_prompts()
    {
        var (server, http) = await SharpSeekProcess.ServeAsync(["--model", Fixtures.Path("llamacpp", "models", "tiny-ds2-v3-f32.gguf"), "--ctx", "2048", "--data-dir", _data.Path]);
        using (server)
        using (http)
        {
            async Task<HttpStatusCode> Ask(string content)
            {
                var body = "{\"max_tokens\":2,\"messages\":[{\"role\":\"user\",\"content\":\"" + content + "\"}]}";
                using var r = await http.PostAsync("v1/chat/completions", new StringContent(body, Encoding.UTF8, "application/json"));
                return r.StatusCode;
            }
            Assert.Equal(HttpStatusCode.OK, await Ask("What is 2 + 2?"));
            await Task.Delay(500);
            long before = server.ResidentBytes();

            var rng = new Random(17);
            string[] words = ["the", "model", "reads", "every", "token", "of", "this", "very", "long", "prompt", "42", "and", "ends"];
            var sb = new StringBuilder();
            while (sb.Length < 7_500_000) sb.Append(words[rng.Next(words.Length)]).Append(' ');
            string huge = sb.ToString();

            long peak = before;
            using var sampling = new CancellationTokenSource();
            var sampler = Task.Run(async () =>
            {
                while (!sampling.IsCancellationRequested)
                {
                    peak = Math.Max(peak, server.ResidentBytes());
                    await Task.Delay(20);
                }
            });
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var statuses = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Ask(huge)));
            double seconds = clock.Elapsed.TotalSeconds;
            Assert.All(statuses, s => Assert.Equal(HttpStatusCode.BadRequest, s));

            long after = long.MaxValue;
            for (int i = 0; i < 50 && after > before + RetainedBound; i++)
            {
                await Task.Delay(200);
                after = server.ResidentBytes();
            }
            await sampling.CancelAsync();
            await sampler;
            output.WriteLine($"RSS before {before >> 20} MiB, peak during {peak >> 20} MiB, after {after >> 20} MiB; 4 x 7.5 MB refused in {seconds:0.0} s");
            Assert.True(after <= before + RetainedBound, $"RSS before {before >> 20} MiB, peak {peak >> 20} MiB, after {after >> 20} MiB: more than {RetainedBound >> 20} MiB stayed");
            // The server still answers.
            Assert.Equal(HttpStatusCode.OK, await Ask("What is 3 + 4?"));
        }
    }
}
