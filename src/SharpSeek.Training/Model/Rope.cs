using SharpSeek.Models;
using static TorchSharp.torch;

namespace SharpSeek.Training.Model;

/// <summary>
/// Decoupled rotary embedding with YaRN (model.py <c>precompute_freqs_cis</c> / <c>apply_rotary_emb</c>).
/// DeepSeek's pairs are interleaved: channels (x[2j], x[2j+1]) rotate by angle pos · inv[j]; the dense baseline
/// rotates split halves (<see cref="ApplyHalfSplit"/>).
/// </summary>
public static class Rope
{
    /// <summary>The rotary inverse frequencies inv[j], j = 0 .. dr/2−1, YaRN-blended when <c>rope_scaling</c> is YaRN (always applied, as in the released models).</summary>
    public static float[] InverseFrequencies(ModelConfig cfg)
    {
        int dr = RotaryDim(cfg);
        double theta = cfg.RopeTheta;
        var inv = new float[dr / 2];
        for (int j = 0; j < inv.Length; j++) inv[j] = (float)(1.0 / Math.Pow(theta, 2.0 * j / dr));
        if (cfg.RopeScaling is { Type: "yarn" } y && y.Factor > 1)
        {
            double Corr(double rotations) => dr * Math.Log(y.OriginalMaxPositionEmbeddings / (rotations * 2 * Math.PI)) / (2 * Math.Log(theta));
            double low = Math.Max(Math.Floor(Corr(y.BetaFast)), 0);
            double high = Math.Min(Math.Ceiling(Corr(y.BetaSlow)), dr - 1);
            if (low == high) high += 0.001;
            for (int j = 0; j < inv.Length; j++)
            {
                float ramp = (float)Math.Clamp((j - low) / (high - low), 0, 1);
                float keep = 1 - ramp;
                inv[j] = inv[j] / (float)y.Factor * (1 - keep) + inv[j] * keep;
            }
        }
        else if (cfg.RopeScaling is { Type: "linear" } lin)
        {
            for (int j = 0; j < inv.Length; j++) inv[j] = (float)(inv[j] / lin.Factor);
        }
        return inv;
    }

    /// <summary>Channels per head that rotate: DeepSeek's decoupled rope part, or a dense model's whole head.</summary>
    public static int RotaryDim(ModelConfig cfg) => cfg.Family == ModelFamily.DeepSeek ? cfg.QkRopeHeadDim : cfg.HeadDim;

    /// <summary>YaRN attention-temperature factor m (0.1 · mscale · ln(factor) + 1; 1 when factor ≤ 1 or mscale is 0).</summary>
    public static double YarnMscale(double factor, double mscale) => factor <= 1 || mscale == 0 ? 1 : 0.1 * mscale * Math.Log(factor) + 1;

    /// <summary>Softmax scale: dq^−0.5, times m² with m from <c>mscale_all_dim</c> under YaRN.</summary>
    public static double SoftmaxScale(ModelConfig cfg)
    {
        double scale = 1 / Math.Sqrt(cfg.Family == ModelFamily.DeepSeek ? cfg.QkHeadDim : cfg.HeadDim);
        if (cfg.RopeScaling is { Type: "yarn" } y)
        {
            double m = YarnMscale(y.Factor, y.MscaleAllDim);
            scale *= m * m;
        }
        return scale;
    }

    /// <summary>cos and sin tables <c>[seqLen, dr/2]</c> (float32), angle = pos · inv[j] rounded to float32 as model.py's outer product does.</summary>
    public static (Tensor Cos, Tensor Sin) Tables(ModelConfig cfg, long seqLen)
    {
        float[] inv = InverseFrequencies(cfg);
        // HF scales cos/sin by mscale(factor, mscale) / mscale(factor, mscale_all_dim): 1 for every released config.
        double attn = cfg.RopeScaling is { Type: "yarn" } y ? YarnMscale(y.Factor, y.Mscale) / YarnMscale(y.Factor, y.MscaleAllDim) : 1;
        int half = inv.Length;
        var cos = new float[seqLen * half];
        var sin = new float[seqLen * half];
        for (long p = 0; p < seqLen; p++)
            for (int j = 0; j < half; j++)
            {
                float angle = p * inv[j];
                cos[p * half + j] = (float)(Math.Cos(angle) * attn);
                sin[p * half + j] = (float)(Math.Sin(angle) * attn);
            }
        return (tensor(cos, [seqLen, half]), tensor(sin, [seqLen, half]));
    }

    /// <summary>Rotates <paramref name="x"/> <c>[B, S, H, dr]</c> by the tables' first S rows, interleaved pairs.</summary>
    public static Tensor Apply(Tensor x, Tensor cos, Tensor sin)
    {
        long b = x.shape[0], s = x.shape[1], h = x.shape[2], dr = x.shape[3];
        var pairs = x.reshape(b, s, h, dr / 2, 2);
        var x0 = pairs.select(-1, 0);
        var x1 = pairs.select(-1, 1);
        var c = cos.narrow(0, 0, s).view(1, s, 1, dr / 2);
        var n = sin.narrow(0, 0, s).view(1, s, 1, dr / 2);
        return stack([x0 * c - x1 * n, x0 * n + x1 * c], -1).reshape(b, s, h, dr);
    }

    /// <summary>Rotates <paramref name="x"/> <c>[B, S, H, d]</c> with split halves: channel j pairs with j + d/2 (Hugging Face's <c>rotate_half</c>).</summary>
    public static Tensor ApplyHalfSplit(Tensor x, Tensor cos, Tensor sin)
    {
        long s = x.shape[1], d = x.shape[3];
        var x0 = x.narrow(-1, 0, d / 2);
        var x1 = x.narrow(-1, d / 2, d / 2);
        var c = cos.narrow(0, 0, s).view(1, s, 1, d / 2);
        var n = sin.narrow(0, 0, s).view(1, s, 1, d / 2);
        return cat([x0 * c - x1 * n, x0 * n + x1 * c], -1);
    }
}
