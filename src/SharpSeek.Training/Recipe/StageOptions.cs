namespace SharpSeek.Training.Recipe;

/// <summary>Optimizer and loop settings shared by the SFT and GRPO stages.</summary>
public sealed record StageOptions
{
    public int Steps { get; init; } = 100;
    public double LearningRate { get; init; } = 1e-3;
    public double MinLearningRate { get; init; } = 1e-4;
    public int WarmupSteps { get; init; } = 10;
    public double WeightDecay { get; init; } = 0.1;
    public double ClipNorm { get; init; } = 1.0;
    public double MtpWeight { get; init; } = 0.1;
    public double BalanceAlpha { get; init; } = 1e-4;
    public double BiasUpdateSpeed { get; init; } = 1e-3;
    public long Seed { get; init; } = 1234;
    /// <summary>Stop (checkpointed) after this many minutes of the stage's wall time (or CPU time, see <see cref="CpuBudget"/>), resumed runs included; 0 = no limit.</summary>
    public double MaxMinutes { get; init; }
    /// <summary>Count <see cref="MaxMinutes"/> in CPU minutes of this process (core-minutes): a busy machine then trains the same steps, only slower.</summary>
    public bool CpuBudget { get; init; }

    /// <summary>The seconds the budget has used: the stage's CPU or wall seconds.</summary>
    public double Spent(StageState now) => CpuBudget ? now.CpuSeconds : now.WallSeconds;
    public int CheckpointEvery { get; init; } = 50;
    public int LogEvery { get; init; } = 10;

    /// <summary>
    /// Warmup then cosine from <see cref="LearningRate"/> to <see cref="MinLearningRate"/>. With a time budget the
    /// cosine follows whichever is further along, steps or wall time, so a run stopped by the clock still ends
    /// with a decayed learning rate however fast the machine is.
    /// </summary>
    public double LearningRateAt(int step, double elapsedSeconds = 0)
    {
        if (WarmupSteps > 0 && step < WarmupSteps) return LearningRate * (step + 1) / WarmupSteps;
        double p = Math.Clamp((double)(step - WarmupSteps) / Math.Max(1, Steps - WarmupSteps), 0, 1);
        if (MaxMinutes > 0) p = Math.Max(p, Math.Clamp(elapsedSeconds / (MaxMinutes * 60), 0, 1));
        return MinLearningRate + 0.5 * (LearningRate - MinLearningRate) * (1 + Math.Cos(Math.PI * p));
    }
}
