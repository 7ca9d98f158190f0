namespace SharpSeek.Tests.Support;

/// <summary>
/// A seed made from a test case's parameters that is the same in every run. <see cref="HashCode.Combine{T1,T2}"/> is
/// randomized per process, so seeding from it gave each run different data and made a failure impossible to replay.
/// </summary>
public static class StableSeed
{
    public static int Of(params object[] parts)
    {
        uint h = 2166136261;   // FNV-1a over the parts' invariant text
        foreach (object part in parts)
            foreach (char c in Convert.ToString(part, System.Globalization.CultureInfo.InvariantCulture) + "\u001f")
                h = (h ^ c) * 16777619;
        return (int)(h & 0x7fffffff);
    }
}
