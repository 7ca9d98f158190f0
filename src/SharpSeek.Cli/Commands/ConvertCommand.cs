using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using SharpSeek.Formats.Gguf;

namespace SharpSeek.Cli.Commands;

/// <summary>
/// <c>sharpseek convert --in HF_DIR --out FILE.gguf [--type Q8_0|Q4_0|Q4_K_M]</c>: a Hugging Face checkpoint (qwen2, qwen3, llama, deepseek_v2/v3,
/// including DeepSeek's FP8 release, dequantized with its block scales) as GGUF with llama.cpp's names and keys.
/// Without --type, F32/F16/BF16 tensors keep their type and FP8 becomes BF16.
/// </summary>
internal static class ConvertCommand
{
    public static Command Create()
    {
        var input = new Option<string>("--in", "-i") { Description = "Hugging Face model directory (config.json + *.safetensors)", Required = true };
        var output = new Option<string>("--out", "-o") { Description = "The .gguf file to write", Required = true };
        var type = new Option<string?>("--type") { Description = "Also quantize: Q8_0, Q4_0 or Q4_K_M" };
        var cmd = new Command("convert", "Convert a Hugging Face checkpoint to GGUF") { input, output, type };
        cmd.SetAction(pr =>
        {
            string inPath = pr.GetValue(input)!, outPath = pr.GetValue(output)!;
            if (!Directory.Exists(inPath)) throw new SharpSeekException($"{inPath}: not a directory");
            QuantizationTarget? target = pr.GetValue(type) is { } t ? QuantizationPlan.Parse(t) : null;
            var clock = Stopwatch.StartNew();
            GgufExporter.Convert(inPath, outPath, target);
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"wrote {outPath} ({new FileInfo(outPath).Length / 1e6:0.0} MB) in {clock.Elapsed.TotalSeconds:0.0} s"));
            return 0;
        });
        return cmd;
    }
}
