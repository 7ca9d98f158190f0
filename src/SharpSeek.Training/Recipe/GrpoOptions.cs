namespace SharpSeek.Training.Recipe;

/// <summary>GRPO settings (DeepSeekMath / R1): G samples per prompt, clipped ratio, k3 KL to the reference with weight β.</summary>
public sealed record GrpoOptions
{
    public StageOptions Stage { get; init; } = new() { Steps = 20, LearningRate = 2e-5, MinLearningRate = 2e-5, WarmupSteps = 0, WeightDecay = 0, MtpWeight = 0, CheckpointEvery = 10, LogEvery = 1 };
    public int PromptsPerStep { get; init; } = 4;
    /// <summary>G: samples per prompt; advantages are normalised within each group.</summary>
    public int GroupSize { get; init; } = 8;
    /// <summary>β of the k3 KL penalty to the SFT reference.</summary>
    public double Beta { get; init; } = 0.04;
    /// <summary>ε of the clipped ratio objective.</summary>
    public double ClipEpsilon { get; init; } = 0.2;
    /// <summary>Dr. GRPO: advantages not divided by the group's std, token losses summed and divided by a constant (not per-sequence length).</summary>
    public bool DrGrpo { get; init; }
    /// <summary>
    /// Leave groups whose samples all got the same reward out of the update (DAPO's dynamic sampling, without the
    /// resampling): their advantages are zero, so they only add KL terms and compute. The per-sequence mean then runs
    /// over the groups that carry a signal.
    /// </summary>
    public bool DropUniformGroups { get; init; } = true;
    /// <summary>Policy updates per batch of rollouts (μ); the ratio differs from 1 from the second on.</summary>
    public int InnerSteps { get; init; } = 1;
    public int MaxNewTokens { get; init; } = 512;
    public float Temperature { get; init; } = 1.0f;
    /// <summary>Reward for a correct final answer.</summary>
    public double AnswerReward { get; init; } = 1.0;
    /// <summary>Reward for the format: a closed <c>&lt;think&gt;</c> block followed by a <c>\boxed{}</c> answer.</summary>
    public double FormatReward { get; init; } = 0.1;
    /// <summary>Task difficulties to draw prompts from.</summary>
    public IReadOnlyList<string> Difficulties { get; init; } = TaskGenerator.Difficulties;
}
