using System.Numerics.Tensors;
using System.Text.Json.Nodes;
using SharpSeek.Chat;
using SharpSeek.Formats.Gguf;
using SharpSeek.Serving;
using Xunit.Abstractions;

namespace SharpSeek.LlamaCpp.Tests;

/// <summary>
/// What a user does with a downloaded DeepSeek-R1-0528-Qwen3-8B GGUF, on a random-weight Qwen3 of a small shape: the
/// checkpoint carries R1-0528-Qwen3-8B's own chat template and DeepSeek's special tokens, <c>convert</c> writes the GGUF,
/// and the chat path <c>run</c> takes (<see cref="ModelBundle"/> → <see cref="ChatPipeline"/>) renders, encodes and
/// answers from that file alone. llama.cpp, reading the same file, must give the same prompt ids, the same logits and the
/// same greedy tokens.
/// </summary>
public sealed class Qwen3ChatTests(ITestOutputHelper output)
{
    [Fact]
    public async Task R1_0528_Qwen3_8B_gguf_chats_with_its_own_template_as_llama_cpp_reads_it()
    {
        using var dir = new TempDir();
        string hf = dir.File("hf"), gguf = dir.File("r1-0528-qwen3.gguf");
        RandomCheckpoint.Write(hf, new DenseShape());
        string template = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "deepseek-r1-0528-qwen3-8b.jinja"));
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(hf, "tokenizer_config.json")))!.AsObject();
        config["chat_template"] = template;
        File.WriteAllText(Path.Combine(hf, "tokenizer_config.json"), config.ToJsonString());
        GgufExporter.Convert(hf, gguf, null);
        using (var f = new GgufFile(gguf))
        {
            Assert.Equal("qwen3", f.Architecture);
            Assert.Equal(template, f.GetString("tokenizer.chat_template"));
        }

        using var pipeline = new ChatPipeline(ModelBundle.Load(gguf), new SchedulerOptions { ContextSize = 512 }, ownsBundle: true);
        var prompt = pipeline.PrepareChat(new ChatPromptRequest([ChatMessage.System("Answer briefly."), ChatMessage.User("What is 12 + 7?")]));
        string text = pipeline.Bundle.Tokenizer.Decode(prompt.Tokens);
        Assert.StartsWith("<｜begin▁of▁sentence｜>Answer briefly.<｜User｜>What is 12 + 7?<｜Assistant｜>", text);

        // The GGUF's vocabulary, pre-tokenizer and special tokens as llama.cpp reads them: the same ids for the whole prompt.
        var theirs = LlamaCpp.Tokenize(gguf, text);
        Assert.Equal(prompt.Tokens, theirs);

        // Greedy answer through the chat path; llama.cpp's argmax after the prompt and each answer token must pick the same.
        const int n = 12;
        var result = await pipeline.CompleteAsync(prompt, new CompletionOptions { MaxTokens = n, IgnoreEos = true, TopLogprobs = 0 });
        var byBytes = new Dictionary<string, int>();
        var tok = pipeline.Bundle.Tokenizer;
        for (int i = 0; i < tok.VocabSize; i++) byBytes.TryAdd(Convert.ToHexString(tok.GetTokenBytes(i)), i);
        int[] answer = [.. result.Logprobs!.Select(t => byBytes[Convert.ToHexString(t.Bytes)])];
        Assert.Equal(n, answer.Length);
        int[] all = [.. prompt.Tokens, .. answer];
        var logits = LlamaCpp.Logits(gguf, all);
        int v = tok.VocabSize, agree = 0;
        for (int i = 0; i < n; i++)
        {
            if (TensorPrimitives.IndexOfMax(logits.AsSpan((prompt.Tokens.Length - 1 + i) * v, v)) == answer[i]) agree++;
        }
        var c = Logits.Compare(Logits.Ours(gguf, all), logits, v);
        string line = $"[qwen3-chat] R1-0528-Qwen3-8B template: {prompt.Tokens.Length} prompt ids equal llama.cpp's; greedy {agree}/{n} tokens agree; prompt+answer logits {c}";
        output.WriteLine(line);
        Console.WriteLine(line);
        Assert.Equal(n, agree);
        Assert.True(c.MaxAbs <= 1e-4, $"max |Δlogit| {c.MaxAbs} against llama.cpp over the chat prompt");
    }
}
