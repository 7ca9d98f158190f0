using System.Text.Json;

namespace SharpSeek.Tasks;

/// <summary>One evaluation problem: a line <c>{"prompt": "...", "answer": "..."}</c>, optionally with <c>category</c> and <c>difficulty</c>.</summary>
public sealed record EvalItem(string Prompt, string Answer, string Category = "all", string Difficulty = "")
{
    public static EvalItem From(TaskItem t) => new(t.Prompt, t.Answer, t.Category, t.Difficulty);

    /// <summary>Reads a JSONL file; blank lines are skipped, a bad line is reported with its number.</summary>
    public static List<EvalItem> ReadJsonl(string path)
    {
        if (!File.Exists(path)) throw new SharpSeekException($"{path}: data file not found");
        var items = new List<EvalItem>();
        int n = 0;
        foreach (string line in File.ReadLines(path))
        {
            n++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            try
            {
                using var doc = JsonDocument.Parse(line);
                var r = doc.RootElement;
                string prompt = r.GetProperty("prompt").GetString() ?? throw new SharpSeekException("prompt is null");
                var a = r.GetProperty("answer");
                string answer = a.ValueKind == JsonValueKind.Number ? a.GetRawText() : a.GetString() ?? "";
                string cat = r.TryGetProperty("category", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString()! : "all";
                string diff = r.TryGetProperty("difficulty", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString()! : "";
                items.Add(new EvalItem(prompt, answer, cat, diff));
            }
            catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
            {
                throw new SharpSeekException($"{path}:{n}: expected {{\"prompt\": \"...\", \"answer\": \"...\"}} ({e.Message})");
            }
        }
        return items;
    }

    public static void WriteJsonl(string path, IEnumerable<EvalItem> items)
    {
        using var w = new StreamWriter(path);
        foreach (var i in items)
            w.WriteLine(JsonSerializer.Serialize(new Dictionary<string, string> { ["prompt"] = i.Prompt, ["answer"] = i.Answer, ["category"] = i.Category, ["difficulty"] = i.Difficulty }));
    }
}
