using SharpSeek.Build;
using SharpSeek.Training;
using TorchSharp;

namespace SharpSeek.Training.Tests;

/// <summary>TorchSharp's native libraries load from the test output, and the GLIBCXX fix did what it claims.</summary>
public sealed partial class TorchSharpLoadTests
{
    private const string Glibcxx = "GLIBCXX_3.4.32";

    [Fact]
    public void TorchSharpLoadsAndComputes()
    {
        TorchRuntime.Initialise(1);
        using var a = torch.tensor(new float[] { 1, 2, 3, 4 }).reshape(2, 2);
        using var b = a.matmul(a);
        Assert.Equal(new float[] { 7, 10, 15, 22 }, b.data<float>().ToArray());
        Assert.Equal(1, torch.get_num_threads());
    }

    [Fact]
    public void OpenMpThreadsSleepWhileTheyWait_UnlessTheEnvironmentSaysOtherwise()
    {
        // libgomp reads OMP_WAIT_POLICY from the C environment when libtorch loads it; .NET's own view of the
        // environment is not what it reads, so ask libc.
        TorchRuntime.Initialise(1);
        Assert.Contains(File.ReadLines("/proc/self/maps"), l => l.Contains("libgomp", StringComparison.Ordinal));
        string expected = Environment.GetEnvironmentVariable("OMP_WAIT_POLICY") ?? "PASSIVE";
        Assert.Equal(expected, System.Runtime.InteropServices.Marshal.PtrToStringUTF8(GetEnv("OMP_WAIT_POLICY")));
    }

    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "getenv", StringMarshalling = System.Runtime.InteropServices.StringMarshalling.Utf8)]
    private static partial IntPtr GetEnv(string name);

    private static string OutputGlue => Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");

    [Fact]
    public void OutputCopyIsPatchedOnlyWhenTheSystemLacksTheVersion()
    {
        Assert.True(File.Exists(OutputGlue), "libLibTorchSharp.so not in the test output: " + OutputGlue);
        var need = Assert.Single(ElfVersionPatcher.ReadVersionNeeds(File.ReadAllBytes(OutputGlue)), n => n.Version == Glibcxx);
        string? system = ElfVersionPatcher.FindSystemLibStdCxx();
        bool systemHasIt = system is not null && ElfVersionPatcher.ProvidesVersion(system, Glibcxx);
        Assert.Equal(!systemHasIt, need.IsWeak);
        // The claim the fix rests on: no relocation uses a symbol of that version.
        Assert.Empty(need.RelocatedSymbols);
    }

    [Fact]
    public void PatcherMarksOnlyTheNamedNeedWeakAndIsIdempotent()
    {
        string copy = Path.Combine(Path.GetTempPath(), "sharpseek-elf-" + Guid.NewGuid().ToString("N") + ".so");
        File.Copy(OutputGlue, copy);
        try
        {
            // Start from an unpatched state whatever the output copy is.
            var before = ElfVersionPatcher.ReadVersionNeeds(File.ReadAllBytes(copy));
            Assert.Contains(before, n => n.File == "libstdc++.so.6");
            ElfVersionPatcher.MarkWeak(copy, [Glibcxx]);
            var after = ElfVersionPatcher.ReadVersionNeeds(File.ReadAllBytes(copy));
            Assert.Equal(before.Count, after.Count);
            for (int i = 0; i < before.Count; i++)
            {
                Assert.Equal(before[i].Version, after[i].Version);
                if (after[i].Version == Glibcxx) Assert.True(after[i].IsWeak);
                else Assert.Equal(before[i].Flags, after[i].Flags);
            }
            Assert.Empty(ElfVersionPatcher.MarkWeak(copy, [Glibcxx]));
        }
        finally { File.Delete(copy); }
    }

    [Fact]
    public void RefusesToWeakenAVersionThatRelocatedSymbolsUse()
    {
        var needs = ElfVersionPatcher.ReadVersionNeeds(File.ReadAllBytes(OutputGlue));
        var used = needs.First(n => n.RelocatedSymbols.Count > 0);
        string copy = Path.Combine(Path.GetTempPath(), "sharpseek-elf-" + Guid.NewGuid().ToString("N") + ".so");
        File.Copy(OutputGlue, copy);
        try { Assert.Throws<InvalidDataException>(() => ElfVersionPatcher.MarkWeak(copy, [used.Version])); }
        finally { File.Delete(copy); }
    }
}
