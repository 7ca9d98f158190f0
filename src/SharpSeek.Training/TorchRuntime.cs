using System.Runtime.InteropServices;
using TorchSharp;

namespace SharpSeek.Training;

/// <summary>Process-wide TorchSharp setup: loads libtorch once and sets the intra-op thread count.</summary>
public static partial class TorchRuntime
{
    private static readonly object Gate = new();
    private static bool _initialised;

    /// <summary>
    /// Loads the CPU backend (throws with the loader's message when the native libraries cannot load) and sets <paramref name="threads"/>.
    /// Before libtorch loads, its OpenMP runtime is told to let idle threads sleep (<c>OMP_WAIT_POLICY=PASSIVE</c>, unless
    /// the environment already sets a policy): by default they spin for a while at the end of every parallel region, and on
    /// a shared machine, where the other thread of a region is often not running, that spinning is most of the process's CPU
    /// time. The recipe's budgets are CPU minutes, so spinning spent them on nothing: one recipe run on a busy 2-core machine
    /// got 57 pretraining steps from the 4 CPU minutes that buy 300 with idle threads asleep.
    /// </summary>
    public static void Initialise(int threads = 1)
    {
        lock (Gate)
        {
            if (!_initialised)
            {
                PassiveOpenMpWait();
                torch.InitializeDeviceType(DeviceType.CPU);
                _initialised = true;
            }
            torch.set_num_threads(Math.Max(1, threads));
        }
    }

    /// <summary>
    /// OpenMP reads its environment once, when the library loads, and from the C environment, which .NET's
    /// <see cref="Environment.SetEnvironmentVariable(string, string)"/> does not change on Unix: hence libc's setenv.
    /// libtorch's Windows builds use another OpenMP runtime; there the default stays.
    /// </summary>
    private static void PassiveOpenMpWait()
    {
        if (!(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS())) return;
        if (Environment.GetEnvironmentVariable("OMP_WAIT_POLICY") is not null) return;
        _ = SetEnv("OMP_WAIT_POLICY", "PASSIVE", 0);
    }

    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SetEnv(string name, string value, int overwrite);
}
