using TorchSharp;

namespace SharpSeek.Training;

/// <summary>Process-wide TorchSharp setup: loads libtorch once and sets the intra-op thread count.</summary>
public static class TorchRuntime
{
    private static readonly object Gate = new();
    private static bool _initialised;

    /// <summary>Loads the CPU backend (throws with the loader's message when the native libraries cannot load) and sets <paramref name="threads"/>.</summary>
    public static void Initialise(int threads = 1)
    {
        lock (Gate)
        {
            if (!_initialised)
            {
                torch.InitializeDeviceType(DeviceType.CPU);
                _initialised = true;
            }
            torch.set_num_threads(Math.Max(1, threads));
        }
    }
}
