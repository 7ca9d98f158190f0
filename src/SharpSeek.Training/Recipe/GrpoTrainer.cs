using System.Diagnostics;
using System.Globalization;
using SharpSeek.Generation;
using SharpSeek.Models;
using SharpSeek.Tokenization;
using SharpSeek.Training.Checkpoints;
using SharpSeek.Training.Model;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SharpSeek.Training.Recipe;

/// <summary>One GRPO step's numbers; the rollouts' generated tokens and the seconds their generation took (0 in older runs).</summary>
public sealed record GrpoStep(int Step, double Reward, double Accuracy, double ThinkShare, double MeanLength, double Kl, double Loss, double ElapsedSeconds,
    long RolloutTokens = 0, double RolloutSeconds = 0);

/// <summary>
/// Group Relative Policy Optimisation with rule-based rewards. Rollouts run in the C# engine on weights exported
/// from the trainer every step (the "sync"); log-probabilities for the objective come from TorchSharp, so the
/// engine's sampling and the gradient use the same tokens but only TorchSharp's numbers enter the loss.
/// </summary>
public sealed class GrpoTrainer(DeepSeekModel policy, DeepSeekModel reference, Tokenizer tokenizer, string tokenizerDirectory, GrpoOptions options, string directory)
{
    public List<GrpoStep> History { get; } = [];

    public StageState Run(TextWriter log)
    {
        var o = options.Stage;
        Directory.CreateDirectory(directory);
        var trainable = policy.parameters().Where(p => p.requires_grad).ToList();
        using var optimizer = optim.AdamW(trainable, o.LearningRate, 0.9, 0.95, 1e-8, o.WeightDecay);
        string ckpt = Path.Combine(directory, "checkpoint"), sync = Path.Combine(directory, "policy");
        var state = StageCheckpoint.Load(ckpt, policy, optimizer) ?? new StageState(0, 0, 0, 0);
        if (state.Step > 0) log.WriteLine($"  resuming at step {state.Step}");
        using var csv = new StreamWriter(Path.Combine(directory, "metrics.csv"), append: state.Step > 0) { AutoFlush = true };
        if (state.Step == 0) csv.WriteLine("step,reward,accuracy,think_share,mean_length,kl,loss,elapsed_s,rollout_tokens,rollout_s");
        var clock = Stopwatch.StartNew();
        var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
        int step = state.Step;
        long tokens = state.Tokens;
        StageState Now() => new(step, state.WallSeconds + clock.Elapsed.TotalSeconds, state.CpuSeconds + (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalSeconds, tokens);
        int eos = tokenizer.EosId ?? throw new InvalidOperationException("no EOS token");
        for (; step < o.Steps; step++)
        {
            if (o.MaxMinutes > 0 && o.Spent(Now()) >= o.MaxMinutes * 60) break;
            // Sync: the engine runs exactly the trainer's current weights.
            SyncWeights(sync);
            var rollouts = new List<(int[] Prompt, int[] Completion, double Reward, bool Correct, bool Think, int Group)>();
            var rolloutClock = Stopwatch.StartNew();
            long rolloutTokens;
            using (var engine = ModelLoader.Load(sync))
            using (var evaluator = new Evaluator(engine, tokenizer) { MaxTokens = options.MaxNewTokens })
            {
                var items = TaskGenerator.Sample(TaskSplit.Train, options.PromptsPerStep, o.Seed * 7919 + step, null, options.Difficulties);
                rolloutClock.Restart();
                (var made, rolloutTokens) = Rollouts(evaluator, options, items, o.Seed, step, eos);
                rolloutClock.Stop();
                rollouts.AddRange(made);
            }
            var (adv, signal) = Advantages(rollouts.Select(r => r.Reward).ToArray(), rollouts.Select(r => r.Group).ToArray(), options.DrGrpo);
            var train = Enumerable.Range(0, rollouts.Count).Where(i => !options.DropUniformGroups || signal.Contains(rollouts[i].Group)).ToList();
            double lossValue = 0, klValue = 0;
            if (signal.Count > 0)
            {
                int len = train.Max(i => rollouts[i].Prompt.Length + rollouts[i].Completion.Length);
                int n = train.Count;
                var ids = new long[n * len];
                var mask = new float[n * len];
                Array.Fill(ids, eos);
                for (int k = 0; k < n; k++)
                {
                    var (pr, co, _, _, _, _) = rollouts[train[k]];
                    for (int j = 0; j < pr.Length; j++) ids[k * len + j] = pr[j];
                    for (int j = 0; j < co.Length; j++) { ids[k * len + pr.Length + j] = co[j]; mask[k * len + pr.Length + j] = 1; }
                }
                tokens += ids.Length;
                using var scope = NewDisposeScope();
                var x = tensor(ids, [n, len]);
                var m = tensor(mask, [n, len]).narrow(1, 1, len - 1);
                var a = tensor(train.Select(i => (float)adv[i]).ToArray(), [n, 1]);
                Tensor? oldLp = null, refLp;
                using (no_grad())
                {
                    // With one update per batch the sampling policy is the current one: its log-probabilities are the
                    // first update's own, detached, and need no forward of their own.
                    if (options.InnerSteps > 1) oldLp = TokenLogProbs(policy, x);
                    refLp = TokenLogProbs(reference, x);
                }
                for (int inner = 0; inner < options.InnerSteps; inner++)
                {
                    foreach (var g in optimizer.ParamGroups) g.LearningRate = o.LearningRateAt(step, o.Spent(Now()));
                    optimizer.zero_grad();
                    var lp = TokenLogProbs(policy, x);
                    var ratio = (lp - (oldLp ?? lp.detach())).exp();
                    var surrogate = minimum(ratio * a, ratio.clamp(1 - options.ClipEpsilon, 1 + options.ClipEpsilon) * a);
                    var logRatio = refLp - lp;
                    var kl = logRatio.exp() - logRatio - 1; // k3: unbiased, non-negative estimate of KL(π‖π_ref)
                    var perToken = -(surrogate - kl * options.Beta) * m;
                    var loss = options.DrGrpo
                        ? perToken.sum() / (n * (double)options.MaxNewTokens)
                        : (perToken.sum(1) / m.sum(1).clamp_min(1)).mean();
                    loss.backward();
                    foreach (var p in trainable) if (p.grad is null) p.grad = zeros_like(p).DetachFromDisposeScope();
                    nn.utils.clip_grad_norm_(trainable, o.ClipNorm);
                    optimizer.step();
                    lossValue = loss.item<float>();
                    klValue = ((kl * m).sum() / m.sum().clamp_min(1)).item<float>();
                }
            }
            foreach (var (_, moe) in policy.MoeLayers()) moe.ResetLoad();
            var rec = new GrpoStep(step, rollouts.Average(r => r.Reward), rollouts.Average(r => r.Correct ? 1.0 : 0), rollouts.Average(r => r.Think ? 1.0 : 0),
                rollouts.Average(r => (double)r.Completion.Length), klValue, lossValue, Now().WallSeconds, rolloutTokens, rolloutClock.Elapsed.TotalSeconds);
            History.Add(rec);
            csv.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{rec.Step},{rec.Reward:G4},{rec.Accuracy:G4},{rec.ThinkShare:G4},{rec.MeanLength:F1},{rec.Kl:G4},{rec.Loss:G4},{rec.ElapsedSeconds:F1},{rec.RolloutTokens},{rec.RolloutSeconds:F3}"));
            if (o.LogEvery > 0 && step % o.LogEvery == 0)
                log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  grpo step {step + 1}/{o.Steps} reward {rec.Reward:F3} acc {rec.Accuracy:F3} think {rec.ThinkShare:F2} len {rec.MeanLength:F0} kl {rec.Kl:F4}"));
            if (o.CheckpointEvery > 0 && (step + 1) % o.CheckpointEvery == 0) { step++; StageCheckpoint.Save(ckpt, policy, optimizer, Now()); step--; }
        }
        var final = Now();
        StageCheckpoint.Save(ckpt, policy, optimizer, final);
        return final;
    }

    /// <summary>
    /// One step's rollouts: the G samples of every prompt, all decoded together in the engine's shared decode step (each weight
    /// read once per step for all of them; prompts prefilled in the same forwards). Seeds are per (step, prompt, sample), so a
    /// resumed run replays the same rollouts. Completions that ended on EOS get it appended.
    /// </summary>
    public static (List<(int[] Prompt, int[] Completion, double Reward, bool Correct, bool Think, int Group)> Rollouts, long Tokens) Rollouts(
        Evaluator evaluator, GrpoOptions options, IReadOnlyList<TaskItem> items, long seed, int step, int eos)
    {
        var made = new List<(int[] Prompt, int[] Completion, double Reward, bool Correct, bool Think, int Group)>();
        long generated = 0;
        var requests = new List<(int[] Prompt, SamplingOptions Sampling)>();
        for (int p = 0; p < items.Count; p++)
        {
            var prompt = evaluator.PromptTokens(items[p].Prompt);
            for (int g = 0; g < options.GroupSize; g++)
                requests.Add((prompt, new SamplingOptions { Temperature = options.Temperature, Seed = (ulong)(seed * 1_000_003 + step * 10007 + p * 101 + g) }));
        }
        var outputs = evaluator.CompleteMany(requests);
        for (int i = 0; i < outputs.Count; i++)
        {
            var (text, completion) = outputs[i];
            var prompt = requests[i].Prompt;
            generated += completion.Length;
            int p = i / options.GroupSize;
            bool finished = completion.Length < Math.Min(options.MaxNewTokens, evaluator.Model.Config.MaxPositionEmbeddings - prompt.Length);
            if (finished) completion = [.. completion, eos];
            string? answer = AnswerExtractor.Extract(text);
            bool correct = AnswerExtractor.Matches(answer, items[p].Answer);
            bool think = AnswerExtractor.HasThink(text);
            double reward = (correct ? options.AnswerReward : 0) + (think && answer is not null ? options.FormatReward : 0);
            made.Add((prompt, completion, reward, correct, think, p));
        }
        return (made, generated);
    }

    /// <summary>
    /// Group-normalised advantages: (r − mean) / std within each group, or r − mean for Dr. GRPO; exactly zero in a group
    /// whose samples all got the same reward (the mean of equal doubles can differ from them in the last bit). Also
    /// returns the groups that carry a signal.
    /// </summary>
    public static (double[] Advantages, HashSet<int> SignalGroups) Advantages(double[] rewards, int[] groups, bool drGrpo)
    {
        var adv = new double[rewards.Length];
        var signal = new HashSet<int>();
        foreach (var grp in Enumerable.Range(0, rewards.Length).GroupBy(i => groups[i]))
        {
            if (grp.All(i => rewards[i] == rewards[grp.First()])) continue;
            signal.Add(grp.Key);
            double mean = grp.Average(i => rewards[i]);
            double std = Math.Sqrt(grp.Average(i => (rewards[i] - mean) * (rewards[i] - mean)));
            foreach (int i in grp) adv[i] = drGrpo ? rewards[i] - mean : (rewards[i] - mean) / (std + 1e-4);
        }
        return (adv, signal);
    }

    private void SyncWeights(string dir)
    {
        HfExport.Save(policy, dir, byteTokenizer: false);
        foreach (var f in new[] { "tokenizer.json", "tokenizer_config.json" }) File.Copy(Path.Combine(tokenizerDirectory, f), Path.Combine(dir, f), true);
    }

    /// <summary>log π(x_{t+1} | x_≤t) for t = 0..T−2: <c>[B, T−1]</c>.</summary>
    public static Tensor TokenLogProbs(DeepSeekModel model, Tensor x)
    {
        long t = x.shape[1];
        var (logits, _) = model.Forward(x);
        var lp = nn.functional.log_softmax(logits.narrow(1, 0, t - 1), -1);
        return lp.gather(2, x.narrow(1, 1, t - 1).unsqueeze(2)).squeeze(2);
    }
}
