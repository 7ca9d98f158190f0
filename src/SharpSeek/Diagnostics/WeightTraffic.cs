using SharpSeek.Formats.Gguf;

namespace SharpSeek.Diagnostics;

/// <summary>Bytes of weights one decode step reads from memory, the numerator of the bandwidth-bound decode rate.</summary>
public static class WeightTraffic
{
    /// <summary>
    /// For a GGUF model: every tensor once, except one embedding row (a lookup) unless the embedding is also the
    /// output matrix (then it is read in full), and only the used share (<c>expert_used_count / expert_count</c>) of
    /// stacked expert tensors. KV-cache reads are left out (small at benchmark lengths).
    /// </summary>
    public static long BytesPerToken(GgufFile f)
    {
        string arch = f.Architecture ?? "";
        long used = f.GetInteger(arch + ".expert_used_count") ?? 0, experts = f.GetInteger(arch + ".expert_count") ?? 0;
        bool tied = !f.ContainsTensor("output.weight");
        double total = 0;
        foreach (var t in f.Tensors)
        {
            double b = t.ByteLength;
            if (t.Name == "token_embd.weight" && !tied) b = t.Ne.Length == 2 && t.Ne[1] > 0 ? b / t.Ne[1] : b;
            else if (t.Name.Contains("_exps.", StringComparison.Ordinal) && experts > 0) b = b * used / experts;
            total += b;
        }
        return (long)total;
    }
}
