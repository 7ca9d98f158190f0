namespace SharpSeek.Training.Training;

/// <summary>Pretraining hyper-parameters. Defaults suit the tiny CPU configs this trainer is meant for.</summary>
public sealed record TrainingOptions
{
    public int Steps { get; init; } = 300;
    /// <summary>Sequences per micro-batch.</summary>
    public int BatchSize { get; init; } = 8;
    /// <summary>Tokens per sequence (T); T−1 next-token predictions each.</summary>
    public int SeqLen { get; init; } = 65;
    /// <summary>Micro-batches accumulated per optimizer step.</summary>
    public int GradAccum { get; init; } = 1;

    public double LearningRate { get; init; } = 3e-3;
    public double MinLearningRate { get; init; } = 3e-4;
    public int WarmupSteps { get; init; } = 20;
    /// <summary>"cosine" (warmup then cosine to the minimum) or "wsd" (warmup, stable, linear decay over the last <see cref="DecayFraction"/>).</summary>
    public string Schedule { get; init; } = "cosine";
    public double DecayFraction { get; init; } = 0.2;

    /// <summary>Decoupled AdamW weight decay, applied to matrices and embeddings, not to norms.</summary>
    public double WeightDecay { get; init; } = 0.1;
    public double Beta1 { get; init; } = 0.9;
    public double Beta2 { get; init; } = 0.95;
    public double Epsilon { get; init; } = 1e-8;
    /// <summary>Global gradient-norm clip (0 = off).</summary>
    public double ClipNorm { get; init; } = 1.0;
    public double InitStd { get; init; } = 0.02;

    /// <summary>λ, the MTP loss weight (DeepSeek-V3: 0.3 early, 0.1 late).</summary>
    public double MtpWeight { get; init; } = 0.3;
    /// <summary>α of the sequence-wise balance loss (DeepSeek-V3: 1e-4).</summary>
    public double BalanceAlpha { get; init; } = 1e-4;
    /// <summary>γ, the bias update speed of auxiliary-loss-free balancing (DeepSeek-V3: 1e-3).</summary>
    public double BiasUpdateSpeed { get; init; } = 1e-3;

    public long Seed { get; init; } = 1234;
    public int Threads { get; init; } = 1;
    /// <summary>Stop (and checkpoint) after this many minutes of wall time (CPU time with <see cref="CpuBudget"/>); 0 = no limit.</summary>
    public double MaxMinutes { get; init; }
    /// <summary>Count <see cref="MaxMinutes"/> in CPU minutes of this process, so a busy machine trains the same steps.</summary>
    public bool CpuBudget { get; init; }

    /// <summary>End this invocation after this many total steps (checkpointed, resumable) without changing the schedule; 0 = run to <see cref="Steps"/>.</summary>
    public int StopAfterSteps { get; init; }

    public int LogEvery { get; init; } = 10;
    public int EvalEvery { get; init; } = 50;
    public int EvalBatches { get; init; } = 4;
    /// <summary>Checkpoint every this many steps (0 = only at the end).</summary>
    public int CheckpointEvery { get; init; } = 100;
    /// <summary>Continue from <c>checkpoint/</c> in the output folder when it exists.</summary>
    public bool Resume { get; init; } = true;
    /// <summary>Draw the Spectre.Console progress display (off for tests and redirected output).</summary>
    public bool ShowProgress { get; init; } = true;

    /// <summary>Price used for the run's cost estimate, in dollars per CPU core-hour.</summary>
    public double PricePerCoreHour { get; init; } = 0.04;
}

/// <summary>Learning rate per optimizer step.</summary>
public static class LearningRateSchedule
{
    public static double At(TrainingOptions o, int step)
    {
        if (o.WarmupSteps > 0 && step < o.WarmupSteps) return o.LearningRate * (step + 1) / o.WarmupSteps;
        int total = Math.Max(1, o.Steps);
        if (o.Schedule == "wsd")
        {
            int decaySteps = Math.Max(1, (int)Math.Round(total * o.DecayFraction));
            int decayStart = total - decaySteps;
            if (step < decayStart) return o.LearningRate;
            double f = Math.Clamp((double)(step - decayStart) / decaySteps, 0, 1);
            return o.LearningRate + (o.MinLearningRate - o.LearningRate) * f;
        }
        if (o.Schedule != "cosine") throw new ArgumentException($"unknown schedule '{o.Schedule}' (cosine, wsd)");
        double progress = Math.Clamp((double)(step - o.WarmupSteps) / Math.Max(1, total - o.WarmupSteps), 0, 1);
        return o.MinLearningRate + 0.5 * (o.LearningRate - o.MinLearningRate) * (1 + Math.Cos(Math.PI * progress));
    }
}
