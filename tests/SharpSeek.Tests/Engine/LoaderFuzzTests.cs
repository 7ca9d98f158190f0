using SharpSeek.Diagnostics;

namespace SharpSeek.Tests.Engine;

/// <summary>
/// Issue 17.13: seeded mutation fuzzing of both loaders in the regular suite. Every mutated model must load (and run a
/// token, or stop with a clear error) or be refused with a <see cref="ModelFormatException"/>; anything else is a bug,
/// reported with its case number (<c>sharpseek fuzz --format F --seed S --case K</c> replays it). Long runs: the same
/// command with <c>--cases 100000</c>.
/// </summary>
public sealed class LoaderFuzzTests
{
    [Theory]
    [InlineData(FuzzFormat.Safetensors, 1500)]
    [InlineData(FuzzFormat.Gguf, 1500)]
    public void Every_mutation_loads_or_is_a_format_error(FuzzFormat format, int cases)
    {
        using var fuzzer = new LoaderFuzzer(format, LoaderFuzzer.DefaultWorkDirectory);
        var report = fuzzer.Run(cases, seed: 17);
        string failures = string.Join("\n", report.Failures.Select(f => $"case {f.Case} ({f.Mutation}): {f.Error}"));
        Assert.True(report.Counts[FuzzOutcome.Failure] == 0, failures);
        // The run means something only if mutations reach both sides: some load, most are refused.
        Assert.True(report.Counts[FuzzOutcome.Loaded] >= cases / 50, $"only {report.Counts[FuzzOutcome.Loaded]} of {cases} mutated models loaded");
        Assert.True(report.Counts[FuzzOutcome.FormatError] >= cases / 2, $"only {report.Counts[FuzzOutcome.FormatError]} of {cases} were refused");
        // A case that allocated hundreds of MB or ran for seconds would be the next bug (17.7).
        Assert.True(report.Slowest.Milliseconds < 2000, $"case {report.Slowest.Case} ({report.Slowest.Mutation}) took {report.Slowest.Milliseconds:0} ms");
    }
}
