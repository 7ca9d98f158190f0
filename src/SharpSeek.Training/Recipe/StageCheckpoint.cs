using System.Text.Json;
using SharpSeek.Training.Checkpoints;
using SharpSeek.Training.Model;
using TorchSharp.Modules;

namespace SharpSeek.Training.Recipe;

/// <summary>Progress of a resumable recipe stage: step reached, wall and CPU seconds so far, tokens seen.</summary>
public sealed record StageState(int Step, double WallSeconds, double CpuSeconds, long Tokens);

/// <summary>Saves and restores a stage's weights, optimizer state and progress atomically (write to .tmp, then rename).</summary>
public static class StageCheckpoint
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static void Save(string dir, DeepSeekModel model, AdamW optimizer, StageState state)
    {
        string temp = dir + ".tmp";
        if (Directory.Exists(temp)) Directory.Delete(temp, true);
        Directory.CreateDirectory(temp);
        File.WriteAllBytes(Path.Combine(temp, "config.json"), ConfigJson.Write(model.Config));
        HfExport.Weights(model).Save(Path.Combine(temp, "model.safetensors"));
        optimizer.save_state_dict(Path.Combine(temp, "optimizer.bin"));
        File.WriteAllText(Path.Combine(temp, "state.json"), JsonSerializer.Serialize(state, Json));
        if (Directory.Exists(dir)) Directory.Delete(dir, true);
        Directory.Move(temp, dir);
    }

    /// <summary>Restores into <paramref name="model"/> and <paramref name="optimizer"/>; null when there is no checkpoint.</summary>
    public static StageState? Load(string dir, DeepSeekModel model, AdamW optimizer)
    {
        string path = Path.Combine(dir, "state.json");
        if (!File.Exists(path)) return null;
        var state = JsonSerializer.Deserialize<StageState>(File.ReadAllText(path), Json) ?? throw new InvalidDataException($"{path}: empty");
        HfImport.LoadWeights(model, dir);
        optimizer.load_state_dict(Path.Combine(dir, "optimizer.bin"));
        return state;
    }
}
