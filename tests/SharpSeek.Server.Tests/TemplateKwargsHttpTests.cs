using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace SharpSeek.Server.Tests;

/// <summary>
/// The model's own template over HTTP: <c>chat_template_kwargs</c> and DeepSeek's <c>thinking</c> switch reach a
/// DeepSeek-V3.1 template (reasoning_content appears only when thinking is on), bad kwargs are 400s naming the field,
/// and a template's <c>raise_exception</c> message comes back as a 400.
/// </summary>
public sealed class TemplateKwargsHttpTests : IDisposable
{
    private readonly List<string> _dirs = [];

    public void Dispose()
    {
        foreach (string d in _dirs) Directory.Delete(d, recursive: true);
    }

    private string ModelWithTemplate(string template)
    {
        string dir = Directory.CreateTempSubdirectory("kwargs-model-").FullName;
        _dirs.Add(dir);
        foreach (string f in (string[])["config.json", "generation_config.json", "model.safetensors", "tokenizer.json"])
            File.Copy(Path.Combine(Fixtures.BundledModel, f), Path.Combine(dir, f));
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(Fixtures.BundledModel, "tokenizer_config.json")))!.AsObject();
        config["chat_template"] = template;
        File.WriteAllText(Path.Combine(dir, "tokenizer_config.json"), config.ToJsonString());
        return dir;
    }

    private static string V31 => File.ReadAllText(Fixtures.Path("chat-templates", "deepseek-v3.1.jinja"));

    private static async Task<(HttpStatusCode, JsonElement)> Chat(LiveServer s, object body)
    {
        using var r = await s.Http.PostAsJsonAsync("v1/chat/completions", body);
        return (r.StatusCode, await r.Content.ReadFromJsonAsync<JsonElement>());
    }

    private static object Body(object? extra = null, string? thinking = null) => new Dictionary<string, object?>
    {
        ["messages"] = new[] { new { role = "user", content = "What is 12 + 7?" } },
        ["max_tokens"] = 40,
        ["temperature"] = 0,
        ["chat_template_kwargs"] = extra,
        ["thinking"] = thinking is null ? null : new { type = thinking },
    };

    [Fact]
    public async Task V31_thinking_switch_from_chat_template_kwargs_and_deepseek_thinking()
    {
        await using var server = await LiveServer.StartAsync(modelPath: ModelWithTemplate(V31));
        static string? Reasoning(JsonElement j) =>
            j.GetProperty("choices")[0].GetProperty("message").TryGetProperty("reasoning_content", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString() : null;
        var (s1, off) = await Chat(server, Body());
        var (s2, on) = await Chat(server, Body(new { thinking = true }));
        var (s3, deepseek) = await Chat(server, Body(thinking: "enabled"));
        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK), (s1, s2, s3));
        Assert.True(string.IsNullOrEmpty(Reasoning(off)), "V3.1 defaults to non-thinking");
        Assert.False(string.IsNullOrEmpty(Reasoning(on)));
        Assert.Equal(Reasoning(on), Reasoning(deepseek));
    }

    [Theory]
    [InlineData("""{"messages":[{"role":"user","content":"hi"}],"chat_template_kwargs":[1]}""", "chat_template_kwargs")]
    [InlineData("""{"messages":[{"role":"user","content":"hi"}],"chat_template_kwargs":{"messages":[]}}""", "messages")]
    [InlineData("""{"messages":[{"role":"user","content":"hi"}],"thinking":{"type":"maybe"}}""", "thinking")]
    public async Task Bad_kwargs_are_400(string json, string param)
    {
        await using var server = await LiveServer.StartAsync(modelPath: ModelWithTemplate(V31));
        using var r = await server.Http.PostAsync("v1/chat/completions", new StringContent(json, System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        var e = (await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error");
        Assert.Equal(param, e.GetProperty("param").GetString());
    }

    [Fact]
    public async Task Raise_exception_is_a_400_with_the_templates_message()
    {
        string template = "{% for m in messages %}{% if m.role == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}{{ m.content }}{% endfor %}";
        await using var server = await LiveServer.StartAsync(modelPath: ModelWithTemplate(template));
        var (status, body) = await Chat(server, new { messages = new[] { new { role = "system", content = "s" }, new { role = "user", content = "u" } } });
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("System role not supported", body.GetProperty("error").GetProperty("message").GetString());
    }
}
