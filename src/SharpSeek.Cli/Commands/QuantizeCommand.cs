using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using SharpSeek.Formats.Gguf;

namespace SharpSeek.Cli.Commands;

/// <summary>
/// <c>sharpseek quantize --in PATH --out FILE.gguf --type Q8_0|Q4_0|Q4_K_M</c>: re-encodes a GGUF file, or converts and quantizes
/// a Hugging Face directory in one step. Tensor types follow llama-quantize (norms, biases and the MoE router stay F32).
/// </summary>
internal static class QuantizeCommand
{
    public static Command Create()
    {
        var input = new Option<string>("--in", "-i") { Description = "A .gguf file or a Hugging Face model directory", Required = true };
        var output = new Option<string>("--out", "-o") { Description = "The .gguf file to write", Required = true };
        var type = new Option<string>("--type") { Description = "Q8_0, Q4_0 or Q4_K_M", Required = true };
        var cmd = new Command("quantize", "Write a quantized GGUF file") { input, output, type };
        cmd.SetAction(pr =>
        {
            var target = QuantizationPlan.Parse(pr.GetValue(type)!);
            string inPath = pr.GetValue(input)!, outPath = pr.GetValue(output)!;
            var clock = Stopwatch.StartNew();
            if (Directory.Exists(inPath)) GgufExporter.Convert(inPath, outPath, target);
            else if (File.Exists(inPath) && inPath.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase))
            {
                if (Path.GetFullPath(inPath) == Path.GetFullPath(outPath)) throw new SharpSeekException("--out must differ from --in");
                GgufExporter.Requantize(inPath, outPath, target);
            }
            else throw new SharpSeekException($"{inPath}: not a .gguf file or a model directory");
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"wrote {outPath} ({new FileInfo(outPath).Length / 1e6:0.0} MB) in {clock.Elapsed.TotalSeconds:0.0} s"));
            return 0;
        });
        return cmd;
    }
}
