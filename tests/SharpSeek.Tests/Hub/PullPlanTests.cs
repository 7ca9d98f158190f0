using SharpSeek.Hub;

namespace SharpSeek.Tests.Hub;

/// <summary>Which files a pull takes (<see cref="PullPlan.Choose"/>) and how a hub model is named (<see cref="HubReference"/>).</summary>
public sealed class PullPlanTests
{
    private static RepoFile F(string path, long size = 1000) => new(path, size);

    // A GGUF repository as uploaders lay them out: one file per quantization, a vision projector, docs.
    private static readonly RepoFile[] Gguf =
    [
        F(".gitattributes", 2), F("README.md", 5),
        F("DeepSeek-R1-Distill-Qwen-1.5B-Q8_0.gguf", 1_890), F("DeepSeek-R1-Distill-Qwen-1.5B-Q4_K_M.gguf", 1_120),
        F("DeepSeek-R1-Distill-Qwen-1.5B-IQ4_XS.gguf", 1_020), F("DeepSeek-R1-Distill-Qwen-1.5B-F16.gguf", 3_560),
        F("DeepSeek-R1-Distill-Qwen-1.5B-UD-Q4_K_XL.gguf", 1_140), F("mmproj-F16.gguf", 10),
    ];

    [Fact]
    public void A_bare_gguf_repository_gets_Q4_K_M_and_says_so()
    {
        var plan = PullPlan.Choose("x/y", Gguf, null);
        Assert.Equal(RepoFormat.Gguf, plan.Format);
        Assert.Equal("DeepSeek-R1-Distill-Qwen-1.5B-Q4_K_M.gguf", Assert.Single(plan.Files).Path);
        Assert.Equal("Q4_K_M", plan.Quant);
        Assert.StartsWith("Q4_K_M, the default (also here: IQ4_XS (1.0 kB), UD-Q4_K_XL (1.1 kB), Q8_0 (1.9 kB), F16 (3.6 kB); pick one with x/y:QUANT)", plan.Why);
        Assert.Equal(1_120, plan.Bytes);
        Assert.DoesNotContain(plan.Available, c => c.Files.Any(f => f.Path.Contains("mmproj", StringComparison.Ordinal)));
    }

    [Fact]
    public void Without_Q4_K_M_the_smallest_model_is_taken_and_named()
    {
        var plan = PullPlan.Choose("x/y", [.. Gguf.Where(f => !f.Path.Contains("Q4_K_M", StringComparison.Ordinal))], null);
        Assert.Equal("IQ4_XS", plan.Quant);
        Assert.StartsWith("IQ4_XS, the smallest here (no Q4_K_M; also here:", plan.Why);
        var single = PullPlan.Choose("x/y", [F("model-Q8_0.gguf")], null);
        Assert.Equal("Q8_0, the smallest here (no Q4_K_M)", single.Why);
    }

    [Theory]
    [InlineData("q8_0", "DeepSeek-R1-Distill-Qwen-1.5B-Q8_0.gguf")]
    [InlineData("F16", "DeepSeek-R1-Distill-Qwen-1.5B-F16.gguf")]
    [InlineData("UD-Q4_K_XL", "DeepSeek-R1-Distill-Qwen-1.5B-UD-Q4_K_XL.gguf")]
    [InlineData("DeepSeek-R1-Distill-Qwen-1.5B-IQ4_XS.gguf", "DeepSeek-R1-Distill-Qwen-1.5B-IQ4_XS.gguf")]
    public void A_quantization_or_a_file_picks_that_model(string selector, string file)
    {
        Assert.Equal(file, Assert.Single(PullPlan.Choose("x/y", Gguf, selector).Files).Path);
    }

    [Fact]
    public void A_missing_quantization_lists_what_there_is()
    {
        var e = Assert.Throws<SharpSeekException>(() => PullPlan.Choose("x/y", Gguf, "Q5_K_M"));
        Assert.Equal("x/y has no Q5_K_M model; available: IQ4_XS (1.0 kB), Q4_K_M (1.1 kB), UD-Q4_K_XL (1.1 kB), Q8_0 (1.9 kB), F16 (3.6 kB)", e.Message);
        Assert.Contains("has no file 'other.gguf'", Assert.Throws<SharpSeekException>(() => PullPlan.Choose("x/y", Gguf, "other.gguf")).Message);
    }

    [Fact]
    public void Split_models_come_whole_whether_named_by_quantization_folder_or_shard()
    {
        RepoFile[] files =
        [
            F("Q4_K_M/model-Q4_K_M-00002-of-00002.gguf", 400), F("Q4_K_M/model-Q4_K_M-00001-of-00002.gguf", 500),
            F("Q8_0/model-00001-of-00002.gguf", 900), F("Q8_0/model-00002-of-00002.gguf", 800),
        ];
        var plan = PullPlan.Choose("x/y", files, null);
        Assert.Equal(["Q4_K_M/model-Q4_K_M-00001-of-00002.gguf", "Q4_K_M/model-Q4_K_M-00002-of-00002.gguf"], plan.Files.Select(f => f.Path));
        Assert.Equal("Q4_K_M/model-Q4_K_M-00001-of-00002.gguf", plan.ModelFile!.Path);
        Assert.Equal(900, plan.Bytes);
        var q8 = PullPlan.Choose("x/y", files, "Q8_0");
        Assert.Equal(["Q8_0/model-00001-of-00002.gguf", "Q8_0/model-00002-of-00002.gguf"], q8.Files.Select(f => f.Path));
        var shard = PullPlan.Choose("x/y", files, "Q8_0/model-00002-of-00002.gguf");
        Assert.Equal(2, shard.Files.Count);
        Assert.Contains("2 shards", shard.Why);
    }

    [Fact]
    public void A_safetensors_repository_gets_what_it_takes_to_run()
    {
        RepoFile[] files =
        [
            F(".gitattributes"), F("LICENSE"), F("README.md"), F("config.json"), F("generation_config.json"),
            F("model-00001-of-000002.safetensors"), F("model-00002-of-000002.safetensors"), F("model.safetensors.index.json"),
            F("tokenizer.json"), F("tokenizer_config.json"), F("chat_template.jinja"), F("pytorch_model.bin"),
            F("original/consolidated.00.pth"), F("figures/benchmark.png"), F("inference/model.py"), F("onnx/model.onnx"),
        ];
        var plan = PullPlan.Choose("deepseek-ai/X", files, null);
        Assert.Equal(RepoFormat.Safetensors, plan.Format);
        Assert.Null(plan.ModelFile);
        Assert.Equal(["LICENSE", "README.md", "config.json", "generation_config.json", "model-00001-of-000002.safetensors", "model-00002-of-000002.safetensors",
            "model.safetensors.index.json", "tokenizer.json", "tokenizer_config.json", "chat_template.jinja"], plan.Files.Select(f => f.Path));
        var e = Assert.Throws<SharpSeekException>(() => PullPlan.Choose("deepseek-ai/X", files, "Q4_K_M"));
        Assert.Contains("it is a safetensors repository: pull it as deepseek-ai/X", e.Message);
        Assert.Equal("config.json", Assert.Single(PullPlan.Choose("deepseek-ai/X", files, "config.json").Files).Path);
        Assert.Contains("nothing here runs", Assert.Throws<SharpSeekException>(() => PullPlan.Choose("x/y", [F("README.md"), F("pytorch_model.bin")], null)).Message);
    }

    [Theory]
    [InlineData("Qwen2.5-7B-Instruct-Q4_K_M.gguf", "Q4_K_M")]
    [InlineData("model-q4_0.gguf", "Q4_0")]
    [InlineData("Llama-3.2-1B-Instruct-bf16.gguf", "BF16")]
    [InlineData("DeepSeek-V3-0324-UD-IQ1_S-00001-of-00004.gguf", "UD-IQ1_S")]
    [InlineData("gpt-oss-20b-MXFP4.gguf", "MXFP4")]
    [InlineData("Q6_K/model-00001-of-00003.gguf", "Q6_K")]
    [InlineData("tinyllama.gguf", null)]
    public void Quantization_tags_come_from_file_names(string path, string? quant) => Assert.Equal(quant, PullPlan.QuantOf(path));

    [Theory]
    [InlineData("acme/tiny", "acme/tiny", "main", null)]
    [InlineData("acme/tiny:Q4_K_M", "acme/tiny", "main", "Q4_K_M")]
    [InlineData("acme/tiny@v2:model-Q8_0.gguf", "acme/tiny", "v2", "model-Q8_0.gguf")]
    [InlineData("hf.co/acme/tiny:q8_0", "acme/tiny", "main", "q8_0")]
    [InlineData("https://huggingface.co/acme/tiny", "acme/tiny", "main", null)]
    [InlineData("acme/tiny@refs/pr/3", "acme/tiny", "refs/pr/3", null)]
    public void References_parse(string text, string repo, string revision, string? selector) =>
        Assert.Equal(new HubReference(repo, revision, selector), HubReference.TryParse(text));

    [Theory]
    [InlineData("tiny")]
    [InlineData("a/b/c")]
    [InlineData("acme/tiny:")]
    [InlineData("acme/tiny:../x")]
    [InlineData("acme/../x")]
    [InlineData("acme/tiny@")]
    [InlineData("acme/ti ny")]
    public void Bad_references_are_rejected(string text)
    {
        Assert.Null(HubReference.TryParse(text));
        Assert.Contains("is not a hub model", Assert.Throws<SharpSeekException>(() => HubReference.Parse(text)).Message);
    }
}
