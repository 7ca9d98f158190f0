#:property PublishAot=false
// Writes a random-weight Hugging Face checkpoint (config.json + model.safetensors) of a real model's shape,
// for speed measurements without downloading weights. Weights ~ U(±sqrt(3/fan_in)), norms ~ U(0.8, 1.2).
// Usage: dotnet run bench/tools/random-model.cs -- OUT_DIR [qwen2-1.5b|r1-distill-qwen-1.5b|qwen2-0.5b] [BF16|F32|F16]
using System.Text;
using System.Text.Json;

if (args.Length < 1) { Console.Error.WriteLine("usage: random-model.cs OUT_DIR [shape] [BF16|F32|F16]"); return 2; }
string dir = args[0], shape = args.Length > 1 ? args[1] : "r1-distill-qwen-1.5b", dtype = args.Length > 2 ? args[2] : "BF16";
var (hidden, inter, layers, heads, kvHeads, vocab, tied) = shape switch
{
    "qwen2-1.5b" => (1536, 8960, 28, 12, 2, 151936, true),
    "r1-distill-qwen-1.5b" => (1536, 8960, 28, 12, 2, 151936, false),
    "qwen2-0.5b" => (896, 4864, 24, 14, 2, 151936, true),
    _ => throw new ArgumentException($"unknown shape {shape}"),
};
int hd = hidden / heads;
Directory.CreateDirectory(dir);
var config = new Dictionary<string, object>
{
    ["architectures"] = new[] { "Qwen2ForCausalLM" }, ["model_type"] = "qwen2", ["hidden_size"] = hidden,
    ["intermediate_size"] = inter, ["num_hidden_layers"] = layers, ["num_attention_heads"] = heads,
    ["num_key_value_heads"] = kvHeads, ["vocab_size"] = vocab, ["tie_word_embeddings"] = tied,
    ["rope_theta"] = 10000.0, ["rms_norm_eps"] = 1e-6, ["max_position_embeddings"] = 131072,
    ["bos_token_id"] = 151646, ["eos_token_id"] = 151643, ["torch_dtype"] = dtype.ToLowerInvariant(),
};
File.WriteAllText(Path.Combine(dir, "config.json"), JsonSerializer.Serialize(config, new JsonSerializerOptions { WriteIndented = true }));

var tensors = new List<(string Name, long[] Shape, bool Norm)>();
tensors.Add(("model.embed_tokens.weight", [vocab, hidden], false));
for (int i = 0; i < layers; i++)
{
    string p = $"model.layers.{i}";
    tensors.Add(($"{p}.input_layernorm.weight", [hidden], true));
    tensors.Add(($"{p}.self_attn.q_proj.weight", [heads * hd, hidden], false));
    tensors.Add(($"{p}.self_attn.q_proj.bias", [heads * hd], false));
    tensors.Add(($"{p}.self_attn.k_proj.weight", [kvHeads * hd, hidden], false));
    tensors.Add(($"{p}.self_attn.k_proj.bias", [kvHeads * hd], false));
    tensors.Add(($"{p}.self_attn.v_proj.weight", [kvHeads * hd, hidden], false));
    tensors.Add(($"{p}.self_attn.v_proj.bias", [kvHeads * hd], false));
    tensors.Add(($"{p}.self_attn.o_proj.weight", [hidden, heads * hd], false));
    tensors.Add(($"{p}.post_attention_layernorm.weight", [hidden], true));
    tensors.Add(($"{p}.mlp.gate_proj.weight", [inter, hidden], false));
    tensors.Add(($"{p}.mlp.up_proj.weight", [inter, hidden], false));
    tensors.Add(($"{p}.mlp.down_proj.weight", [hidden, inter], false));
}
tensors.Add(("model.norm.weight", [hidden], true));
if (!tied) tensors.Add(("lm_head.weight", [vocab, hidden], false));

int elem = dtype == "F32" ? 4 : 2;
var header = new Dictionary<string, object>();
long offset = 0;
foreach (var t in tensors)
{
    long n = t.Shape.Aggregate(1L, (a, b) => a * b);
    header[t.Name] = new Dictionary<string, object> { ["dtype"] = dtype, ["shape"] = t.Shape, ["data_offsets"] = new[] { offset, offset + n * elem } };
    offset += n * elem;
}
byte[] headerBytes = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(header));
using var f = new FileStream(Path.Combine(dir, "model.safetensors"), FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
f.Write(BitConverter.GetBytes((long)headerBytes.Length));
f.Write(headerBytes);
ulong state = 20241128;
var buffer = new byte[1 << 20];
foreach (var t in tensors)
{
    long n = t.Shape.Aggregate(1L, (a, b) => a * b);
    double bound = t.Norm ? 0.2 : t.Shape.Length == 1 ? 0.1 : Math.Sqrt(3.0 / t.Shape[^1]);
    double center = t.Norm ? 1.0 : 0.0;
    long written = 0;
    while (written < n)
    {
        int count = (int)Math.Min(n - written, buffer.Length / elem);
        for (int i = 0; i < count; i++)
        {
            state += 0x9E3779B97F4A7C15UL;
            ulong z = state; z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL; z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL; z ^= z >> 31;
            float v = (float)(center + bound * ((z >> 11) * (2.0 / (1UL << 53)) - 1));
            if (elem == 4) BitConverter.TryWriteBytes(buffer.AsSpan(i * 4), v);
            else if (dtype == "F16") BitConverter.TryWriteBytes(buffer.AsSpan(i * 2), (Half)v);
            else BitConverter.TryWriteBytes(buffer.AsSpan(i * 2), (ushort)(BitConverter.SingleToUInt32Bits(v) >> 16));
        }
        f.Write(buffer, 0, count * elem);
        written += count;
    }
}
Console.WriteLine($"wrote {shape} ({dtype}, {offset / 1e9:0.00} GB of weights) to {dir}");
return 0;
