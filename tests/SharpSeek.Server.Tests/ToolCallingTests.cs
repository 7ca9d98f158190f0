using System.ClientModel;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Json.Schema;
using Microsoft.Extensions.AI;
using OpenAI;
using OpenAI.Chat;
using SharpSeek.Serving;
using SharpSeek.Tests.Support;
using AiChatMessage = Microsoft.Extensions.AI.ChatMessage;

namespace SharpSeek.Server.Tests;

/// <summary>
/// <c>serve</c> with a random-weight model around DeepSeek-V3's real vocabulary and chat template (nearly uniform
/// logits): tools and JSON output through the OpenAI SDK 2.15.0, Microsoft.Extensions.AI.OpenAI 10.11.0 (function
/// invocation calls a C# function), OllamaSharp 5.5.2 and raw HTTP, every argument and answer validated by JsonSchema.Net.
/// </summary>
public sealed class RandomDeepSeekServer : IAsyncLifetime
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "sharpseek-tools-" + Guid.NewGuid().ToString("N"));

    public LiveServer Server { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        RandomVocabularyModel.Write(_dir, Fixtures.Path("tokenizers", "deepseek-v3"), vocabSize: 129280, eosId: 1);
        Server = await LiveServer.StartAsync(modelPath: _dir, scheduler: new SchedulerOptions { ContextSize = 2048, MaxActive = 8 });
    }

    public async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}

public sealed class ToolCallingTests(RandomDeepSeekServer fixture) : IClassFixture<RandomDeepSeekServer>
{
    private const string WeatherSchema = """{"type":"object","properties":{"city":{"type":"string","minLength":1,"maxLength":12},"unit":{"enum":["c","f"]}},"required":["city","unit"],"additionalProperties":false}""";
    private const string AddSchema = """{"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"integer"}},"required":["a","b"],"additionalProperties":false}""";
    private const string PersonSchema = """{"type":"object","properties":{"name":{"type":"string","maxLength":10},"age":{"type":"integer","minimum":0,"maximum":120},"tags":{"type":"array","maxItems":2,"items":{"enum":["x","y"]}}},"required":["name","age","tags"],"additionalProperties":false}""";

    private LiveServer S => fixture.Server;

    private ChatClient OpenAi() =>
        new OpenAIClient(new ApiKeyCredential("unused"), new OpenAIClientOptions { Endpoint = new Uri(S.BaseUri, "v1/") }).GetChatClient("deepseek-chat");

    private static readonly ChatTool Weather = ChatTool.CreateFunctionTool("get_weather", "Weather in a city", BinaryData.FromString(WeatherSchema), functionSchemaIsStrict: true);
    private static readonly ChatTool Add = ChatTool.CreateFunctionTool("add", "Adds two integers", BinaryData.FromString(AddSchema));

    private static void AssertValid(string schema, string json)
    {
        using var doc = JsonDocument.Parse(json);
        var result = JsonSchema.FromText(schema).Evaluate(doc.RootElement);
        Assert.True(result.IsValid, $"{json} is not valid against {schema}");
    }

    private static ChatCompletionOptions Forced(ChatToolChoice choice, long seed) => new()
    {
        Tools = { Weather, Add },
        ToolChoice = choice,
        Temperature = 1,
        Seed = seed,
        MaxOutputTokenCount = 400,
    };

    [Fact]
    public async Task OpenAi_sdk_required_tool_calls_parse_and_validate_for_every_seed()
    {
        var client = OpenAi();
        for (long seed = 1; seed <= 12; seed++)
        {
            ChatCompletion c = await client.CompleteChatAsync([new UserChatMessage("Weather in Paris? And 2+3?")], Forced(ChatToolChoice.CreateRequiredChoice(), seed));
            Assert.Equal(OpenAI.Chat.ChatFinishReason.ToolCalls, c.FinishReason);
            Assert.NotEmpty(c.ToolCalls);
            foreach (var call in c.ToolCalls)
            {
                Assert.StartsWith("call_", call.Id);
                AssertValid(call.FunctionName == "add" ? AddSchema : WeatherSchema, call.FunctionArguments.ToString());
            }
        }
    }

    [Fact]
    public async Task OpenAi_sdk_streamed_tool_call_updates_concatenate_to_the_non_streamed_call()
    {
        var client = OpenAi();
        for (long seed = 1; seed <= 4; seed++)
        {
            var options = Forced(ChatToolChoice.CreateFunctionChoice("get_weather"), seed);
            ChatCompletion whole = await client.CompleteChatAsync([new UserChatMessage("Weather?")], options);
            var names = new Dictionary<int, string>();
            var args = new Dictionary<int, StringBuilder>();
            var ids = new Dictionary<int, string>();
            OpenAI.Chat.ChatFinishReason? finish = null;
            await foreach (var u in client.CompleteChatStreamingAsync([new UserChatMessage("Weather?")], options))
            {
                foreach (var t in u.ToolCallUpdates)
                {
                    if (t.ToolCallId is not null) ids[t.Index] = t.ToolCallId;
                    if (t.FunctionName is not null) names[t.Index] = t.FunctionName;
                    (args.TryGetValue(t.Index, out var sb) ? sb : args[t.Index] = new StringBuilder()).Append(t.FunctionArgumentsUpdate?.ToString());
                }
                finish ??= u.FinishReason;
            }
            Assert.Equal(OpenAI.Chat.ChatFinishReason.ToolCalls, finish);
            Assert.Equal(Enumerable.Range(0, whole.ToolCalls.Count), names.Keys.Order());
            for (int i = 0; i < whole.ToolCalls.Count; i++)
            {
                Assert.Equal("get_weather", names[i]);
                Assert.Equal(whole.ToolCalls[i].FunctionArguments.ToString(), args[i].ToString());
                Assert.StartsWith("call_", ids[i]);
                AssertValid(WeatherSchema, args[i].ToString());
            }
        }
    }

    [Fact]
    public async Task OpenAi_sdk_json_schema_response_format_validates_for_every_seed()
    {
        var client = OpenAi();
        var format = OpenAI.Chat.ChatResponseFormat.CreateJsonSchemaFormat("person", BinaryData.FromString(PersonSchema), jsonSchemaIsStrict: true);
        for (long seed = 1; seed <= 12; seed++)
        {
            ChatCompletion c = await client.CompleteChatAsync([new UserChatMessage("A person, please.")],
                new ChatCompletionOptions { ResponseFormat = format, Temperature = 1, Seed = seed, MaxOutputTokenCount = 300 });
            Assert.Equal(OpenAI.Chat.ChatFinishReason.Stop, c.FinishReason);
            AssertValid(PersonSchema, c.Content[0].Text);
        }
    }

    [Fact]
    public async Task Extensions_ai_function_invocation_calls_the_csharp_function_and_sends_back_its_result()
    {
        int called = 0;
        long seen = 0;
        var add = AIFunctionFactory.Create((long a, long b) => { called++; seen = a + b; return a + b; }, "add", "Adds two integers");
        IChatClient client = new ChatClientBuilder(OpenAi().AsIChatClient()).UseFunctionInvocation().Build();
        var response = await client.GetResponseAsync([new AiChatMessage(ChatRole.User, "What is 2+3?")],
            new Microsoft.Extensions.AI.ChatOptions { Tools = [add], ToolMode = ChatToolMode.RequireAny, AllowMultipleToolCalls = false, MaxOutputTokens = 200, Temperature = 1, Seed = 3 });
        Assert.True(called == 1, string.Join("\n", response.Messages.Select(m => m.Role + ": " + string.Join(" | ", m.Contents.Select(c => c switch
        {
            FunctionCallContent f => $"call {f.Name}({JsonSerializer.Serialize(f.Arguments)}) {f.Exception?.Message} {f.Exception?.InnerException?.Message}",
            FunctionResultContent r => $"result {r.Result} {r.Exception?.Message}",
            _ => c.ToString(),
        })))));
        var call = response.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>().Single();
        var result = response.Messages.SelectMany(m => m.Contents).OfType<FunctionResultContent>().Single();
        Assert.Equal(call.CallId, result.CallId);
        Assert.Equal(seen.ToString(), result.Result?.ToString());
        Assert.Equal(ChatRole.Assistant, response.Messages[^1].Role);
    }

    [Fact]
    public async Task In_process_chat_client_function_invocation_calls_the_csharp_function()
    {
        int called = 0;
        var weather = AIFunctionFactory.Create((string city, string unit) => { called++; return $"sunny in {city}"; }, "get_weather", "Weather in a city");
        using var inner = new SharpSeekChatClient(S.Pipeline);
        IChatClient client = new ChatClientBuilder(inner).UseFunctionInvocation().Build();
        // The function's own schema has free strings, which never end under nearly uniform logits: declare bounded ones.
        var bounded = new BoundedFunction(weather, JsonDocument.Parse(WeatherSchema).RootElement);
        var options = new Microsoft.Extensions.AI.ChatOptions
        {
            Tools = [bounded],
            ToolMode = ChatToolMode.RequireSpecific("get_weather"),
            AllowMultipleToolCalls = false,
            MaxOutputTokens = 300,
            Temperature = 1,
            Seed = 5,
        };
        var response = await client.GetResponseAsync([new AiChatMessage(ChatRole.User, "Weather in Paris?")], options);
        Assert.Equal(1, called);
        var call = response.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>().Single();
        AssertValid(WeatherSchema, JsonSerializer.Serialize(call.Arguments));
        Assert.Contains(response.Messages.SelectMany(m => m.Contents).OfType<FunctionResultContent>(), r => r.Result?.ToString()!.StartsWith("sunny in ") == true);
    }

    private sealed record Reading(long Celsius, bool Raining);

    [Fact]
    public async Task In_process_chat_client_returns_typed_structured_output()
    {
        using var client = new SharpSeekChatClient(S.Pipeline);
        for (int seed = 1; seed <= 5; seed++)
        {
            var response = await client.GetResponseAsync<Reading>("Today's weather as JSON.", new Microsoft.Extensions.AI.ChatOptions { Temperature = 1, Seed = seed, MaxOutputTokens = 100 });
            Assert.True(response.TryGetResult(out var reading), response.Text);
            Assert.Equal(response.Text, JsonSerializer.Serialize(new { celsius = reading!.Celsius, raining = reading.Raining }));
        }
    }

    [Fact]
    public async Task Ollama_generate_takes_format_too()
    {
        var r = await S.Http.PostAsJsonAsync("api/generate", new { model = S.Pipeline.Bundle.Name, prompt = "A person.", format = JsonDocument.Parse(PersonSchema).RootElement, stream = false, options = new { seed = 3, num_predict = 300 } });
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        AssertValid(PersonSchema, (await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("response").GetString()!);
        var bad = await S.Http.PostAsJsonAsync("api/chat", new { model = S.Pipeline.Bundle.Name, messages = new[] { new { role = "user", content = "x" } }, format = JsonDocument.Parse("""{"type":"string","format":"hostname"}""").RootElement });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("hostname", await bad.Content.ReadAsStringAsync());
    }

    /// <summary>A function with another parameter schema (the same name and behaviour).</summary>
    private sealed class BoundedFunction(AIFunction inner, JsonElement schema) : DelegatingAIFunction(inner)
    {
        public override JsonElement JsonSchema => schema;
    }

    [Fact]
    public async Task Bad_tool_requests_are_400s_naming_the_field_and_keyword()
    {
        async Task<JsonElement> Post(object body)
        {
            var r = await S.Http.PostAsJsonAsync("v1/chat/completions", body);
            Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
            return (await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error");
        }
        var messages = new[] { new { role = "user", content = "hi" } };
        var weather = new { type = "function", function = new { name = "get_weather", parameters = JsonDocument.Parse(WeatherSchema).RootElement } };

        var e = await Post(new { messages, tools = new[] { weather }, tool_choice = new { type = "function", function = new { name = "nope" } } });
        Assert.Equal("tool_choice", e.GetProperty("param").GetString());
        Assert.Contains("nope", e.GetProperty("message").GetString());

        var oneOf = new { type = "function", function = new { name = "f", strict = true, parameters = JsonDocument.Parse("""{"type":"object","properties":{"x":{"oneOf":[{"type":"string"}]}}}""").RootElement } };
        e = await Post(new { messages, tools = new[] { oneOf } });
        Assert.Equal("tools[0].function.parameters", e.GetProperty("param").GetString());
        Assert.Contains("oneOf", e.GetProperty("message").GetString());

        e = await Post(new { messages, response_format = new { type = "json_schema", json_schema = new { name = "x", schema = JsonDocument.Parse("""{"type":"number","multipleOf":2}""").RootElement } } });
        Assert.Equal("response_format.json_schema.schema", e.GetProperty("param").GetString());
        Assert.Contains("multipleOf", e.GetProperty("message").GetString());

        e = await Post(new { messages, tools = new[] { weather }, tool_choice = "sometimes" });
        Assert.Equal("tool_choice", e.GetProperty("param").GetString());

        e = await Post(new { messages, response_format = new { type = "yaml" } });
        Assert.Equal("response_format.type", e.GetProperty("param").GetString());

        e = await Post(new { messages, functions = new[] { new { name = "f" } } });
        Assert.Equal("functions", e.GetProperty("param").GetString());

        e = await Post(new { messages, tools = new[] { new { type = "function", function = new { name = "bad name!" } } } });
        Assert.Equal("tools[0].function.name", e.GetProperty("param").GetString());
    }

    [Fact]
    public async Task Models_and_show_state_tool_capability()
    {
        var models = await S.Http.GetFromJsonAsync<JsonElement>("v1/models");
        var first = models.GetProperty("data")[0];
        Assert.Contains("tools", first.GetProperty("capabilities").EnumerateArray().Select(c => c.GetString()));
        Assert.Equal("deepseek", first.GetProperty("tool_call_format").GetString());
        var show = await (await S.Http.PostAsJsonAsync("api/show", new { model = S.Pipeline.Bundle.Name })).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains("tools", show.GetProperty("capabilities").EnumerateArray().Select(c => c.GetString()));
    }

    [Fact]
    public async Task Tool_history_round_trips_through_the_template()
    {
        // An assistant turn with a call and the tool's result, then a new forced call.
        var body = new
        {
            messages = new object[]
            {
                new { role = "user", content = "2+3?" },
                new { role = "assistant", content = (string?)null, tool_calls = new[] { new { id = "call_1", type = "function", function = new { name = "add", arguments = "{\"a\":2,\"b\":3}" } } } },
                new { role = "tool", tool_call_id = "call_1", content = "5" },
                new { role = "user", content = "and 4+4?" },
            },
            tools = new[] { new { type = "function", function = new { name = "add", parameters = JsonDocument.Parse(AddSchema).RootElement } } },
            tool_choice = "required",
            seed = 9,
            max_tokens = 200,
        };
        var r = await S.Http.PostAsJsonAsync("v1/chat/completions", body);
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        var choice = (await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("choices")[0];
        Assert.Equal("tool_calls", choice.GetProperty("finish_reason").GetString());
        Assert.Equal(JsonValueKind.Null, choice.GetProperty("message").GetProperty("content").ValueKind);
        var call = choice.GetProperty("message").GetProperty("tool_calls")[0];
        Assert.Equal("add", call.GetProperty("function").GetProperty("name").GetString());
        AssertValid(AddSchema, call.GetProperty("function").GetProperty("arguments").GetString()!);
    }

    [Fact]
    public async Task OllamaSharp_format_schema_and_tool_calls()
    {
        var ollama = new OllamaSharp.OllamaApiClient(new HttpClient { BaseAddress = S.BaseUri, Timeout = TimeSpan.FromMinutes(2) }, S.Pipeline.Bundle.Name);
        // format: a JSON schema
        var request = new OllamaSharp.Models.Chat.ChatRequest
        {
            Model = S.Pipeline.Bundle.Name,
            Messages = [new OllamaSharp.Models.Chat.Message(OllamaSharp.Models.Chat.ChatRole.User, "A person.")],
            Format = JsonDocument.Parse(PersonSchema).RootElement,
            Options = new OllamaSharp.Models.RequestOptions { Temperature = 1, Seed = 4, NumPredict = 300 },
            Stream = true,
        };
        var text = new StringBuilder();
        await foreach (var chunk in ollama.ChatAsync(request)) text.Append(chunk?.Message.Content);
        AssertValid(PersonSchema, text.ToString());

        // tools with tool_choice (SharpSeek's extension; Ollama itself has none) through raw HTTP, the response read with OllamaSharp's types.
        var body = new
        {
            model = S.Pipeline.Bundle.Name,
            messages = new[] { new { role = "user", content = "2+3?" } },
            tools = new[] { new { type = "function", function = new { name = "add", description = "Adds", parameters = JsonDocument.Parse(AddSchema).RootElement } } },
            tool_choice = "required",
            stream = false,
            options = new { seed = 2, num_predict = 200 },
        };
        var r = await S.Http.PostAsJsonAsync("api/chat", body);
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        var done = JsonSerializer.Deserialize<OllamaSharp.Models.Chat.ChatDoneResponseStream>(await r.Content.ReadAsStringAsync())!;
        Assert.NotEmpty(done.Message.ToolCalls!);
        foreach (var call in done.Message.ToolCalls!)
        {
            Assert.Equal("add", call.Function!.Name);
            AssertValid(AddSchema, JsonSerializer.Serialize(call.Function.Arguments));
        }

        // The same through OllamaSharp's own chat with tools (auto): the request is accepted and answered.
        var auto = new OllamaSharp.Models.Chat.ChatRequest
        {
            Model = S.Pipeline.Bundle.Name,
            Messages = [new OllamaSharp.Models.Chat.Message(OllamaSharp.Models.Chat.ChatRole.User, "2+3?")],
            Tools = [new OllamaSharp.Models.Chat.Tool { Function = new OllamaSharp.Models.Chat.Function { Name = "add", Description = "Adds" } }],
            Options = new OllamaSharp.Models.RequestOptions { Seed = 1, NumPredict = 5 },
            Stream = false,
        };
        await foreach (var chunk in ollama.ChatAsync(auto)) Assert.NotNull(chunk);
    }
}

/// <summary>The bundled tiny model's template has no tool format: tools are refused unless the fallback is on.</summary>
public sealed class ToolFallbackTests
{
    [Fact]
    public async Task Tools_on_a_model_without_a_tool_format_are_a_400_unless_the_fallback_is_on()
    {
        await using var plain = await LiveServer.StartAsync();
        Assert.Null(plain.Pipeline.Bundle.ToolFormat);
        var body = new
        {
            messages = new[] { new { role = "user", content = "hi" } },
            tools = new[] { new { type = "function", function = new { name = "f" } } },
            max_tokens = 4,
        };
        var r = await plain.Http.PostAsJsonAsync("v1/chat/completions", body);
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        var e = (await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error");
        Assert.Equal("tools", e.GetProperty("param").GetString());
        Assert.Contains("--tool-fallback", e.GetProperty("message").GetString());

        await using var fallback = await LiveServer.StartAsync(scheduler: new SchedulerOptions { ContextSize = 512 }, configure: o => o with { ToolFallback = true });
        r = await fallback.Http.PostAsJsonAsync("v1/chat/completions", body);
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        var models = await fallback.Http.GetFromJsonAsync<JsonElement>("v1/models");
        Assert.Equal("hermes-fallback", models.GetProperty("data")[0].GetProperty("tool_call_format").GetString());
    }
}
