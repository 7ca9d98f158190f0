using System.Text.Json;

namespace SharpSeek.Tests.Tokenization;

/// <summary>
/// Runs Hugging Face's Rust tokenizers (npm <c>tokenizers</c>, in <c>tests/node</c>) as an oracle. Installs the
/// locked dependencies with <c>npm ci</c> when they are missing (<see cref="NpmFixtures"/>); fails with a clear message when node or npm cannot.
/// </summary>
public static class NodeTokenizers
{
    public static string Folder => NpmFixtures.NodeFolder;

    public static void EnsureInstalled() =>
        NpmFixtures.EnsureRestored(() => File.Exists(Path.Combine(Folder, "node_modules", "tokenizers", "package.json")));

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
