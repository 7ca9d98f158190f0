using System.CommandLine;
using System.Runtime.InteropServices;
using SharpSeek.Models;

namespace SharpSeek.Cli.Commands;

/// <summary>
/// <c>sharpseek logits --model PATH --tokens 1,2,3 --out FILE [--mode decode|prefill]</c>: float32 little-endian
/// logits [T × vocab], row t after tokens[0..t]. decode feeds one token per step; prefill runs all in one call.
/// </summary>
internal static class LogitsCommand
{
    public static Command Create()
    {
        var model = CommonOptions.Model();
        var tokens = CommonOptions.Tokens();
        var output = new Option<string>("--out", "-o") { Description = "Output file (float32 little-endian, [T × vocab])", Required = true };
        var mode = new Option<string>("--mode") { Description = "decode (one token per step through the KV cache) or prefill (one call)", DefaultValueFactory = _ => "decode" };
        mode.AcceptOnlyFromAmong("decode", "prefill");
        var cmd = new Command("logits", "Write the logits of every position of a token sequence") { model, tokens, output, mode };
        cmd.SetAction(pr =>
        {
            int[] ids = CommonOptions.ParseTokens(pr.GetValue(tokens)!);
            using var m = ModelLoader.Load(pr.GetValue(model)!);
            int v = m.Config.VocabSize;
            var state = m.CreateState(ids.Length);
            var logits = new float[(long)ids.Length * v];
            if (pr.GetValue(mode) == "prefill") m.Forward(state, ids, logits, allLogits: true);
            else
                for (int t = 0; t < ids.Length; t++) m.Forward(state, ids.AsSpan(t, 1), logits.AsSpan(t * v, v));
            string path = pr.GetValue(output)!;
            if (!BitConverter.IsLittleEndian) throw new SharpSeekException("big-endian machines are not supported");
            // Write to a temporary file first so a failure never leaves a half-written output.
            string tmp = path + ".tmp";
            File.WriteAllBytes(tmp, MemoryMarshal.AsBytes(logits.AsSpan()).ToArray());
            File.Move(tmp, path, overwrite: true);
            Console.Error.WriteLine($"wrote {ids.Length} × {v} logits to {path}");
            return 0;
        });
        return cmd;
    }
}
