namespace SharpSeek.Models;

/// <summary>
/// Rotary position embedding: inverse frequencies (plain, YaRN as in DeepSeek's <c>precompute_freqs_cis</c>,
/// Llama-3, linear, or explicit per-frequency factors), the cos/sin of a position, and the rotation itself.
/// Angles are formed in float32 as model.py does, so positions far from 0 round the same way.
/// </summary>
public sealed class Rope
{
    private readonly float[] _invFreq;   // [dim/2]

    public Rope(int dim, double theta, RopeScaling? scaling, IReadOnlyList<float>? factors, RopeLayout layout)
    {
        if (dim <= 0 || dim % 2 != 0) throw new ArgumentOutOfRangeException(nameof(dim), "rotary dimension must be positive and even");
        Dim = dim;
        Layout = layout;
        int half = dim / 2;
        _invFreq = new float[half];
        // As model.py and HF do it in float32: pow rounded to float, then a float division.
        for (int j = 0; j < half; j++) _invFreq[j] = 1f / (float)Math.Pow((float)theta, (float)(2 * j) / dim);
        if (factors is not null)
        {
            if (factors.Count != half) throw new ModelFormatException($"rope_freqs: {factors.Count} factors for rotary dimension {dim} (expected {half})");
            for (int j = 0; j < half; j++) _invFreq[j] /= factors[j];
        }
        AttentionFactor = 1;
        switch (scaling?.Type)
        {
            case null:
                break;
            case "linear":
                for (int j = 0; j < half; j++) _invFreq[j] = (float)(_invFreq[j] / scaling.Factor);
                break;
            case "llama3":
                ApplyLlama3(scaling);
                break;
            case "yarn":
                ApplyYarn(scaling, theta);
                break;
            default:
                throw new ModelFormatException($"rope_scaling type '{scaling.Type}' is not supported");
        }
    }

    public int Dim { get; }
    public RopeLayout Layout { get; }
    public ReadOnlySpan<float> InverseFrequencies => _invFreq;

    /// <summary>Multiplier on cos/sin (Hugging Face's YaRN attention factor; 1 for every released DeepSeek config).</summary>
    public float AttentionFactor { get; private set; }

    /// <summary>YaRN's m = 0.1·mscale_all_dim·ln(factor) + 1; the softmax scale is multiplied by m² (DeepSeek). 1 without YaRN.</summary>
    public static double SoftmaxMscale(RopeScaling? scaling)
    {
        if (scaling is not { Type: "yarn" } || scaling.Factor <= 1) return 1;
        double m = scaling.MscaleAllDim != 0 ? scaling.MscaleAllDim : scaling.Mscale;
        return m == 0 ? 1 : 0.1 * m * Math.Log(scaling.Factor) + 1;
    }

    private void ApplyYarn(RopeScaling s, double theta)
    {
        int half = Dim / 2;
        double Corr(double rot) => Dim * Math.Log(s.OriginalMaxPositionEmbeddings / (rot * 2 * Math.PI)) / (2 * Math.Log(theta));
        double low = Math.Max(Math.Floor(Corr(s.BetaFast)), 0);
        double high = Math.Min(Math.Ceiling(Corr(s.BetaSlow)), Dim - 1);
        if (low == high) high += 0.001;
        float factor = (float)s.Factor;
        for (int j = 0; j < half; j++)
        {
            float ramp = Math.Clamp((float)((j - low) / (high - low)), 0f, 1f);
            float smooth = 1f - ramp;
            _invFreq[j] = _invFreq[j] / factor * (1f - smooth) + _invFreq[j] * smooth;
        }
        static double G(double f, double m) => f <= 1 ? 1 : 0.1 * m * Math.Log(f) + 1;
        AttentionFactor = s.Mscale != 0 && s.MscaleAllDim != 0
            ? (float)(G(s.Factor, s.Mscale) / G(s.Factor, s.MscaleAllDim))
            : s.Mscale == 0 && s.MscaleAllDim == 0 ? (float)G(s.Factor, 1) : 1f;
    }

    private void ApplyLlama3(RopeScaling s)
    {
        double oldCtx = s.OriginalMaxPositionEmbeddings;
        double lowWavelen = oldCtx / s.LowFreqFactor, highWavelen = oldCtx / s.HighFreqFactor;
        for (int j = 0; j < _invFreq.Length; j++)
        {
            double f = _invFreq[j], wavelen = 2 * Math.PI / f;
            if (wavelen < highWavelen) continue;
            if (wavelen > lowWavelen) { _invFreq[j] = (float)(f / s.Factor); continue; }
            double smooth = (oldCtx / wavelen - s.LowFreqFactor) / (s.HighFreqFactor - s.LowFreqFactor);
            _invFreq[j] = (float)((1 - smooth) * f / s.Factor + smooth * f);
        }
    }

    /// <summary>Fills cos/sin ([dim/2] each) for position <paramref name="pos"/>.</summary>
    public void CosSin(int pos, Span<float> cos, Span<float> sin)
    {
        float p = pos, a = AttentionFactor;
        for (int j = 0; j < _invFreq.Length; j++)
        {
            float angle = p * _invFreq[j];
            cos[j] = (float)Math.Cos(angle) * a;
            sin[j] = (float)Math.Sin(angle) * a;
        }
    }

    /// <summary>Rotates <paramref name="x"/> ([dim]) in place.</summary>
    public void Apply(Span<float> x, ReadOnlySpan<float> cos, ReadOnlySpan<float> sin)
    {
        int half = Dim / 2;
        if (Layout == RopeLayout.Interleaved)
        {
            for (int j = 0; j < half; j++)
            {
                float a = x[2 * j], b = x[2 * j + 1];
                x[2 * j] = a * cos[j] - b * sin[j];
                x[2 * j + 1] = a * sin[j] + b * cos[j];
            }
        }
        else
        {
            for (int j = 0; j < half; j++)
            {
                float a = x[j], b = x[j + half];
                x[j] = a * cos[j] - b * sin[j];
                x[j + half] = b * cos[j] + a * sin[j];
            }
        }
    }
}
