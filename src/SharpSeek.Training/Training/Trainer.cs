using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using SharpSeek.Training.Checkpoints;
using SharpSeek.Training.Data;
using SharpSeek.Training.Model;
using Spectre.Console;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SharpSeek.Training.Training;

/// <summary>One optimizer step's numbers, as written to metrics.csv / metrics.jsonl.</summary>
public sealed record StepMetrics(
    int Step, long Tokens, double LearningRate, double Loss, double MainLoss, double? MtpLoss, double? BalanceLoss,
    double GradNorm, double TokensPerSecond, double ElapsedSeconds, IReadOnlyList<double> LoadRatios, double? ValidationLoss)
{
    /// <summary>The worst MoE layer's max/mean expert load this step (1 = perfectly balanced; 0 without MoE).</summary>
    public double MaxLoadRatio => LoadRatios.Count == 0 ? 0 : LoadRatios.Max();
}

/// <summary>The run summary written to report.json and report.md.</summary>
public sealed record TrainingReport(
    int StepsDone, long Tokens, double WallSeconds, double CpuSeconds, double TokensPerSecond,
    long TotalParameters, long ActiveParameters, double TrainingFlops, double PricePerCoreHour, double CostDollars,
    double? FinalLoss, double? FinalValidationLoss, bool StoppedByTimeLimit, bool Resumed);

/// <summary>
/// Pretraining loop: AdamW (decoupled decay on matrices), warmup + cosine or WSD, clipping, gradient accumulation,
/// MTP and balance losses, auxiliary-loss-free bias updates after every step, periodic validation, resumable
/// checkpoints (weights, optimizer, step = data position, torch RNG), metrics as CSV and JSONL, and a cost report.
/// </summary>
public sealed class Trainer
{
    private readonly DeepSeekModel _model;
    private readonly TokenData _data;
    private readonly TrainingOptions _o;
    private readonly string _out;
    private readonly List<StepMetrics> _history = [];

    public Trainer(DeepSeekModel model, TokenData data, TrainingOptions options, string outputDirectory)
    {
        _model = model;
        _data = data;
        _o = options;
        _out = outputDirectory;
    }

    public IReadOnlyList<StepMetrics> History => _history;

    public string CheckpointDirectory => Path.Combine(_out, "checkpoint");

    /// <summary>A freshly initialised model, seeded so the same seed gives the same weights.</summary>
    public static DeepSeekModel CreateModel(SharpSeek.Models.ModelConfig cfg, TrainingOptions options)
    {
        TorchRuntime.Initialise(options.Threads);
        var model = new DeepSeekModel(cfg);
        model.InitialiseWeights(options.InitStd, options.Seed);
        return model;
    }

    public TrainingReport Run()
    {
        TorchRuntime.Initialise(_o.Threads);
        Directory.CreateDirectory(_out);
        var trainable = _model.parameters().Where(p => p.requires_grad).ToList();
        var groups = new[]
        {
            new AdamW.ParamGroup(trainable.Where(p => p.dim() >= 2), new AdamW.Options { LearningRate = _o.LearningRate, beta1 = _o.Beta1, beta2 = _o.Beta2, eps = _o.Epsilon, weight_decay = _o.WeightDecay }),
            new AdamW.ParamGroup(trainable.Where(p => p.dim() < 2), new AdamW.Options { LearningRate = _o.LearningRate, beta1 = _o.Beta1, beta2 = _o.Beta2, eps = _o.Epsilon, weight_decay = 0 }),
        };
        using var optimizer = optim.AdamW(groups, _o.LearningRate, _o.Beta1, _o.Beta2, _o.Epsilon, _o.WeightDecay);

        var state = _o.Resume ? LoadCheckpoint(optimizer) : null;
        int startStep = state?.Step ?? 0;
        long tokens = state?.Tokens ?? 0;
        double elapsedBefore = state?.ElapsedSeconds ?? 0, cpuBefore = state?.CpuSeconds ?? 0;
        if (state is null) manual_seed(_o.Seed);
        foreach (var (_, moe) in _model.MoeLayers()) moe.ResetLoad();

        var cost = CostModel.For(_model, _o.SeqLen);
        var clock = Stopwatch.StartNew();
        var cpuStart = Process.GetCurrentProcess().TotalProcessorTime;
        bool timeUp = false;
        int step = startStep;
        using var csv = OpenMetrics("metrics.csv", startStep == 0, "step,tokens,lr,loss,main_loss,mtp_loss,balance_loss,grad_norm,tokens_per_s,elapsed_s,max_load_ratio,val_loss");
        using var jsonl = OpenMetrics("metrics.jsonl", startStep == 0, null);

        void Loop(Action<StepMetrics>? progress)
        {
            for (; step < _o.Steps; step++)
            {
                double spent = _o.CpuBudget ? (Process.GetCurrentProcess().TotalProcessorTime - cpuStart).TotalMinutes : clock.Elapsed.TotalMinutes;
                if (_o.MaxMinutes > 0 && spent >= _o.MaxMinutes) { timeUp = true; break; }
                if (_o.StopAfterSteps > 0 && step >= _o.StopAfterSteps) break;
                var stepClock = Stopwatch.StartNew();
                var m = TrainStep(optimizer, trainable, step, ref tokens, clock.Elapsed.TotalSeconds + elapsedBefore);
                double? val = null;
                bool last = step == _o.Steps - 1;
                if (_o.EvalEvery > 0 && ((step + 1) % _o.EvalEvery == 0 || last)) val = Evaluate();
                m = m with { ValidationLoss = val, TokensPerSecond = (double)_o.BatchSize * _o.SeqLen * _o.GradAccum / Math.Max(1e-9, stepClock.Elapsed.TotalSeconds), ElapsedSeconds = clock.Elapsed.TotalSeconds + elapsedBefore };
                _history.Add(m);
                if (_o.LogEvery > 0 && (step % _o.LogEvery == 0 || last || val is not null)) WriteMetrics(csv, jsonl, m);
                if (_o.CheckpointEvery > 0 && (step + 1) % _o.CheckpointEvery == 0 && !last)
                    SaveCheckpoint(optimizer, step + 1, tokens, clock.Elapsed.TotalSeconds + elapsedBefore, (Process.GetCurrentProcess().TotalProcessorTime - cpuStart).TotalSeconds + cpuBefore);
                progress?.Invoke(m);
            }
        }

        if (_o.ShowProgress && !Console.IsOutputRedirected)
        {
            AnsiConsole.Progress()
                .AutoClear(false)
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                .Start(ctx =>
                {
                    var task = ctx.AddTask("pretrain", maxValue: _o.Steps);
                    task.Value = startStep;
                    Loop(m =>
                    {
                        task.Value = m.Step + 1;
                        task.Description = string.Create(CultureInfo.InvariantCulture, $"step {m.Step + 1}/{_o.Steps}  loss {m.Loss:F3}  {m.TokensPerSecond:F0} tok/s");
                    });
                });
        }
        else Loop(null);

        double wall = clock.Elapsed.TotalSeconds + elapsedBefore;
        double cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpuStart).TotalSeconds + cpuBefore;
        SaveCheckpoint(optimizer, step, tokens, wall, cpu);
        var lastMetrics = _history.LastOrDefault();
        var report = new TrainingReport(
            step, tokens, wall, cpu, tokens / Math.Max(1e-9, wall), cost.TotalParameters, cost.ActiveParameters, cost.TrainingFlops(tokens),
            _o.PricePerCoreHour, cpu / 3600 * _o.PricePerCoreHour, lastMetrics?.Loss, _history.LastOrDefault(h => h.ValidationLoss is not null)?.ValidationLoss,
            timeUp, state is not null);
        WriteReport(report);
        return report;
    }

    private StepMetrics TrainStep(AdamW optimizer, List<Parameter> trainable, int step, ref long tokens, double elapsed)
    {
        using var scope = NewDisposeScope();
        double lr = LearningRateSchedule.At(_o, step);
        foreach (var g in optimizer.ParamGroups) g.LearningRate = lr;
        optimizer.zero_grad();
        double loss = 0, main = 0, mtp = 0, balance = 0;
        bool hasMtp = false, hasBalance = false;
        for (int micro = 0; micro < _o.GradAccum; micro++)
        {
            var batch = tensor(_data.TrainBatch(_o.Seed, step, micro, _o.BatchSize, _o.SeqLen), [_o.BatchSize, _o.SeqLen]);
            var ctx = new ForwardContext { BalanceAlpha = _o.BalanceAlpha, RecordLoad = true };
            var parts = _model.Loss(batch, _o.MtpWeight, ctx);
            (parts.Total / _o.GradAccum).backward();
            loss += parts.Total.item<float>() / _o.GradAccum;
            main += parts.Main.item<float>() / _o.GradAccum;
            if (parts.Mtp is not null) { hasMtp = true; mtp += parts.Mtp.item<float>() / _o.GradAccum; }
            if (parts.Balance is not null) { hasBalance = true; balance += parts.Balance.item<float>() / _o.GradAccum; }
            tokens += (long)_o.BatchSize * _o.SeqLen;
        }
        // An expert that got no tokens this step has no gradient; give it zeros so AdamW still decays it and moves its
        // momentum, exactly as for a parameter whose gradient was zeroed. Without this a resumed run (fresh, empty
        // gradients) would update different parameters than the uninterrupted one.
        foreach (var p in trainable)
            if (p.grad is null) p.grad = zeros_like(p).DetachFromDisposeScope();
        double norm = nn.utils.clip_grad_norm_(trainable, _o.ClipNorm > 0 ? _o.ClipNorm : double.MaxValue);
        optimizer.step();
        var ratios = _model.MoeLayers().Select(l => l.Moe.UpdateBias(_o.BiasUpdateSpeed)).ToArray();
        return new StepMetrics(step, tokens, lr, loss, main, hasMtp ? mtp : null, hasBalance ? balance : null, norm, 0, elapsed, ratios, null);
    }

    /// <summary>Mean next-token loss over the fixed validation windows.</summary>
    public double Evaluate()
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        double sum = 0;
        int n = Math.Max(1, _o.EvalBatches);
        for (int i = 0; i < n; i++)
        {
            var batch = tensor(_data.ValidationBatch(i, n, _o.BatchSize, _o.SeqLen), [_o.BatchSize, _o.SeqLen]);
            sum += _model.Loss(batch).Main.item<float>();
        }
        return sum / n;
    }

    private sealed record CheckpointState(int Step, long Tokens, double ElapsedSeconds, double CpuSeconds, long Seed, string TorchRng);

    private void SaveCheckpoint(AdamW optimizer, int step, long tokens, double elapsed, double cpu)
    {
        string dir = CheckpointDirectory, temp = dir + ".tmp";
        if (Directory.Exists(temp)) Directory.Delete(temp, true);
        Directory.CreateDirectory(temp);
        File.WriteAllBytes(Path.Combine(temp, "config.json"), ConfigJson.Write(_model.Config));
        HfExport.Weights(_model).Save(Path.Combine(temp, "model.safetensors"));
        optimizer.save_state_dict(Path.Combine(temp, "optimizer.bin"));
        using var rng = get_rng_state();
        var state = new CheckpointState(step, tokens, elapsed, cpu, _o.Seed, Convert.ToBase64String(rng.bytes));
        File.WriteAllText(Path.Combine(temp, "state.json"), JsonSerializer.Serialize(state, JsonOptions));
        if (Directory.Exists(dir)) Directory.Delete(dir, true);
        Directory.Move(temp, dir);
    }

    private CheckpointState? LoadCheckpoint(AdamW optimizer)
    {
        string dir = CheckpointDirectory, statePath = Path.Combine(dir, "state.json");
        if (!File.Exists(statePath)) return null;
        var state = JsonSerializer.Deserialize<CheckpointState>(File.ReadAllText(statePath), JsonOptions)
            ?? throw new InvalidDataException($"{statePath}: empty checkpoint state");
        if (state.Seed != _o.Seed) throw new InvalidOperationException($"checkpoint in {dir} was trained with seed {state.Seed}, not {_o.Seed}");
        HfImport.LoadWeights(_model, dir);
        optimizer.load_state_dict(Path.Combine(dir, "optimizer.bin"));
        using var rng = tensor(Convert.FromBase64String(state.TorchRng));
        set_rng_state(rng);
        return state;
    }

    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    private StreamWriter OpenMetrics(string name, bool fresh, string? header)
    {
        string path = Path.Combine(_out, name);
        bool write = fresh || !File.Exists(path);
        var w = new StreamWriter(path, append: !write, new UTF8Encoding(false)) { AutoFlush = true };
        if (write && header is not null) w.WriteLine(header);
        return w;
    }

    private static void WriteMetrics(StreamWriter csv, StreamWriter jsonl, StepMetrics m)
    {
        static string F(double? v) => v is double d ? d.ToString("G6", CultureInfo.InvariantCulture) : "";
        csv.WriteLine(string.Join(",", m.Step, m.Tokens, F(m.LearningRate), F(m.Loss), F(m.MainLoss), F(m.MtpLoss), F(m.BalanceLoss),
            F(m.GradNorm), F(m.TokensPerSecond), F(m.ElapsedSeconds), F(m.MaxLoadRatio), F(m.ValidationLoss)));
        jsonl.WriteLine(JsonSerializer.Serialize(m, new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower }));
    }

    private void WriteReport(TrainingReport r)
    {
        File.WriteAllText(Path.Combine(_out, "report.json"), JsonSerializer.Serialize(r, JsonOptions));
        var md = new StringBuilder();
        md.AppendLine("# Pretraining run report").AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"| | |\n|---|---|");
        md.AppendLine(CultureInfo.InvariantCulture, $"| steps | {r.StepsDone}{(r.StoppedByTimeLimit ? " (stopped by --max-minutes)" : "")}{(r.Resumed ? " (resumed)" : "")} |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| tokens | {r.Tokens:N0} |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| wall time | {r.WallSeconds:F1} s |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| CPU time | {r.CpuSeconds:F1} core-s ({_o.Threads} torch thread(s)) |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| throughput | {r.TokensPerSecond:F0} tokens/s |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| parameters | {r.TotalParameters:N0} total, {r.ActiveParameters:N0} active per token |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| training FLOPs (6·N_active·tokens + attention) | {r.TrainingFlops:E3} |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| cost at ${r.PricePerCoreHour}/core-hour | ${r.CostDollars:F6} |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| final training loss | {r.FinalLoss?.ToString("F4", CultureInfo.InvariantCulture) ?? "-"} |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| final validation loss | {r.FinalValidationLoss?.ToString("F4", CultureInfo.InvariantCulture) ?? "-"} |");
        File.WriteAllText(Path.Combine(_out, "report.md"), md.ToString());
    }
}
