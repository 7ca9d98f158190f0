namespace SharpSeek.Models;

/// <summary>
/// Scratch buffers of a forward pass, sized for <see cref="MaxRows"/> token rows (of any sequences). Layers run one after
/// another, so they share these; names say what each holds. All are row-major [rows, width].
/// </summary>
internal sealed class Workspace
{
    public Workspace(ModelConfig c, int maxRows)
    {
        MaxRows = maxRows;
        int maxBatch = maxRows;
        int d = c.HiddenSize;
        X = new float[maxBatch * d];
        Xn = new float[maxBatch * d];
        Out = new float[maxBatch * d];
        if (c.Family == ModelFamily.DeepSeek)
        {
            int h = c.NumAttentionHeads;
            QA = new float[maxBatch * Math.Max(1, c.QLoraRank)];
            Q = new float[maxBatch * h * c.QkHeadDim];
            KvA = new float[maxBatch * (c.KvLoraRank + c.QkRopeHeadDim)];
            QLatent = new float[maxBatch * h * c.KvLoraRank];
            OLatent = new float[maxBatch * h * c.KvLoraRank];
            AttnOut = new float[maxBatch * h * c.VHeadDim];
            RopeDim = c.QkRopeHeadDim;
        }
        else
        {
            int hd = c.HeadDim;
            Q = new float[maxBatch * c.NumAttentionHeads * hd];
            K = new float[maxBatch * c.NumKeyValueHeads * hd];
            V = new float[maxBatch * c.NumKeyValueHeads * hd];
            AttnOut = new float[maxBatch * c.NumAttentionHeads * hd];
            RopeDim = hd;
        }
        int inter = Math.Max(c.IntermediateSize, Math.Max(c.MoeIntermediateSize, c.MoeIntermediateSize * c.NSharedExperts));
        Gate = new float[maxBatch * inter];
        Up = new float[maxBatch * inter];
        Act = new float[maxBatch * inter];
        if (c.NRoutedExperts > 0)
        {
            RouterLogits = new float[maxBatch * c.NRoutedExperts];
            Experts = new int[maxBatch * c.NumExpertsPerTok];
            ExpertWeights = new float[maxBatch * c.NumExpertsPerTok];
            ExpertX = new float[maxBatch * d];
            ExpertY = new float[maxBatch * d];
            ExpertTokens = new int[maxBatch];
            ExpertTokenWeights = new float[maxBatch];
            RouterScratch = new float[3 * c.NRoutedExperts];
            GroupScores = new float[Math.Max(1, c.NGroup)];
        }
        Cos = new float[maxBatch * RopeDim / 2];
        Sin = new float[maxBatch * RopeDim / 2];
    }

    public int MaxRows { get; }
    public int RopeDim { get; }
    public float[] X, Xn, Out;                    // residual stream, normalised input, block output   [B, D]
    public float[] QA = [], Q, KvA = [];           // q low-rank, queries, kv_a output
    public float[] K = [], V = [];                 // dense family keys/values                            [B, kvH·hd]
    public float[] QLatent = [], OLatent = [];     // MLA absorbed query / attention output in latent space [B, H, rkv]
    public float[] AttnOut;                        // per-head attention output before o_proj
    public float[] Gate, Up, Act;                  // SwiGLU intermediates                                [B, I]
    public float[] RouterLogits = [];              // [B, E]
    public int[] Experts = [];                     // [B, k]
    public float[] ExpertWeights = [];             // [B, k]
    public float[] ExpertX = [], ExpertY = [];     // tokens gathered for one expert                       [B, D]
    public int[] ExpertTokens = [];
    public float[] ExpertTokenWeights = [];
    public float[] RouterScratch = [], GroupScores = [];
    public float[] Cos, Sin;                       // rotary tables of the batch's positions              [B, rope/2]
}
