using System.Text.Json;
using System.Text.Json.Nodes;

namespace SharpSeek.Tests.Chat;

/// <summary>A copy of the bundled model whose tokenizer_config.json carries another chat template (deleted on dispose).</summary>
public sealed class TemplatedModel : IDisposable
{
    public string Path { get; }

    public TemplatedModel(string chatTemplate)
    {
        string source = System.IO.Path.Combine(Fixtures.RepoRoot, "models", "sharpseek-tiny");
        Path = Directory.CreateTempSubdirectory("templated-model-").FullName;
        foreach (string f in (string[])["config.json", "generation_config.json", "model.safetensors", "tokenizer.json"])
            File.Copy(System.IO.Path.Combine(source, f), System.IO.Path.Combine(Path, f));
        var config = JsonNode.Parse(File.ReadAllText(System.IO.Path.Combine(source, "tokenizer_config.json")))!.AsObject();
        config["chat_template"] = chatTemplate;
        File.WriteAllText(System.IO.Path.Combine(Path, "tokenizer_config.json"), config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    public static TemplatedModel FromFixture(string name) => new(File.ReadAllText(JinjaGoldenTests.TemplatePath(name)));

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
