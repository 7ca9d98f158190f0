using System.Buffers.Binary;
using SharpSeek.Formats.Gguf;
using SharpSeek.Tensors;

namespace SharpSeek.Bench;

/// <summary>
/// Random-weight GGUF files of real model shapes, written with SharpSeek's own <see cref="GgufWriter"/>. Quantized blocks are
/// drawn directly (random quants, scales sized so weights are ~U(±sqrt(3/fan_in))) instead of quantizing random floats, so a
/// 9 GB file takes seconds. The vocabulary is GPT-2 byte tokens plus unused pads, enough for llama.cpp to load the file.
/// </summary>
internal static class RandomGguf
{
    public static void Write(string shape, QuantizationTarget target, string path, int seed = 20241128)
    {
        var w = new GgufWriter();
        var tensors = shape switch
        {
            "qwen2-1.5b" => Qwen2(w, hidden: 1536, inter: 8960, layers: 28, heads: 12, kvHeads: 2, vocab: 151936),
            "deepseek-v2-lite" => DeepSeekV2Lite(w),
            _ => throw new ArgumentException($"unknown shape '{shape}' (qwen2-1.5b, deepseek-v2-lite)"),
        };
        int layers = tensors.Count(t => t.Name.EndsWith(".attn_norm.weight", StringComparison.Ordinal));
        bool hasOutput = tensors.Any(t => t.Name == "output.weight");
        w.Set("general.file_type", QuantizationPlan.FileType(target));
        w.Set("general.quantization_version", 2u);
        int index = 0;
        foreach (var (name, tshape, kind) in tensors)
        {
            var type = kind == Kind.Matrix ? QuantizationPlan.TypeFor(target, name, tshape, layers, hasOutput) : DType.F32;
            long fanIn = tshape[^1];
            var rng = new Random(seed + index++);
            w.AddTensor(name, type, tshape, s => Fill(s, type, tshape, kind, fanIn, rng));
        }
        w.Write(path);
    }

    internal enum Kind { Matrix, Norm, Bias }

    private static List<(string Name, long[] Shape, Kind Kind)> Qwen2(GgufWriter w, int hidden, int inter, int layers, int heads, int kvHeads, int vocab)
    {
        int hd = hidden / heads;
        w.Set("general.architecture", "qwen2").Set("general.name", "random-qwen2-1.5b");
        w.Set("qwen2.block_count", (uint)layers).Set("qwen2.context_length", 32768u).Set("qwen2.embedding_length", (uint)hidden)
         .Set("qwen2.feed_forward_length", (uint)inter).Set("qwen2.attention.head_count", (uint)heads)
         .Set("qwen2.attention.head_count_kv", (uint)kvHeads).Set("qwen2.rope.freq_base", 1000000f)
         .Set("qwen2.attention.layer_norm_rms_epsilon", 1e-6f);
        Tokenizer(w, vocab, "qwen2", bos: 151643, eos: 151645);
        var t = new List<(string, long[], Kind)> { ("token_embd.weight", [vocab, hidden], Kind.Matrix) };
        for (int i = 0; i < layers; i++)
        {
            string p = $"blk.{i}.";
            t.Add((p + "attn_norm.weight", [hidden], Kind.Norm));
            t.Add((p + "attn_q.weight", [heads * hd, hidden], Kind.Matrix));
            t.Add((p + "attn_q.bias", [heads * hd], Kind.Bias));
            t.Add((p + "attn_k.weight", [kvHeads * hd, hidden], Kind.Matrix));
            t.Add((p + "attn_k.bias", [kvHeads * hd], Kind.Bias));
            t.Add((p + "attn_v.weight", [kvHeads * hd, hidden], Kind.Matrix));
            t.Add((p + "attn_v.bias", [kvHeads * hd], Kind.Bias));
            t.Add((p + "attn_output.weight", [hidden, heads * hd], Kind.Matrix));
            t.Add((p + "ffn_norm.weight", [hidden], Kind.Norm));
            t.Add((p + "ffn_gate.weight", [inter, hidden], Kind.Matrix));
            t.Add((p + "ffn_up.weight", [inter, hidden], Kind.Matrix));
            t.Add((p + "ffn_down.weight", [hidden, inter], Kind.Matrix));
        }
        t.Add(("output_norm.weight", [hidden], Kind.Norm));
        return t;
    }

    /// <summary>DeepSeek-V2-Lite: 27 layers (1 dense), MLA without q_lora (kv_lora 512, nope 128, rope 64, v 128), 64 experts top-6 + 2 shared, YaRN ×40.</summary>
    private static List<(string Name, long[] Shape, Kind Kind)> DeepSeekV2Lite(GgufWriter w)
    {
        const int hidden = 2048, layers = 27, heads = 16, kvLora = 512, nope = 128, rope = 64, vHead = 128, inter = 10944, moeInter = 1408, experts = 64, vocab = 102400;
        const string a = "deepseek2.";
        w.Set("general.architecture", "deepseek2").Set("general.name", "random-deepseek-v2-lite");
        w.Set(a + "block_count", (uint)layers).Set(a + "context_length", 163840u).Set(a + "embedding_length", (uint)hidden)
         .Set(a + "feed_forward_length", (uint)inter).Set(a + "attention.head_count", (uint)heads).Set(a + "attention.head_count_kv", 1u)
         .Set(a + "rope.freq_base", 10000f).Set(a + "attention.layer_norm_rms_epsilon", 1e-6f)
         .Set(a + "expert_used_count", 6u).Set(a + "expert_count", (uint)experts).Set(a + "leading_dense_block_count", 1u)
         .Set(a + "vocab_size", (uint)vocab).Set(a + "attention.q_lora_rank", 0u).Set(a + "attention.kv_lora_rank", (uint)kvLora)
         .Set(a + "attention.key_length", (uint)(kvLora + rope)).Set(a + "attention.value_length", (uint)kvLora)
         .Set(a + "attention.key_length_mla", (uint)(nope + rope)).Set(a + "attention.value_length_mla", (uint)vHead)
         .Set(a + "expert_feed_forward_length", (uint)moeInter).Set(a + "expert_shared_count", 2u).Set(a + "expert_weights_scale", 1f)
         .Set(a + "expert_weights_norm", false).Set(a + "expert_gating_func", 1u).Set(a + "rope.dimension_count", (uint)rope)
         .Set(a + "rope.scaling.type", "yarn").Set(a + "rope.scaling.factor", 40f).Set(a + "rope.scaling.original_context_length", 4096u)
         .Set(a + "rope.scaling.yarn_log_multiplier", 0.0707f);
        Tokenizer(w, vocab, "deepseek-llm", bos: 100000, eos: 100001);
        var t = new List<(string, long[], Kind)> { ("token_embd.weight", [vocab, hidden], Kind.Matrix) };
        for (int i = 0; i < layers; i++)
        {
            string p = $"blk.{i}.";
            t.Add((p + "attn_norm.weight", [hidden], Kind.Norm));
            t.Add((p + "attn_q.weight", [heads * (nope + rope), hidden], Kind.Matrix));
            t.Add((p + "attn_kv_a_mqa.weight", [kvLora + rope, hidden], Kind.Matrix));
            t.Add((p + "attn_kv_a_norm.weight", [kvLora], Kind.Norm));
            t.Add((p + "attn_k_b.weight", [heads, kvLora, nope], Kind.Matrix));
            t.Add((p + "attn_v_b.weight", [heads, vHead, kvLora], Kind.Matrix));
            t.Add((p + "attn_output.weight", [hidden, heads * vHead], Kind.Matrix));
            t.Add((p + "ffn_norm.weight", [hidden], Kind.Norm));
            if (i == 0)
            {
                t.Add((p + "ffn_gate.weight", [inter, hidden], Kind.Matrix));
                t.Add((p + "ffn_up.weight", [inter, hidden], Kind.Matrix));
                t.Add((p + "ffn_down.weight", [hidden, inter], Kind.Matrix));
                continue;
            }
            t.Add((p + "ffn_gate_inp.weight", [experts, hidden], Kind.Matrix));
            t.Add((p + "ffn_gate_exps.weight", [experts, moeInter, hidden], Kind.Matrix));
            t.Add((p + "ffn_up_exps.weight", [experts, moeInter, hidden], Kind.Matrix));
            t.Add((p + "ffn_down_exps.weight", [experts, hidden, moeInter], Kind.Matrix));
            t.Add((p + "ffn_gate_shexp.weight", [2 * moeInter, hidden], Kind.Matrix));
            t.Add((p + "ffn_up_shexp.weight", [2 * moeInter, hidden], Kind.Matrix));
            t.Add((p + "ffn_down_shexp.weight", [hidden, 2 * moeInter], Kind.Matrix));
        }
        t.Add(("output_norm.weight", [hidden], Kind.Norm));
        t.Add(("output.weight", [vocab, hidden], Kind.Matrix));
        return t;
    }

    /// <summary>GPT-2 byte tokens (printable first), one merge, control BOS/EOS, and unused [PADn] tokens up to the vocabulary size.</summary>
    private static void Tokenizer(GgufWriter w, int vocab, string pre, int bos, int eos)
    {
        var tokens = new string[vocab];
        var types = new int[vocab];
        var printable = Enumerable.Range('!', '~' - '!' + 1).Concat(Enumerable.Range('¡', '¬' - '¡' + 1)).Concat(Enumerable.Range('®', 'ÿ' - '®' + 1)).ToList();
        var bytes = new List<int>(printable);
        var chars = new List<int>(printable);
        for (int b = 0, n = 0; b < 256; b++)
            if (!printable.Contains(b)) { bytes.Add(b); chars.Add(256 + n++); }
        for (int i = 0; i < 256; i++) { tokens[i] = ((char)chars[i]).ToString(); types[i] = 1; }
        tokens[256] = "Ġt";
        types[256] = 1;
        for (int i = 257; i < vocab; i++) { tokens[i] = $"[PAD{i}]"; types[i] = 5; }
        tokens[bos] = "<｜begin▁of▁sentence｜>"; types[bos] = 3;
        tokens[eos] = "<｜end▁of▁sentence｜>"; types[eos] = 3;
        w.Set("tokenizer.ggml.model", "gpt2").Set("tokenizer.ggml.pre", pre)
         .Set("tokenizer.ggml.tokens", GgufValue.Array(tokens)).Set("tokenizer.ggml.token_type", GgufValue.Array(types))
         .Set("tokenizer.ggml.merges", GgufValue.Array(["Ġ t"]))
         .Set("tokenizer.ggml.bos_token_id", (uint)bos).Set("tokenizer.ggml.eos_token_id", (uint)eos)
         .Set("tokenizer.ggml.add_bos_token", true).Set("tokenizer.ggml.add_eos_token", false);
    }

    private static void Fill(Stream s, DType type, long[] shape, Kind kind, long fanIn, Random rng)
    {
        long count = shape.Aggregate(1L, (x, y) => x * y);
        float a = MathF.Sqrt(3f / fanIn);
        if (type == DType.F32 || type == DType.F16)
        {
            int elem = type == DType.F32 ? 4 : 2;
            var buf = new byte[1 << 20];
            for (long done = 0; done < count;)
            {
                int n = (int)Math.Min(buf.Length / elem, count - done);
                for (int i = 0; i < n; i++)
                {
                    float v = kind switch { Kind.Norm => 0.8f + 0.4f * rng.NextSingle(), Kind.Bias => (rng.NextSingle() * 2 - 1) * 0.1f, _ => (rng.NextSingle() * 2 - 1) * a };
                    if (elem == 4) BinaryPrimitives.WriteSingleLittleEndian(buf.AsSpan(i * 4), v);
                    else BinaryPrimitives.WriteHalfLittleEndian(buf.AsSpan(i * 2), (Half)v);
                }
                s.Write(buf, 0, n * elem);
                done += n;
            }
            return;
        }
        int bb = type.BlockBytes(), bs = type.BlockSize();
        long blocks = count / bs;
        var chunk = new byte[bb * 16384];
        for (long done = 0; done < blocks;)
        {
            int n = (int)Math.Min(16384, blocks - done);
            var span = chunk.AsSpan(0, n * bb);
            rng.NextBytes(span);
            for (int b = 0; b < n; b++)
            {
                var blk = span.Slice(b * bb, bb);
                switch (type)
                {
                    case DType.Q8_0:
                        BinaryPrimitives.WriteHalfLittleEndian(blk, (Half)(a / 127));
                        for (int j = 2; j < 34; j++) if (blk[j] == 0x80) blk[j] = 0x81;
                        break;
                    case DType.Q4_0: BinaryPrimitives.WriteHalfLittleEndian(blk, (Half)(a / 8)); break;
                    case DType.Q4_K:
                        BinaryPrimitives.WriteHalfLittleEndian(blk, (Half)(2 * a / (63 * 15)));
                        BinaryPrimitives.WriteHalfLittleEndian(blk[2..], (Half)(a / 63));
                        break;
                    case DType.Q6_K: BinaryPrimitives.WriteHalfLittleEndian(blk[208..], (Half)(a / (127 * 32))); break;
                }
            }
            s.Write(span);
            done += n;
        }
    }
}
