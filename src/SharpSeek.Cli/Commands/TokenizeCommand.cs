using System.CommandLine;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using SharpSeek.Tokenization;

namespace SharpSeek.Cli.Commands;

/// <summary>
/// <c>sharpseek tokenize --tokenizer PATH</c> (alias <c>--model</c>): a <c>tokenizer.json</c> or a model directory.
/// <list type="bullet">
/// <item><c>--text "..."</c>: prints the ids comma-separated on one line.</item>
/// <item><c>--decode 1,2,3</c>: prints the text.</item>
/// <item>neither: reads one JSON string per line on stdin, writes one JSON array of ids per line.</item>
/// <item><c>--decode</c> without ids: reads one JSON array of ids per line, writes one JSON string per line.</item>
/// </list>
/// No BOS unless <c>--add-special</c>. This output is read by checks outside the repository: keep it stable.
/// </summary>
internal static class TokenizeCommand
{
    private static readonly JsonSerializerOptions JsonOut = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static Command Create()
    {
        var path = new Option<string>("--tokenizer", "--model", "-m")
        {
            Description = "A tokenizer.json, or a model directory that holds one (with tokenizer_config.json)",
            Required = true,
        };
        var text = new Option<string?>("--text") { Description = "Text to encode; prints comma-separated ids" };
        var decode = new Option<string?>("--decode")
        {
            Description = "Comma-separated ids to decode; without a value, decode JSON arrays read line by line from stdin",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var addSpecial = new Option<bool>("--add-special") { Description = "Add the tokenizer's BOS/EOS template when encoding" };
        var skipSpecial = new Option<bool>("--skip-special") { Description = "Leave special tokens out when decoding" };
        var cmd = new Command("tokenize", "Encode text to token ids or decode ids to text") { path, text, decode, addSpecial, skipSpecial };
        cmd.SetAction(pr =>
        {
            Tokenizer tokenizer = Load(pr.GetValue(path)!);
            bool add = pr.GetValue(addSpecial), skip = pr.GetValue(skipSpecial);
            using var stdout = new StreamWriter(Console.OpenStandardOutput(), new UTF8Encoding(false)) { AutoFlush = false, NewLine = "\n" };
            string? inline = pr.GetValue(text);
            bool decodeGiven = pr.GetResult(decode) is not null;
            string? decodeIds = pr.GetValue(decode);
            if (inline is not null && decodeGiven) throw new SharpSeekException("--text and --decode cannot be used together");
            if (inline is not null)
            {
                stdout.WriteLine(string.Join(',', tokenizer.Encode(inline, add)));
            }
            else if (decodeGiven && !string.IsNullOrWhiteSpace(decodeIds))
            {
                stdout.WriteLine(tokenizer.Decode(CommonOptions.ParseTokens(decodeIds, "--decode"), skip));
            }
            else
            {
                using var stdin = new StreamReader(Console.OpenStandardInput(), new UTF8Encoding(false));
                Stream(tokenizer, stdin, stdout, decodeGiven, add, skip);
            }
            stdout.Flush();
            return 0;
        });
        return cmd;
    }

    /// <summary>The line protocol: each input line gives one output line; a bad line stops with an error naming it.</summary>
    internal static void Stream(Tokenizer tokenizer, TextReader input, TextWriter output, bool decode, bool addSpecial, bool skipSpecial)
    {
        string? line;
        int lineNo = 0;
        while ((line = input.ReadLine()) is not null)
        {
            lineNo++;
            if (line.Length == 0) continue;
            try
            {
                if (decode)
                {
                    int[] ids = JsonSerializer.Deserialize<int[]>(line) ?? throw new SharpSeekException($"stdin line {lineNo}: expected a JSON array of ids, got null");
                    output.WriteLine(JsonSerializer.Serialize(tokenizer.Decode(ids, skipSpecial), JsonOut));
                }
                else
                {
                    string text = JsonSerializer.Deserialize<string>(line) ?? throw new SharpSeekException($"stdin line {lineNo}: expected a JSON string, got null");
                    output.WriteLine(JsonSerializer.Serialize(tokenizer.Encode(text, addSpecial)));
                }
                // A caller may wait for each answer before sending the next line.
                output.Flush();
            }
            catch (JsonException e)
            {
                throw new SharpSeekException($"stdin line {lineNo}: expected {(decode ? "a JSON array of ids" : "a JSON string")} ({e.Message})", e);
            }
            catch (SharpSeekException e) when (!e.Message.StartsWith("stdin line", StringComparison.Ordinal))
            {
                throw new SharpSeekException($"stdin line {lineNo}: {e.Message}", e);
            }
        }
    }

    private static Tokenizer Load(string path)
    {
        if (path.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase)) return SharpSeek.Formats.Gguf.GgufTokenizer.Load(path);
        return Tokenizer.FromFile(path);
    }
}
