using System.Text;
using System.Text.Json;
using SharpSeek.Chat;
using SharpSeek.Chat.Jinja;
using SharpSeek.Tests.Tokenization;
using SharpSeek.Tokenization;
using Xunit.Abstractions;

namespace SharpSeek.Tests.Chat;

/// <summary>
/// Real chat templates (tests/fixtures/chat-templates/*.jinja, see PROVENANCE.md) over the conversations in conversations.json, with and
/// without the generation prompt and with each template's thinking kwargs: the text must equal Hugging Face's Jinja
/// (npm <c>@huggingface/jinja</c>, run at test time on the same variables), a template error must be an error on both
/// sides, and the ids of the marked-up prompt must equal Hugging Face's tokenizers on the whole rendered string.
/// </summary>
public sealed class JinjaGoldenTests(ITestOutputHelper output)
{
    // Tools: whether the template knows tool calls (Llama-3 base's does not: it would print a tool-call turn's None content,
    // which Python's Jinja2 renders as "None" and Hugging Face's JS port rejects).
    private sealed record TemplateInfo(string Name, string? Bos, string? Eos, string Vocabulary, string[] KwargSets, bool Tools = true);

    private const string DsBos = DeepSeekTokens.Bos, DsEos = DeepSeekTokens.Eos;

    private static readonly TemplateInfo[] Templates =
    [
        new("deepseek-v3", DsBos, DsEos, "deepseek-v3", ["{}"]),
        new("deepseek-v3.1", DsBos, DsEos, "deepseek-v3", ["{}", """{"thinking": true}""", """{"thinking": false}""", """{"enable_thinking": true}"""]),
        new("deepseek-r1", DsBos, DsEos, "deepseek-v3", ["{}"]),
        new("deepseek-r1-2025-01", DsBos, DsEos, "deepseek-v3", ["{}"]),
        new("deepseek-r1-distill-qwen-32b", DsBos, DsEos, "deepseek-v3", ["{}"]),
        new("deepseek-r1-0528-qwen3-8b", DsBos, DsEos, "deepseek-v3", ["{}"]),
        new("qwen2.5", null, "<|im_end|>", "qwen3", ["{}"]),
        new("qwen3", null, "<|im_end|>", "qwen3", ["{}", """{"enable_thinking": false}"""]),
        new("llama-3", "<|begin_of_text|>", "<|eot_id|>", "llama3", ["{}"], Tools: false),
        new("llama-3.3", "<|begin_of_text|>", "<|eot_id|>", "llama3", ["{}", """{"date_string": "07 Dec 2026", "tools_in_user_message": false}"""]),
    ];

    public static TheoryData<string> TemplateNames()
    {
        var data = new TheoryData<string>();
        foreach (TemplateInfo t in Templates) data.Add(t.Name);
        return data;
    }

    internal static string TemplatePath(string name) => Fixtures.Path("chat-templates", name + ".jinja");

    private sealed record Outcome(TemplateInfo Template, string Case, bool Generation, string Kwargs, ChatPromptRequest Request,
        JinjaChatTemplate Chat, string? OurText, IReadOnlyList<TextRange>? OurContent, string? OurError, string? HfText, string? HfError);

    private static readonly Lazy<List<Outcome>> All = new(RenderAll);

    private static List<Outcome> RenderAll()
    {
        using JsonDocument conversations = JsonDocument.Parse(File.ReadAllText(Fixtures.Path("chat-templates", "conversations.json")));
        var pending = new List<(TemplateInfo, string, bool, string, ChatPromptRequest, JinjaChatTemplate, string? Text, IReadOnlyList<TextRange>? Content, string? Error)>();
        var nodeCases = new StringBuilder("[");
        foreach (TemplateInfo t in Templates)
        {
            string source = File.ReadAllText(TemplatePath(t.Name));
            var chat = new JinjaChatTemplate(source, t.Bos, t.Eos);
            foreach (JsonElement c in conversations.RootElement.EnumerateArray().Where(c => t.Tools || !c.GetRawText().Contains("tool_calls", StringComparison.Ordinal)))
            foreach (bool gen in (bool[])[true, false])
            foreach (string kw in t.KwargSets)
            {
                var request = ParseRequest(c, gen, kw);
                string? text = null, error = null;
                IReadOnlyList<TextRange>? content = null;
                try
                {
                    RenderedPrompt p = chat.Render(request);
                    (text, content) = (p.Text, p.Content);
                }
                catch (SharpSeekException e) { error = e.Message; }
                pending.Add((t, c.GetProperty("name").GetString()!, gen, kw, request, chat, text, content, error));
                if (nodeCases.Length > 1) nodeCases.Append(',');
                nodeCases.Append("{\"template\":").Append(JsonSerializer.Serialize(source)).Append(",\"variables\":").Append(ToJson(chat.Variables(request))).Append('}');
            }
        }
        nodeCases.Append(']');
        string file = Path.Combine(Path.GetTempPath(), $"sharpseek-jinja-{Guid.NewGuid():N}.json");
        File.WriteAllText(file, nodeCases.ToString());
        try
        {
            using JsonDocument hf = JsonDocument.Parse(NodeTokenizers.RunScript("render.js", file));
            var results = hf.RootElement.EnumerateArray().ToList();
            Assert.Equal(pending.Count, results.Count);
            return pending.Select((p, i) => new Outcome(p.Item1, p.Item2, p.Item3, p.Item4, p.Item5, p.Item6, p.Text, p.Content, p.Error,
                results[i].TryGetProperty("text", out JsonElement tx) ? tx.GetString() : null,
                results[i].TryGetProperty("error", out JsonElement er) ? er.GetString() : null)).ToList();
        }
        finally { File.Delete(file); }
    }

    /// <summary>OpenAI-format messages (role, content or null, reasoning_content, tool_calls, tool_call_id, name).</summary>
    internal static List<ChatMessage> ParseMessages(JsonElement array)
    {
        var messages = new List<ChatMessage>();
        foreach (JsonElement m in array.EnumerateArray())
        {
            string? Str(string key) => m.TryGetProperty(key, out JsonElement v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
            List<ChatToolCall>? calls = null;
            if (m.TryGetProperty("tool_calls", out JsonElement tc))
            {
                calls = [];
                foreach (JsonElement call in tc.EnumerateArray())
                {
                    JsonElement f = call.GetProperty("function");
                    calls.Add(new ChatToolCall(f.GetProperty("name").GetString()!, f.GetProperty("arguments").GetString()!)
                    {
                        Id = call.TryGetProperty("id", out JsonElement id) ? id.GetString() : null,
                        Type = call.TryGetProperty("type", out JsonElement type) ? type.GetString()! : "function",
                    });
                }
            }
            messages.Add(new ChatMessage(Str("role")!, Str("content"))
            {
                ToolCalls = calls,
                ReasoningContent = Str("reasoning_content"),
                ToolCallId = Str("tool_call_id"),
                Name = Str("name"),
            });
        }
        return messages;
    }

    internal static ChatPromptRequest ParseRequest(JsonElement c, bool generation, string kwargsJson)
    {
        var messages = ParseMessages(c.GetProperty("messages"));
        List<ChatTool>? tools = null;
        if (c.TryGetProperty("tools", out JsonElement ts))
        {
            tools = [];
            foreach (JsonElement t in ts.EnumerateArray())
            {
                JsonElement f = t.GetProperty("function");
                tools.Add(new ChatTool(f.GetProperty("name").GetString()!) { Definition = t.Clone() });
            }
        }
        using JsonDocument kw = JsonDocument.Parse(kwargsJson);
        var kwargs = kw.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.Clone());
        return new ChatPromptRequest(messages) { Tools = tools, AddGenerationPrompt = generation, TemplateKwargs = kwargs };
    }

    internal static string ToJson(object? v)
    {
        var sb = new StringBuilder();
        Write(sb, v);
        return sb.ToString();
    }

    private static void Write(StringBuilder sb, object? v)
    {
        switch (v)
        {
            case null: sb.Append("null"); break;
            case bool b: sb.Append(b ? "true" : "false"); break;
            case long l: sb.Append(l); break;
            case double d: sb.Append(d.ToString("R", System.Globalization.CultureInfo.InvariantCulture)); break;
            case JinjaString s: sb.Append(JsonSerializer.Serialize(s.Value)); break;
            case JinjaList l:
                sb.Append('[');
                for (int i = 0; i < l.Count; i++) { if (i > 0) sb.Append(','); Write(sb, l.Items[i]); }
                sb.Append(']');
                break;
            case JinjaDict d:
                sb.Append('{');
                for (int i = 0; i < d.Count; i++) { if (i > 0) sb.Append(','); sb.Append(JsonSerializer.Serialize(d.Items[i].Key.Value)).Append(':'); Write(sb, d.Items[i].Value); }
                sb.Append('}');
                break;
            case IReadOnlyDictionary<string, object?> vars:
                sb.Append('{');
                bool first = true;
                foreach (var kv in vars)
                {
                    if (kv.Value is JinjaUndefined) continue;
                    if (!first) sb.Append(',');
                    first = false;
                    sb.Append(JsonSerializer.Serialize(kv.Key)).Append(':');
                    Write(sb, kv.Value);
                }
                sb.Append('}');
                break;
            default: throw new ArgumentException($"cannot send {v.GetType()} to node");
        }
    }

    private static string Describe(Outcome o) => $"{o.Template.Name} / {o.Case} / generation={o.Generation} / kwargs={o.Kwargs}";

    [Theory]
    [MemberData(nameof(TemplateNames))]
    public void Renders_like_huggingface_jinja(string template)
    {
        var mine = All.Value.Where(o => o.Template.Name == template).ToList();
        Assert.True(mine.Count >= 16, $"{template}: only {mine.Count} renders");
        foreach (Outcome o in mine)
        {
            if (o.HfError is not null)
            {
                Assert.True(o.OurError is not null, $"{Describe(o)}: Hugging Face raised '{o.HfError}', we rendered {JsonSerializer.Serialize(o.OurText)}");
                continue;
            }
            Assert.True(o.OurError is null, $"{Describe(o)}: we raised '{o.OurError}', Hugging Face rendered {JsonSerializer.Serialize(o.HfText)}");
            Assert.True(o.HfText == o.OurText, $"{Describe(o)}:\n  hf:   {JsonSerializer.Serialize(o.HfText)}\n  ours: {JsonSerializer.Serialize(o.OurText)}");
        }
        output.WriteLine($"{template}: {mine.Count} renders, {mine.Count(o => o.HfError is null)} equal to Hugging Face's text, {mine.Count(o => o.HfError is not null)} errors on both sides");
        // Most conversations render: an engine that failed everything on both sides would not count as agreeing.
        Assert.True(mine.Count(o => o.HfError is null) * 2 > mine.Count, $"{template}: most renders are errors");
    }

    private static readonly Lazy<Tokenizer> Llama3 = new(() => Tokenizer.FromFile(Llama3Json));

    private static string Llama3Json
    {
        get
        {
            NodeTokenizers.EnsureInstalled();
            return Path.Combine(NodeTokenizers.Folder, "node_modules", "@lenml", "tokenizer-llama3", "models", "tokenizer.json");
        }
    }

    private static (Tokenizer, string) Vocabulary(string name) => name switch
    {
        "deepseek-v3" => (TokenizerFixtures.DeepSeekV3, Path.Combine(Fixtures.Path("tokenizers", "deepseek-v3"), "tokenizer.json")),
        "qwen3" => (TokenizerFixtures.Qwen3, Path.Combine(Fixtures.Path("tokenizers", "qwen3"), "tokenizer.json")),
        _ => (Llama3.Value, Llama3Json),
    };

    [Theory]
    [MemberData(nameof(TemplateNames))]
    public void Marked_up_prompts_encode_like_huggingface_on_the_whole_string(string template)
    {
        TemplateInfo info = Templates.Single(t => t.Name == template);
        var (tokenizer, json) = Vocabulary(info.Vocabulary);
        var renders = All.Value.Where(o => o.Template.Name == template && o.OurText is not null).ToList();
        // Only prompts whose content holds no added-token text: there the content rule and Hugging Face agree by design.
        var clean = renders.Where(o => !o.OurContent!.Any(r => tokenizer.AddedTokens.Any(t => o.OurText!.AsSpan(r.Start, r.Length).Contains(t.Content, StringComparison.Ordinal)))).ToList();
        Assert.True(clean.Count * 2 > renders.Count, $"{template}: {clean.Count} of {renders.Count} renders are free of marker text");
        var hf = NodeTokenizers.Encode(json, clean.Select(o => o.OurText!).ToList());
        output.WriteLine($"{template}: {clean.Count} of {renders.Count} rendered prompts hold no control-token text in their content; their ids are compared");
        for (int i = 0; i < clean.Count; i++)
        {
            int[] ours = tokenizer.EncodeMarkedUp(clean[i].OurText!, clean[i].OurContent!);
            Assert.True(hf[i].Ids.SequenceEqual(ours), $"{Describe(clean[i])}: ids differ\n  hf:   {string.Join(',', hf[i].Ids)}\n  ours: {string.Join(',', ours)}");
        }
    }
}
