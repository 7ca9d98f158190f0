using SharpSeek.Threading;

namespace SharpSeek.Kernels;

/// <summary>
/// The cached latent rows (c_kv, [len, rkv]) and rope keys (k_pe, [len, dr]) one MLA query row attends to: positions
/// <paramref name="First"/> up to its causal length (an MTP cache may start after a prefix that was restored without it).
/// </summary>
public readonly record struct LatentKeys(float[] Latent, float[] RopeKeys, int Length, int First = 0);

/// <summary>
/// Up to <c>rows</c> consecutive query rows of one sequence for grouped-query attention: that sequence's cached keys and values
/// ([len, kvH·hd] each), the first row, and the causal length of the first row (row i attends to <c>FirstLength + i</c> positions).
/// </summary>
public readonly record struct KeyBlock(float[] Keys, float[] Values, int FirstRow, int Rows, int FirstLength);

/// <summary>
/// Causal softmax attention of query rows over their own sequence's cache: the two attention operations of the models, named
/// and self-contained (the arguments travel in a struct per call; nothing is kept between calls). Rows of different sequences
/// read different caches, so a pass can mix any sequences; each row's scores and outputs are computed the same way whatever
/// else is in the call (<see cref="AttentionScores"/> and <see cref="WeightedRows"/> sum every pair in one order), which keeps
/// results batch-invariant.
/// </summary>
public static unsafe class Attention
{
    /// <summary>
    /// MLA's absorbed attention (model.py <c>attn_impl="absorb"</c>): for each row r and head h,
    /// s[t] = scale·(q_lat[r,h]·c_kv[t] + q_pe[r,h]·k_pe[t]) over t &lt; len(r), p = softmax(s), o_lat[r,h] = Σ_t p[t]·c_kv[t].
    /// q_lat and o_lat are [rows, H, rkv]; q_pe lies inside q ([rows, H, dn + dr]) after each head's dn no-rope values.
    /// One item per (row, group of heads): whole rows when there are enough of them to keep every worker busy, else each row's
    /// heads split into groups (of at least 4, the tile height) so a decode step still spreads. A row's heads read the same
    /// cached rows, so a group's scores and value sums run as multi-row tiles that load each cached row once per four heads.
    /// </summary>
    public static void Latent(in KernelContext ctx, LatentKeys[] keys, int rows, float[] qLatent, float[] q, int heads, int rkv, int dn, int dr,
        float scale, float[] oLatent)
    {
        long work = 0;
        for (int r = 0; r < rows; r++) work += (long)heads * (keys[r].Length - keys[r].First) * (rkv + dr);
        bool parallel = work >= 65536;
        int workers = parallel ? ctx.Pool.ThreadCount : 1;
        int groups = Math.Clamp((4 * workers + rows - 1) / rows, 1, Math.Max(1, heads / 4));
        int groupHeads = (heads + groups - 1) / groups;
        groups = (heads + groupHeads - 1) / groupHeads;
        var op = new LatentWork(keys, qLatent, q, heads, rkv, dn, dr, scale, oLatent, groups, groupHeads, ctx.Pool);
        ctx.Pool.For(rows * groups, ref op, parallel);
    }

    private readonly struct LatentWork(LatentKeys[] keys, float[] qLatent, float[] q, int heads, int rkv, int dn, int dr, float scale,
        float[] oLatent, int groups, int groupHeads, WorkerPool pool) : IParallelWork
    {
        public void Execute(int index, int worker)
        {
            int t = index / groups, h0 = index % groups * groupHeads, hn = Math.Min(groupHeads, heads - h0), dq = dn + dr;
            var k = keys[t];
            int len = k.Length - k.First;
            var scores = pool.Scratch(worker, hn * len);
            long row = (long)t * heads + h0;
            fixed (float* sp = scores)
            fixed (float* qlat = qLatent)
            fixed (float* qp = q)
            fixed (float* latents = k.Latent)
            fixed (float* ropeKeys = k.RopeKeys)
            fixed (float* op = oLatent)
            {
                float* lat = latents + (long)k.First * rkv, pe = ropeKeys + (long)k.First * dr;
                AttentionScores.Compute(qlat + row * rkv, rkv, qp + row * dq + dn, dq, hn, lat, rkv, rkv, pe, dr, dr, len, scale, sp, len);
                for (int i = 0; i < hn; i++) Norms.Softmax(new Span<float>(sp + i * len, len));
                WeightedRows.SumRows(lat, rkv, sp, len, hn, len, op + row * rkv, rkv, rkv);
            }
        }
    }

    /// <summary>
    /// Grouped-query attention: one item per (block of query rows, key/value group); the rows are every head of the group for
    /// up to 4 consecutive tokens of one sequence. Their scores come from <see cref="AttentionScores"/> and their value sums from
    /// <see cref="WeightedRows.SumRows"/>, which load each cached key and value row once for four query rows instead of once per
    /// (token, head). A block computes scores up to its last row's length; a row's positions past its own causal length get
    /// weight 0, which adds exactly nothing, so every row comes out bit for bit as it would alone (a decode row is a block of
    /// one). q and o are [rows, H·hd].
    /// </summary>
    public static void Grouped(in KernelContext ctx, KeyBlock[] blocks, int count, float[] q, int heads, int kvHeads, int hd, float scale, float[] o)
    {
        long work = 0;
        for (int b = 0; b < count; b++) work += (long)blocks[b].Rows * heads * (blocks[b].FirstLength + blocks[b].Rows - 1) * hd;
        var op = new GroupedWork(blocks, q, heads, kvHeads, hd, scale, o, ctx.Pool);
        ctx.Pool.For(count * kvHeads, ref op, work >= 32768);
    }

    private readonly struct GroupedWork(KeyBlock[] blocks, float[] q, int heads, int kvHeads, int hd, float scale, float[] o, WorkerPool pool) : IParallelWork
    {
        public void Execute(int index, int worker)
        {
            int kvw = kvHeads * hd, hpg = heads / kvHeads;
            var blk = blocks[index / kvHeads];
            int g = index % kvHeads, t0 = blk.FirstRow, nt = blk.Rows, len0 = blk.FirstLength;
            int rows = nt * hpg, len = len0 + nt - 1;
            // Scratch: scores [rows, len], then the block's query rows and outputs, each [rows, hd] and contiguous.
            var scratch = pool.Scratch(worker, rows * len + 2 * rows * hd);
            fixed (float* sp = scratch)
            fixed (float* qp = q)
            fixed (float* op = o)
            fixed (float* kp = blk.Keys)
            fixed (float* vp = blk.Values)
            {
                float* qs = sp + rows * len, os = qs + rows * hd;
                for (int i = 0; i < nt; i++)
                    new ReadOnlySpan<float>(qp + (long)(t0 + i) * heads * hd + g * hpg * hd, hpg * hd).CopyTo(new Span<float>(qs + i * hpg * hd, hpg * hd));
                AttentionScores.Compute(qs, hd, qs, 0, rows, kp + g * hd, kvw, hd, kp, 0, 0, len, scale, sp, len);
                for (int r = 0; r < rows; r++)
                {
                    int own = len0 + r / hpg;
                    var row = new Span<float>(sp + r * len, len);
                    Norms.Softmax(row[..own]);
                    row[own..].Clear();
                }
                WeightedRows.SumRows(vp + g * hd, kvw, sp, len, rows, len, os, hd, hd);
                for (int i = 0; i < nt; i++)
                    new ReadOnlySpan<float>(os + i * hpg * hd, hpg * hd).CopyTo(new Span<float>(op + (long)(t0 + i) * heads * hd + g * hpg * hd, hpg * hd));
            }
        }
    }
}
