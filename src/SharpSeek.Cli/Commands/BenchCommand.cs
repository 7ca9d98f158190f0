using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using SharpSeek.Diagnostics;
using SharpSeek.Formats.Gguf;
using SharpSeek.Kernels;
using SharpSeek.Models;
using SharpSeek.Threading;

namespace SharpSeek.Cli.Commands;

/// <summary>
/// <c>sharpseek bench --model PATH --prompt-tokens 512 --gen-tokens 128 --threads N --reps 3 [--batch B] [--speculate S] [--json]</c>:
/// prompt processing (one batch of random tokens into an empty cache), generation (greedy single-token steps from an empty
/// cache), with <c>--batch</c> B sequences generated together, and with <c>--speculate</c> greedy generation with speculation
/// (its accept_rate beside it); medians after a warm-up. Checks outside the repository parse the output:
/// keep the option names and JSON keys stable.
/// </summary>
internal static class BenchCommand
{
    /// <summary>The quantized kernels' instruction-set path on this CPU, as bench prints it (vnni, avx512bw, avx2, scalar).</summary>
    private static string KernelPathName => KernelPaths.Best.ToString().ToLowerInvariant();

    public static Command Create()
    {
        var model = CommonOptions.Model();
        var prompt = new Option<int>("--prompt-tokens", "-p") { Description = "Tokens in the prompt batch", DefaultValueFactory = _ => 512 };
        var gen = new Option<int>("--gen-tokens", "-n") { Description = "Tokens generated one at a time", DefaultValueFactory = _ => 128 };
        var threads = new Option<int>("--threads", "-t") { Description = "Worker threads (default: one per core, or SHARPSEEK_THREADS)", DefaultValueFactory = _ => 0 };
        var reps = new Option<int>("--reps", "-r") { Description = "Timed repetitions (medians are reported)", DefaultValueFactory = _ => 3 };
        var json = new Option<bool>("--json") { Description = "Print one JSON object: prefill_tps, decode_tps, rss_bytes, kv_bytes_per_token, kernel_path" };
        var bandwidth = new Option<bool>("--bandwidth") { Description = "Also measure memory read bandwidth and print the bandwidth-bound decode rate (GGUF models)" };
        var batch = new Option<int>("--batch", "-b") { Description = "Also generate this many sequences together (one forward per step) and report their summed tok/s", DefaultValueFactory = _ => 1 };
        var speculate = new Option<string?>("--speculate") { Description = "Also measure greedy decoding with speculation: none, auto, mtp[:N], ngram[:N] (reported with its accept_rate)" };
        var cmd = new Command("bench", "Measure prompt-processing and generation speed") { model, prompt, gen, threads, reps, json, bandwidth, batch, speculate };
        cmd.SetAction(pr =>
        {
            int p = pr.GetValue(prompt), g = pr.GetValue(gen), r = pr.GetValue(reps), t = pr.GetValue(threads), b = pr.GetValue(batch);
            if (b < 1) throw new SharpSeekException($"--batch must be ≥ 1, is {b}");
            var asked = pr.GetValue(speculate) is { } sv ? Generation.Speculation.Parse(sv) : Generation.Speculation.None;
            if (p < 1) throw new SharpSeekException($"--prompt-tokens must be ≥ 1, is {p}");
            if (g < 1) throw new SharpSeekException($"--gen-tokens must be ≥ 1, is {g}");
            if (r < 1) throw new SharpSeekException($"--reps must be ≥ 1, is {r}");
            if (t < 0) throw new SharpSeekException($"--threads must be ≥ 1, is {t}");
            // The engine's kernels use the process-wide pool, created on first use: fix its size before anything runs.
            if (t > 0) Environment.SetEnvironmentVariable("SHARPSEEK_THREADS", t.ToString(CultureInfo.InvariantCulture));
            string path = pr.GetValue(model)!;
            bool asJson = pr.GetValue(json);
            using var m = ModelLoader.Load(path);
            int poolThreads = WorkerPool.Shared.ThreadCount;
            Action<string>? log = asJson ? null : line => Console.Error.WriteLine(line);
            var result = ThroughputBenchmark.Run(m, p, g, r, log: log, batch: b, speculation: asked.Resolve(m));

            double? gbps = null, bound = null;
            long? bytesPerToken = null;
            if (pr.GetValue(bandwidth) && path.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase) && File.Exists(path))
            {
                using var f = new GgufFile(path);
                bytesPerToken = WeightTraffic.BytesPerToken(f);
                gbps = MemoryBandwidth.MeasureReadGBps(poolThreads);
                bound = gbps * 1e9 / bytesPerToken;
            }
            if (asJson)
            {
                var o = new Dictionary<string, object>
                {
                    ["prefill_tps"] = Math.Round(result.PrefillTps, 3),
                    ["decode_tps"] = Math.Round(result.DecodeTps, 3),
                    ["rss_bytes"] = result.RssBytes,
                    ["kv_bytes_per_token"] = result.KvBytesPerToken,
                    // Speeds mean little without the instructions that made them (no VNNI path on a Zen 4 under .NET 10).
                    ["kernel_path"] = KernelPathName,
                };
                if (b > 1) { o["batch"] = b; o["batch_decode_tps"] = Math.Round(result.BatchDecodeTps, 3); }
                if (result.Speculation.Enabled)
                {
                    o["speculate"] = result.Speculation.ToString();
                    o["spec_decode_tps"] = Math.Round(result.SpeculativeDecodeTps, 3);
                    o["draft_tokens"] = result.DraftTokens;
                    o["accepted_tokens"] = result.AcceptedTokens;
                    o["accept_rate"] = Math.Round(result.AcceptRate, 4);
                }
                if (gbps is double bw) { o["bandwidth_gbps"] = Math.Round(bw, 2); o["weight_bytes_per_token"] = bytesPerToken!.Value; o["decode_bound_tps"] = Math.Round(bound!.Value, 2); }
                Console.Out.WriteLine(JsonSerializer.Serialize(o));
                return 0;
            }
            var inv = CultureInfo.InvariantCulture;
            Console.Out.WriteLine(string.Create(inv, $"model {Path.GetFileName(path.TrimEnd('/'))}; threads {poolThreads}; reps {r}; kernel path {KernelPathName}"));
            Console.Out.WriteLine(string.Create(inv, $"prefill pp{p}: {result.PrefillTps:0.00} tok/s (runs {string.Join(", ", result.PrefillRuns.Select(x => x.ToString("0.00", inv)))})"));
            Console.Out.WriteLine(string.Create(inv, $"decode tg{g}: {result.DecodeTps:0.00} tok/s (runs {string.Join(", ", result.DecodeRuns.Select(x => x.ToString("0.00", inv)))})"));
            if (b > 1)
                Console.Out.WriteLine(string.Create(inv,
                    $"batched decode {b}×tg{g}: {result.BatchDecodeTps:0.00} tok/s summed (runs {string.Join(", ", result.BatchDecodeRuns.Select(x => x.ToString("0.00", inv)))}); a {b}-row step costs {b * result.DecodeTps / result.BatchDecodeTps:0.00}× a 1-row step"));
            if (gbps is double b2)
                Console.Out.WriteLine(string.Create(inv, $"bandwidth {b2:0.0} GB/s read; weights {bytesPerToken!.Value / 1e9:0.000} GB/token; decode bound {bound:0.00} tok/s ({result.DecodeTps / bound * 100:0}% reached)"));
            if (result.Speculation.Enabled)
                Console.Out.WriteLine(string.Create(inv,
                    $"speculative decode ({result.Speculation}) tg{g}: {result.SpeculativeDecodeTps:0.00} tok/s (runs {string.Join(", ", result.SpeculativeDecodeRuns.Select(x => x.ToString("0.00", inv)))}), {result.SpeculativeDecodeTps / result.DecodeTps:0.00}× plain; accept rate {result.AcceptRate:P1} ({result.AcceptedTokens}/{result.DraftTokens})"));
            Console.Out.WriteLine(string.Create(inv, $"rss {result.RssBytes / 1048576.0:0} MiB; kv cache {result.KvBytesPerToken} bytes/token"));
            return 0;
        });
        return cmd;
    }
}
