using System.Diagnostics;
using System.Globalization;
using SharpSeek.Training.Model;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SharpSeek.Training.Recipe;

/// <summary>One logged SFT step.</summary>
public sealed record SftStep(int Step, double LearningRate, double Loss, double? MtpLoss, double MaxLoadRatio, double TokensPerSecond, double ElapsedSeconds, double? ValidationLoss);

/// <summary>
/// Supervised fine-tuning on packed chat rows with the loss on assistant tokens only (the next-token loss and the
/// MTP loss are both masked), AdamW, warmup + cosine, clipping, DeepSeek-V3's bias balancing, resumable checkpoints.
/// </summary>
public sealed class SftTrainer(DeepSeekModel model, StageOptions options, string directory, Func<int, (long[] Tokens, float[] Mask)> batch, int rows, int length)
{
    public List<SftStep> History { get; } = [];

    /// <summary>Batches for validation loss (fixed), or null.</summary>
    public IReadOnlyList<(long[] Tokens, float[] Mask)>? Validation { get; init; }

    public int EvalEvery { get; init; } = 100;

    public StageState Run(TextWriter log)
    {
        Directory.CreateDirectory(directory);
        var trainable = model.parameters().Where(p => p.requires_grad).ToList();
        var groups = new[]
        {
            new AdamW.ParamGroup(trainable.Where(p => p.dim() >= 2), new AdamW.Options { LearningRate = options.LearningRate, beta1 = 0.9, beta2 = 0.95, weight_decay = options.WeightDecay }),
            new AdamW.ParamGroup(trainable.Where(p => p.dim() < 2), new AdamW.Options { LearningRate = options.LearningRate, beta1 = 0.9, beta2 = 0.95, weight_decay = 0 }),
        };
        using var optimizer = optim.AdamW(groups, options.LearningRate, 0.9, 0.95, 1e-8, options.WeightDecay);
        string ckpt = Path.Combine(directory, "checkpoint");
        var state = StageCheckpoint.Load(ckpt, model, optimizer) ?? new StageState(0, 0, 0, 0);
        if (state.Step > 0) log.WriteLine($"  resuming at step {state.Step}");
        var clock = Stopwatch.StartNew();
        var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
        using var csv = new StreamWriter(Path.Combine(directory, "metrics.csv"), append: state.Step > 0) { AutoFlush = true };
        if (state.Step == 0) csv.WriteLine("step,lr,loss,mtp_loss,max_load_ratio,tokens_per_s,elapsed_s,val_loss");
        int step = state.Step;
        long tokens = state.Tokens;
        StageState Now() => new(step, state.WallSeconds + clock.Elapsed.TotalSeconds, state.CpuSeconds + (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalSeconds, tokens);
        for (; step < options.Steps; step++)
        {
            if (options.MaxMinutes > 0 && options.Spent(Now()) >= options.MaxMinutes * 60) break;
            var t0 = Stopwatch.StartNew();
            using var scope = NewDisposeScope();
            double lr = options.LearningRateAt(step, options.Spent(Now()));
            foreach (var g in optimizer.ParamGroups) g.LearningRate = lr;
            optimizer.zero_grad();
            var (ids, m) = batch(step);
            var x = tensor(ids, [rows, length]);
            var mask = tensor(m, [rows, length]);
            var ctx = new ForwardContext { BalanceAlpha = options.BalanceAlpha, RecordLoad = true };
            var (loss, mtp) = MaskedLoss(model, x, mask, options.MtpWeight, ctx);
            var total = mtp is null ? loss : loss + mtp * options.MtpWeight;
            if (ctx.BalanceLoss is not null) total = total + ctx.BalanceLoss;
            total.backward();
            foreach (var p in trainable) if (p.grad is null) p.grad = zeros_like(p).DetachFromDisposeScope();
            nn.utils.clip_grad_norm_(trainable, options.ClipNorm);
            optimizer.step();
            double ratio = model.MoeLayers().Select(l => l.Moe.UpdateBias(options.BiasUpdateSpeed)).DefaultIfEmpty(0).Max();
            tokens += ids.Length;
            double? val = null;
            if (Validation is not null && EvalEvery > 0 && ((step + 1) % EvalEvery == 0 || step + 1 == options.Steps)) val = ValidationLoss();
            var rec = new SftStep(step, lr, loss.item<float>(), mtp?.item<float>(), ratio, ids.Length / t0.Elapsed.TotalSeconds, Now().WallSeconds, val);
            History.Add(rec);
            if (options.LogEvery > 0 && (step % options.LogEvery == 0 || val is not null))
            {
                csv.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{rec.Step},{rec.LearningRate:G4},{rec.Loss:G5},{rec.MtpLoss:G5},{rec.MaxLoadRatio:G4},{rec.TokensPerSecond:F0},{rec.ElapsedSeconds:F1},{rec.ValidationLoss:G5}"));
                log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  step {step + 1}/{options.Steps} loss {rec.Loss:F4}{(rec.MtpLoss is { } ml ? $" mtp {ml:F4}" : "")}{(val is null ? "" : $" val {val:F4}")} {rec.TokensPerSecond:F0} tok/s"));
            }
            if (options.CheckpointEvery > 0 && (step + 1) % options.CheckpointEvery == 0) { step++; StageCheckpoint.Save(ckpt, model, optimizer, Now()); step--; }
        }
        var final = Now();
        StageCheckpoint.Save(ckpt, model, optimizer, final);
        return final;
    }

    public double ValidationLoss()
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        double sum = 0;
        foreach (var (ids, m) in Validation!)
            sum += MaskedLoss(model, tensor(ids, [rows, length]), tensor(m, [rows, length]), 0, null).Loss.item<float>();
        return sum / Validation!.Count;
    }

    /// <summary>Mean cross-entropy over target positions whose mask is 1 (target t+1 for position t; the MTP head's t+2).</summary>
    public static (Tensor Loss, Tensor? Mtp) MaskedLoss(DeepSeekModel model, Tensor x, Tensor mask, double mtpWeight, ForwardContext? ctx)
    {
        long t = x.shape[1];
        int v = model.Config.VocabSize;
        var (logits, hidden) = model.Forward(x, ctx);
        var ce = nn.functional.cross_entropy(logits.narrow(1, 0, t - 1).reshape(-1, v), x.narrow(1, 1, t - 1).reshape(-1), reduction: nn.Reduction.None);
        var w = mask.narrow(1, 1, t - 1).reshape(-1);
        var loss = (ce * w).sum() / w.sum().clamp_min(1);
        Tensor? mtp = null;
        if (mtpWeight > 0 && model.Mtp is not null && t >= 3)
        {
            var ml = model.MtpLogits(x, hidden, ctx);
            var mce = nn.functional.cross_entropy(ml.narrow(1, 0, t - 2).reshape(-1, v), x.narrow(1, 2, t - 2).reshape(-1), reduction: nn.Reduction.None);
            var mw = mask.narrow(1, 2, t - 2).reshape(-1);
            mtp = (mce * mw).sum() / mw.sum().clamp_min(1);
        }
        return (loss, mtp);
    }
}
