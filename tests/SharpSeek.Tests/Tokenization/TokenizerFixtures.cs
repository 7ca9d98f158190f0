using System.Text.Json;
using SharpSeek.Tokenization;

namespace SharpSeek.Tests.Tokenization;

/// <summary>The shared golden tokenizers and their cases, loaded once.</summary>
public static class TokenizerFixtures
{
    private static readonly Lazy<Tokenizer> DeepSeekLazy = new(() => Tokenizer.FromFile(Fixtures.Path("tokenizers", "deepseek-v3")));
    private static readonly Lazy<Tokenizer> QwenLazy = new(() => Tokenizer.FromFile(Fixtures.Path("tokenizers", "qwen3")));

    public static Tokenizer DeepSeekV3 => DeepSeekLazy.Value;
    public static Tokenizer Qwen3 => QwenLazy.Value;

    public static Tokenizer Get(string name) => name switch
    {
        "deepseek-v3" => DeepSeekV3,
        "qwen3" => Qwen3,
        _ => throw new ArgumentException(name),
    };

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, JsonElement> GoldenCache = new();

    public static JsonElement Golden(string name) => GoldenCache.GetOrAdd(name, LoadGolden);

    private static JsonElement LoadGolden(string name)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Fixtures.Path("tokenizers", name + "-golden.json")));
        return doc.RootElement.Clone();
    }

    /// <summary>Rows (tokenizer name, case index, category) for every golden case of both files.</summary>
    public static TheoryData<string, int, string> Cases()
    {
        var data = new TheoryData<string, int, string>();
        foreach (string name in (string[])["deepseek-v3", "qwen3"])
        {
            int i = 0;
            foreach (JsonElement c in Golden(name).GetProperty("cases").EnumerateArray())
            {
                data.Add(name, i, c.GetProperty("category").GetString()!);
                i++;
            }
        }
        return data;
    }

    public static (string Text, int[] Ids) Case(string name, int index)
    {
        JsonElement c = Golden(name).GetProperty("cases")[index];
        var ids = new List<int>();
        foreach (JsonElement id in c.GetProperty("ids").EnumerateArray()) ids.Add(id.GetInt32());
        return (c.GetProperty("text").GetString()!, ids.ToArray());
    }
}
