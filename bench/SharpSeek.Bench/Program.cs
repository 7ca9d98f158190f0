using System.Globalization;
using LLama.Native;
using SharpSeek.Bench;
using SharpSeek.Diagnostics;
using SharpSeek.Formats.Gguf;
using SharpSeek.Models;

// SharpSeek vs llama.cpp on the same GGUF, A/B interleaved.
//   make-model SHAPE TYPE OUT.gguf        SHAPE: qwen2-1.5b | deepseek-v2-lite; TYPE: Q8_0 | Q4_0 | Q4_K_M
//   compare MODEL.gguf [prompt=512] [gen=128] [threads=2] [reps=3]
//   batched MODEL.gguf [sequences=8] [gen=64] [threads=2] [reps=3]   B sequences stepped together (llama.cpp's batched-bench)
//   agree MODEL.gguf [steps=16] [threads=2]   decode logits against llama.cpp's
//   kernels                               single-thread kernel speeds on cache-resident data
//   stream [MB=400]                       one-token group kernels streaming from memory, huge vs 4 KiB pages
var inv = CultureInfo.InvariantCulture;
if (args.Length >= 4 && args[0] == "make-model")
{
    var clock = System.Diagnostics.Stopwatch.StartNew();
    RandomGguf.Write(args[1], QuantizationPlan.Parse(args[2]), args[3]);
    Console.WriteLine(string.Create(inv, $"{args[3]}: {new FileInfo(args[3]).Length / 1e9:0.00} GB in {clock.Elapsed.TotalSeconds:0} s"));
    return 0;
}
if (args.Length == 1 && args[0] == "kernels") { KernelSpeed.Run(); return 0; }
if (args.Length >= 1 && args[0] == "stream") { StreamSpeed.Run(args.Length > 1 ? long.Parse(args[1], inv) : 400); return 0; }
if (args.Length >= 2 && args[0] == "agree")
{
    NativeLibraryConfig.All.WithLogCallback((level, message) => { if (level >= LLamaLogLevel.Error) Console.Error.Write(message); });
    Agreement.Run(args[1], args.Length > 2 ? int.Parse(args[2], inv) : 16, args.Length > 3 ? int.Parse(args[3], inv) : 2);
    return 0;
}
if (args.Length >= 2 && args[0] == "batched")
{
    Batched.Run(args[1], args.Length > 2 ? int.Parse(args[2], inv) : 8, args.Length > 3 ? int.Parse(args[3], inv) : 64,
        args.Length > 4 ? int.Parse(args[4], inv) : 2, args.Length > 5 ? int.Parse(args[5], inv) : 3);
    return 0;
}
if (args.Length < 2 || args[0] != "compare")
{
    Console.Error.WriteLine("usage: make-model SHAPE TYPE OUT.gguf | compare MODEL.gguf [prompt] [gen] [threads] [reps] | batched MODEL.gguf [sequences] [gen] [threads] [reps] | agree MODEL.gguf [steps] [threads] | kernels | stream [MB]");
    return 2;
}
string path = args[1];
int prompt = args.Length > 2 ? int.Parse(args[2], inv) : 512;
int gen = args.Length > 3 ? int.Parse(args[3], inv) : 128;
int threads = args.Length > 4 ? int.Parse(args[4], inv) : 2;
int reps = args.Length > 5 ? int.Parse(args[5], inv) : 3;
Environment.SetEnvironmentVariable("SHARPSEEK_THREADS", threads.ToString(inv));
NativeLibraryConfig.All.WithLogCallback((level, message) => { if (level >= LLamaLogLevel.Error) Console.Error.Write(message); });

long bytesPerToken;
using (var f = new GgufFile(path)) bytesPerToken = WeightTraffic.BytesPerToken(f);
using var llama = new LlamaRunner(path, threads, Math.Max(prompt, gen) + 16, prompt);
using var ours = new SharpRunner(ModelLoader.Load(path));
var rng = new Random(1234);
int vocab = ours.VocabSize;
int[] Tokens() => Enumerable.Range(0, prompt).Select(_ => rng.Next(vocab)).ToArray();

// Warm-up: pages in both engines' views of the weights (DAMON may have dropped cold pages) and JITs our kernels.
llama.Prefill(Tokens()); ours.Prefill(Tokens());
llama.Decode(1, Math.Min(gen, 16)); ours.Decode(1, Math.Min(gen, 16));

var lp = new List<double>(); var sp = new List<double>(); var lg = new List<double>(); var sg = new List<double>();
for (int r = 0; r < reps; r++)
{
    // Alternate which engine goes first so slow drifts of the shared machine hit both equally.
    var t = Tokens();
    int first = rng.Next(vocab);
    if (r % 2 == 0) { lp.Add(llama.Prefill(t)); sp.Add(ours.Prefill(t)); lg.Add(llama.Decode(first, gen)); sg.Add(ours.Decode(first, gen)); }
    else { sp.Add(ours.Prefill(t)); lp.Add(llama.Prefill(t)); sg.Add(ours.Decode(first, gen)); lg.Add(llama.Decode(first, gen)); }
    Console.Error.WriteLine(string.Create(inv, $"rep {r + 1}: pp llama {lp[^1]:0.00} ours {sp[^1]:0.00} | tg llama {lg[^1]:0.00} ours {sg[^1]:0.00}"));
}
double gbps = MemoryBandwidth.MeasureReadGBps(threads);
double bound = gbps * 1e9 / bytesPerToken;
double Med(List<double> x) => ThroughputBenchmark.Median(x.ToArray());
string Runs(List<double> x) => string.Join(" ", x.Select(v => v.ToString("0.0", inv)));
Console.WriteLine(string.Create(inv, $"model {Path.GetFileName(path)}; threads {threads}; reps {reps}; weights {bytesPerToken / 1e9:0.000} GB/token; read bandwidth {gbps:0.0} GB/s → decode bound {bound:0.0} tok/s"));
Console.WriteLine(string.Create(inv, $"| pp{prompt} | llama.cpp {Med(lp):0.00} ({Runs(lp)}) | SharpSeek {Med(sp):0.00} ({Runs(sp)}) | ratio {Med(sp) / Med(lp):0.00}× |"));
Console.WriteLine(string.Create(inv, $"| tg{gen} | llama.cpp {Med(lg):0.00} ({Runs(lg)}) | SharpSeek {Med(sg):0.00} ({Runs(sg)}) | ratio {Med(sg) / Med(lg):0.00}× | bound {bound:0.0} |"));
return 0;
