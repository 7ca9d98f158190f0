using SharpSeek.Models;
using SharpSeek.Training.Checkpoints;
using SharpSeek.Training.Training;
using static TorchSharp.torch;

namespace SharpSeek.Training.Tests;

/// <summary>
/// The engine's MTP layer (what <c>--speculate mtp</c> drafts with) computes what the trainer's MTP module computes on the same
/// weights: row i combines the main model's final hidden state at i with the embedding of token i + 1 and predicts token i + 2.
/// The engine takes the hidden states from its own forward, and runs the MTP layer over its own cache in one call and in
/// pieces (drafting extends that cache a few positions at a time); both within 1e-4 of TorchSharp's logits.
/// </summary>
public sealed class MtpCrossCheckTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "sharpseek-mtp-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public void EngineMtpLogitsEqualTheTrainersMtpModule()
    {
        TorchRuntime.Initialise(threads: 1);
        using var model = Trainer.CreateModel(TinyConfigs.V3, new TrainingOptions { Seed = 23, InitStd = 0.1 });
        Assert.NotNull(model.Mtp);
        HfExport.Save(model, _dir);

        int[] ids = Enumerable.Range(0, 40).Select(i => (i * 29 + 5) % 258).ToArray();
        int t = ids.Length - 1;
        float[] expected;
        using (var scope = NewDisposeScope())
        using (no_grad())
        {
            var x = tensor(ids.Select(i => (long)i).ToArray()).reshape(1, ids.Length);
            var (_, hidden) = model.Forward(x);
            expected = model.MtpLogits(x, hidden).reshape(-1).data<float>().ToArray();
        }
        Assert.Equal(t * TinyConfigs.V3.VocabSize, expected.Length);
        Assert.True(expected.Max() - expected.Min() > 0.5f, "flat MTP logits would make the check meaningless");

        using var engine = ModelLoader.Load(_dir);
        int v = engine.Config.VocabSize, d = engine.Config.HiddenSize;
        var state = engine.CreateState(64);
        var hiddenRows = new float[ids.Length * d];
        engine.Forward([new Segment(state, ids) { Hidden = hiddenRows }]);

        var whole = new float[t * v];
        engine.ForwardMtp(state, ids.AsSpan(1, t), hiddenRows.AsSpan(0, t * d), whole, allLogits: true);
        Assert.Equal(t, state.MtpLength);

        var pieces = new float[t * v];
        var again = engine.CreateState(64);
        engine.Forward([new Segment(again, ids) { Hidden = new float[ids.Length * d] }]);
        for (int at = 0; at < t;)
        {
            int n = Math.Min(1 + at % 5, t - at);
            engine.ForwardMtp(again, ids.AsSpan(1 + at, n), hiddenRows.AsSpan(at * d, n * d), pieces.AsSpan(at * v, n * v), allLogits: true);
            at += n;
        }

        float maxWhole = 0, maxPieces = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            maxWhole = Math.Max(maxWhole, Math.Abs(whole[i] - expected[i]));
            maxPieces = Math.Max(maxPieces, Math.Abs(pieces[i] - expected[i]));
        }
        Assert.True(maxWhole <= 1e-4f, $"engine MTP vs TorchSharp: max |Δlogit| = {maxWhole}");
        Assert.True(maxPieces <= 1e-4f, $"engine MTP in pieces vs TorchSharp: max |Δlogit| = {maxPieces}");
        // Batch invariance holds for the MTP layer too: pieces and one call agree bit for bit.
        Assert.Equal(whole, pieces);
    }

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
