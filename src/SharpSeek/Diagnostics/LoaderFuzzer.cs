using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using SharpSeek.Formats.Gguf;
using SharpSeek.Generation;
using SharpSeek.Models;

namespace SharpSeek.Diagnostics;

public enum FuzzFormat
{
    Safetensors,
    Gguf,
}

/// <summary>What one fuzz case did. Anything but a load or a format error is a bug in the loader.</summary>
public enum FuzzOutcome
{
    /// <summary>The mutated model loaded and ran one token.</summary>
    Loaded,
    /// <summary>It loaded, and the forward pass stopped with a clear error (e.g. non-finite router scores from mutated weights).</summary>
    LoadedForwardRefused,
    /// <summary>The loader refused it with a <see cref="ModelFormatException"/> naming the file and key or tensor.</summary>
    FormatError,
    /// <summary>Any other exception: a bug.</summary>
    Failure,
}

public sealed record FuzzCaseResult(int Case, FuzzOutcome Outcome, string Mutation, double Milliseconds, long PeakRssBytes, Exception? Error);

public sealed record FuzzReport(
    FuzzFormat Format, ulong Seed, int Cases, IReadOnlyDictionary<FuzzOutcome, int> Counts, IReadOnlyList<FuzzCaseResult> Failures,
    long BaselineRssBytes, FuzzCaseResult WorstRss, FuzzCaseResult Slowest, double Seconds);

/// <summary>
/// Seeded mutation fuzzing of the model loaders: each case mutates a valid seed model (<see cref="FuzzSeeds"/>) and
/// loads it the way <c>sharpseek run</c> does (<see cref="ModelLoader.Load(string)"/>, the GGUF tokenizer, one decode
/// step). Mutations are blind (bit flips, bytes, truncation, cut/insert) and structure-aware (GGUF metadata values and
/// tensor infos, the safetensors header length and JSON, config.json values), so both the framing and the meaning of
/// each field are reached. Case <c>i</c> of seed <c>s</c> is the same mutation on every machine.
/// </summary>
public sealed class LoaderFuzzer : IDisposable
{
    private readonly string _dir;
    private readonly byte[] _seedFile;
    private readonly byte[] _seedConfig;
    private readonly GgufLayout? _layout;
    private readonly string _target;

    public LoaderFuzzer(FuzzFormat format, string workDirectory)
    {
        Format = format;
        _dir = Path.Combine(workDirectory, "sharpseek-fuzz-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(_dir);
        string seedDir = Path.Combine(_dir, "seed");
        if (format == FuzzFormat.Gguf)
        {
            string gguf = Path.Combine(_dir, "seed.gguf");
            FuzzSeeds.WriteGguf(gguf, seedDir);
            _seedFile = File.ReadAllBytes(gguf);
            _seedConfig = [];
            _layout = GgufLayout.Of(_seedFile);
            _target = Path.Combine(_dir, "case.gguf");
        }
        else
        {
            FuzzSeeds.WriteHuggingFace(seedDir);
            _seedFile = File.ReadAllBytes(Path.Combine(seedDir, "model.safetensors"));
            _seedConfig = File.ReadAllBytes(Path.Combine(seedDir, "config.json"));
            _target = Path.Combine(_dir, "case");
            Directory.CreateDirectory(_target);
        }
    }

    public FuzzFormat Format { get; }

    /// <summary>
    /// Where cases are written: a memory file system when there is one (each case rewrites the model, and on a disk that
    /// costs more than the load), else the temp folder.
    /// </summary>
    public static string DefaultWorkDirectory =>
        OperatingSystem.IsLinux() && Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath();

    /// <summary>Runs cases 0..<paramref name="cases"/>−1 of <paramref name="seed"/>; <paramref name="progress"/> hears each result.</summary>
    public FuzzReport Run(int cases, ulong seed, Action<FuzzCaseResult>? progress = null)
    {
        var counts = Enum.GetValues<FuzzOutcome>().ToDictionary(o => o, _ => 0);
        var failures = new List<FuzzCaseResult>();
        // The seed itself must load, or every case would be a format error and prove nothing.
        var check = RunCase(seed, -1);
        if (check.Outcome != FuzzOutcome.Loaded) throw new InvalidOperationException($"the unmutated {Format} seed does not load: {check.Error}");
        long baseline = Rss.Current();
        FuzzCaseResult worst = check, slowest = check;
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < cases; i++)
        {
            var r = RunCase(seed, i);
            counts[r.Outcome]++;
            if (r.Outcome == FuzzOutcome.Failure && failures.Count < 50) failures.Add(r);
            if (r.PeakRssBytes > worst.PeakRssBytes || worst.Case < 0) worst = r;
            if (r.Milliseconds > slowest.Milliseconds || slowest.Case < 0) slowest = r;
            progress?.Invoke(r);
        }
        return new FuzzReport(Format, seed, cases, counts, failures, baseline, worst, slowest, clock.Elapsed.TotalSeconds);
    }

    /// <summary>Case <paramref name="index"/> of <paramref name="seed"/> (−1: the seed unmutated).</summary>
    public FuzzCaseResult RunCase(ulong seed, int index)
    {
        var rng = new Rng(seed * 0x9E3779B97F4A7C15UL ^ (ulong)(uint)index);
        var file = (byte[])_seedFile.Clone();
        var config = (byte[])_seedConfig.Clone();
        var what = new StringBuilder();
        if (index >= 0)
        {
            int steps = 1 + (Next(rng, 4) == 0 ? 1 + Next(rng, 2) : 0);
            for (int s = 0; s < steps; s++)
            {
                if (what.Length > 0) what.Append("; ");
                if (Format == FuzzFormat.Gguf) file = MutateGguf(rng, file, what);
                else if (Next(rng, 10) < 3)
                {
                    try { config = MutateJson(rng, config, what, "config.json"); }
                    catch (Exception e) when (e is InvalidOperationException or ArgumentException or JsonException) { config = Blind(rng, config, config.Length, what.Append("config.json: ")); }
                }
                else file = MutateSafetensors(rng, file, what);
            }
        }
        if (Format == FuzzFormat.Gguf) File.WriteAllBytes(_target, file);
        else
        {
            File.WriteAllBytes(Path.Combine(_target, "model.safetensors"), file);
            File.WriteAllBytes(Path.Combine(_target, "config.json"), config);
        }

        Rss.ResetPeak();
        var clock = Stopwatch.StartNew();
        FuzzOutcome outcome;
        Exception? error = null;
        Transformer? model = null;
        try
        {
            model = ModelLoader.Load(_target);
            if (Format == FuzzFormat.Gguf) _ = GgufTokenizer.Load(_target).Encode("the hello");
            outcome = FuzzOutcome.Loaded;
        }
        catch (ModelFormatException e) { outcome = FuzzOutcome.FormatError; error = e; }
        catch (Exception e) { outcome = FuzzOutcome.Failure; error = e; }
        if (model is not null)
        {
            try
            {
                var state = model.CreateState(4);
                var logits = new float[model.Config.VocabSize];
                model.Forward(state, [Math.Min(1, model.Config.VocabSize - 1)], logits);
            }
            catch (SharpSeekException e) when (e is not ModelFormatException) { outcome = FuzzOutcome.LoadedForwardRefused; error = e; }
            catch (Exception e) { outcome = FuzzOutcome.Failure; error = e; }
            finally { model.Dispose(); }
        }
        double ms = clock.Elapsed.TotalMilliseconds;
        return new FuzzCaseResult(index, outcome, index < 0 ? "none (the seed)" : what.ToString(), ms, Rss.Peak(), error);
    }

    // ---- mutations ----

    private static int Next(Rng rng, int n) => (int)(rng.NextUInt64() % (ulong)n);

    private static readonly ulong[] InterestingU64 =
        [0, 1, 2, 3, 7, 8, 15, 16, 31, 32, 63, 64, 127, 128, 255, 256, 1023, 1024, 4096, 65535, 65536, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF, 0x1_0000_0000,
         0x7FFF_FFFF_FFFF_FFFF, 0x8000_0000_0000_0000, ulong.MaxValue, ulong.MaxValue - 1];

    private static ulong Interesting(Rng rng) => Next(rng, 5) == 0 ? rng.NextUInt64() >> Next(rng, 64) : InterestingU64[Next(rng, InterestingU64.Length)];

    private static byte[] Blind(Rng rng, byte[] data, int focusEnd, StringBuilder what)
    {
        int Offset() => data.Length == 0 ? 0 : Next(rng, 5) > 0 && focusEnd > 0 ? Next(rng, Math.Min(focusEnd, data.Length)) : Next(rng, data.Length);
        switch (Next(rng, 8))
        {
            case 0:
            {
                int at = Offset();
                if (data.Length > 0) data[at] ^= (byte)(1 << Next(rng, 8));
                what.Append(CultureInfo.InvariantCulture, $"bit flip at byte {at}");
                return data;
            }
            case 1:
            {
                int at = Offset();
                byte[] values = [0, 1, 0x7F, 0x80, 0xFF, 0xC0, 0x20, (byte)rng.NextUInt64()];
                byte v = values[Next(rng, values.Length)];
                if (data.Length > 0) data[at] = v;
                what.Append(CultureInfo.InvariantCulture, $"byte {at} = 0x{v:X2}");
                return data;
            }
            case 2:
            case 3:
            {
                int width = Next(rng, 2) == 0 ? 4 : 8;
                int at = Offset();
                if (at + width > data.Length) at = Math.Max(0, data.Length - width);
                ulong v = Interesting(rng);
                if (data.Length >= width)
                {
                    if (width == 4) BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(at), (uint)v);
                    else BinaryPrimitives.WriteUInt64LittleEndian(data.AsSpan(at), v);
                }
                what.Append(CultureInfo.InvariantCulture, $"u{width * 8} at byte {at} = {(width == 4 ? (uint)v : v)}");
                return data;
            }
            case 4:
            {
                int length = Next(rng, 3) == 0 ? Next(rng, data.Length + 1) : Math.Max(0, data.Length - 1 - Next(rng, 64));
                what.Append(CultureInfo.InvariantCulture, $"truncated to {length} bytes");
                return data[..length];
            }
            case 5:
            {
                int at = Offset(), n = 1 + Next(rng, 16);
                n = Math.Min(n, data.Length - at);
                what.Append(CultureInfo.InvariantCulture, $"{n} bytes cut at {at}");
                return [.. data.AsSpan(0, at), .. data.AsSpan(at + n)];
            }
            case 6:
            {
                int at = Offset(), n = 1 + Next(rng, 16);
                var extra = new byte[n];
                for (int i = 0; i < n; i++) extra[i] = (byte)rng.NextUInt64();
                what.Append(CultureInfo.InvariantCulture, $"{n} random bytes inserted at {at}");
                return [.. data.AsSpan(0, at), .. extra, .. data.AsSpan(at)];
            }
            default:
            {
                int from = Offset(), to = Offset(), n = Math.Min(1 + Next(rng, 32), data.Length - Math.Max(from, to));
                if (n > 0) data.AsSpan(from, n).CopyTo(data.AsSpan(to));
                what.Append(CultureInfo.InvariantCulture, $"{Math.Max(n, 0)} bytes copied from {from} to {to}");
                return data;
            }
        }
    }

    /// <summary>A NaN, an infinity or a huge value written into the weights, so the forward pass meets them.</summary>
    private static byte[] Poison(Rng rng, byte[] data, long dataStart, StringBuilder what)
    {
        if (dataStart >= data.Length - 4) return data;
        int at = (int)(dataStart + Next(rng, (int)(data.Length - dataStart - 4))) & ~1;
        uint[] patterns = [0x7FC00000, 0x7F800000, 0xFF800000, 0x7F7FFFFF, 0x7FC07FC0, 0xFF80FF80];
        uint p = patterns[Next(rng, patterns.Length)];
        BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(at), p);
        what.Append(CultureInfo.InvariantCulture, $"weights at byte {at} = 0x{p:X8}");
        return data;
    }

    private byte[] MutateGguf(Rng rng, byte[] file, StringBuilder what)
    {
        var layout = _layout!;
        if (Next(rng, 8) == 0) return Poison(rng, file, layout.HeaderEnd, what);
        if (file.Length != _seedFile.Length || Next(rng, 3) == 0) return Blind(rng, file, (int)layout.HeaderEnd, what);
        if (Next(rng, 2) == 0)
        {
            var kv = layout.Keys[Next(rng, layout.Keys.Count)];
            var span = file.AsSpan();
            switch (kv.Type)
            {
                case GgufValueType.String:
                    if (Next(rng, 2) == 0)
                    {
                        ulong n = Interesting(rng);
                        BinaryPrimitives.WriteUInt64LittleEndian(span[(int)kv.ValueOffset..], n);
                        what.Append(CultureInfo.InvariantCulture, $"key '{kv.Key}': string length = {n}");
                    }
                    else
                    {
                        long len = (long)BinaryPrimitives.ReadUInt64LittleEndian(span[(int)kv.ValueOffset..]);
                        if (len > 0) span[(int)(kv.ValueOffset + 8 + Next(rng, (int)len))] = 0xFF;
                        what.Append(CultureInfo.InvariantCulture, $"key '{kv.Key}': invalid UTF-8 in the string");
                    }
                    return file;
                case GgufValueType.Array:
                    switch (Next(rng, 4))
                    {
                        case 0:
                        {
                            uint et = (uint)Next(rng, 16);
                            BinaryPrimitives.WriteUInt32LittleEndian(span[(int)kv.ValueOffset..], et);
                            what.Append(CultureInfo.InvariantCulture, $"key '{kv.Key}': array element type = {et}");
                            return file;
                        }
                        case 1:
                        {
                            ulong n = Interesting(rng);
                            BinaryPrimitives.WriteUInt64LittleEndian(span[((int)kv.ValueOffset + 4)..], n);
                            what.Append(CultureInfo.InvariantCulture, $"key '{kv.Key}': array length = {n}");
                            return file;
                        }
                        default:
                            if (kv.Elements.Count == 0) return Blind(rng, file, (int)layout.HeaderEnd, what);
                            var (offset, width) = kv.Elements[Next(rng, kv.Elements.Count)];
                            if (kv.ElementType == GgufValueType.String)
                            {
                                // A string element: its length to 0 (an empty token or merge) or a lie, or a stray byte.
                                int choice = Next(rng, 3);
                                if (choice == 0) { file = [.. span[..(int)offset], .. new byte[8], .. span[(int)(offset + width)..]]; what.Append(CultureInfo.InvariantCulture, $"key '{kv.Key}': element at {offset} emptied"); }
                                else if (choice == 1) { BinaryPrimitives.WriteUInt64LittleEndian(span[(int)offset..], Interesting(rng)); what.Append(CultureInfo.InvariantCulture, $"key '{kv.Key}': element at {offset} length lies"); }
                                else { if (width > 8) span[(int)offset + 8 + Next(rng, (int)width - 8)] = (byte)" \xFF\0"[Next(rng, 3)]; what.Append(CultureInfo.InvariantCulture, $"key '{kv.Key}': element at {offset} byte changed"); }
                                return file;
                            }
                            WriteInteresting(rng, span.Slice((int)offset, (int)width), kv.ElementType);
                            what.Append(CultureInfo.InvariantCulture, $"key '{kv.Key}': element at {offset} = interesting");
                            return file;
                    }
                default:
                    if (Next(rng, 6) == 0)
                    {
                        uint vt = (uint)Next(rng, 16);
                        BinaryPrimitives.WriteUInt32LittleEndian(span[(int)kv.TypeOffset..], vt);
                        what.Append(CultureInfo.InvariantCulture, $"key '{kv.Key}': type = {vt}");
                        return file;
                    }
                    string v = WriteInteresting(rng, span.Slice((int)kv.ValueOffset, kv.Width), kv.Type);
                    what.Append(CultureInfo.InvariantCulture, $"key '{kv.Key}' = {v}");
                    return file;
            }
        }
        var t = layout.Tensors[Next(rng, layout.Tensors.Count)];
        var s = file.AsSpan();
        switch (Next(rng, 4))
        {
            case 0:
            {
                uint n = (uint)Interesting(rng);
                BinaryPrimitives.WriteUInt32LittleEndian(s[(int)t.DimsOffset..], n);
                what.Append(CultureInfo.InvariantCulture, $"tensor '{t.Name}': n_dims = {n}");
                break;
            }
            case 1:
            {
                int d = Next(rng, t.Dims);
                ulong v = Interesting(rng);
                BinaryPrimitives.WriteUInt64LittleEndian(s[(int)(t.DimsOffset + 4 + 8 * d)..], v);
                what.Append(CultureInfo.InvariantCulture, $"tensor '{t.Name}': ne[{d}] = {v}");
                break;
            }
            case 2:
            {
                uint type = (uint)Next(rng, 40);
                BinaryPrimitives.WriteUInt32LittleEndian(s[(int)t.TypeOffset..], type);
                what.Append(CultureInfo.InvariantCulture, $"tensor '{t.Name}': type = {type}");
                break;
            }
            default:
            {
                var other = layout.Tensors[Next(rng, layout.Tensors.Count)];
                ulong v = Next(rng, 2) == 0 ? BinaryPrimitives.ReadUInt64LittleEndian(s[((int)other.TypeOffset + 4)..]) : Interesting(rng);
                BinaryPrimitives.WriteUInt64LittleEndian(s[((int)t.TypeOffset + 4)..], v);
                what.Append(CultureInfo.InvariantCulture, $"tensor '{t.Name}': offset = {v}");
                break;
            }
        }
        return file;
    }

    private static string WriteInteresting(Rng rng, Span<byte> value, GgufValueType type)
    {
        switch (type)
        {
            case GgufValueType.Float32:
            {
                float[] f = [0, -1, 1e-30f, float.NaN, float.PositiveInfinity, float.NegativeInfinity, -1e30f, 1e30f, float.Epsilon];
                float x = f[Next(rng, f.Length)];
                BinaryPrimitives.WriteSingleLittleEndian(value, x);
                return x.ToString(CultureInfo.InvariantCulture);
            }
            case GgufValueType.Float64:
            {
                double[] f = [0, -1, double.NaN, double.PositiveInfinity, -1e300, 1e300];
                double x = f[Next(rng, f.Length)];
                BinaryPrimitives.WriteDoubleLittleEndian(value, x);
                return x.ToString(CultureInfo.InvariantCulture);
            }
            case GgufValueType.Bool:
                value[0] = (byte)Next(rng, 3);
                return value[0].ToString(CultureInfo.InvariantCulture);
            default:
            {
                ulong v = Interesting(rng);
                for (int i = 0; i < value.Length; i++) value[i] = (byte)(v >> (8 * i));
                return v.ToString(CultureInfo.InvariantCulture) + " (truncated to its width)";
            }
        }
    }

    private static byte[] MutateSafetensors(Rng rng, byte[] file, StringBuilder what)
    {
        long headerLength = file.Length >= 8 ? BinaryPrimitives.ReadInt64LittleEndian(file) : 0;
        bool intact = headerLength > 0 && headerLength <= file.Length - 8;
        int choice = Next(rng, 10);
        if (intact && Next(rng, 8) == 0) return Poison(rng, file, 8 + headerLength, what);
        if (!intact || choice < 2) return Blind(rng, file, intact ? (int)(8 + headerLength) : file.Length, what);
        if (choice < 4)
        {
            long delta = Next(rng, 3) == 0 ? (long)Interesting(rng) : Next(rng, 17) - 8;
            long v = Next(rng, 3) == 0 ? delta : headerLength + delta;
            BinaryPrimitives.WriteInt64LittleEndian(file, v);
            what.Append(CultureInfo.InvariantCulture, $"header length {headerLength} → {v}");
            return file;
        }
        var header = file.AsSpan(8, (int)headerLength).ToArray();
        var data = file.AsSpan(8 + (int)headerLength).ToArray();
        byte[] mutated;
        try { mutated = choice < 9 ? MutateHeader(rng, header, what) : MutateJson(rng, header, what, "header"); }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or JsonException)
        {
            // A header broken by an earlier step of this case can trip the fuzzer's own JSON reading: mutate it blindly.
            mutated = Blind(rng, header, header.Length, what.Append("header: "));
        }
        var result = new byte[8 + mutated.Length + data.Length];
        BinaryPrimitives.WriteInt64LittleEndian(result, mutated.Length);
        mutated.CopyTo(result, 8);
        data.CopyTo(result, 8 + mutated.Length);
        return result;
    }

    /// <summary>Tensor-entry mutations of a safetensors header: dtype, shape, offsets, duplicates, names.</summary>
    private static byte[] MutateHeader(Rng rng, byte[] header, StringBuilder what)
    {
        JsonObject root;
        try { root = JsonNode.Parse(header)!.AsObject(); _ = root.Count; }  // JsonObject reads its members (and meets duplicate keys) lazily
        catch (Exception e) when (e is JsonException or InvalidOperationException or ArgumentException) { return MutateJson(rng, header, what, "header"); }
        var names = root.Select(p => p.Key).Where(k => k != "__metadata__").ToList();
        if (names.Count == 0) return MutateJson(rng, header, what, "header");
        string name = names[Next(rng, names.Count)];
        var entry = root[name] as JsonObject;
        if (entry is null) return MutateJson(rng, header, what, "header");
        string[] dtypes = ["F32", "F16", "BF16", "F8_E4M3", "I8", "U8", "F64", "I64", "BOOL", "Q4", "", "f32"];
        switch (Next(rng, 9))
        {
            case 0:
                entry["dtype"] = dtypes[Next(rng, dtypes.Length)];
                what.Append(CultureInfo.InvariantCulture, $"header: '{name}' dtype = {entry["dtype"]}");
                break;
            case 1:
            {
                var shape = entry["shape"] as JsonArray;
                if (shape is null || shape.Count == 0) { entry["shape"] = new JsonArray(); break; }
                int d = Next(rng, shape.Count);
                long[] v = [0, 1, -1, 2147483647, 2147483648, 4611686018427387904, (long)shape[d]!.GetValue<double>() + 1, (long)shape[d]!.GetValue<double>() * 2];
                shape[d] = v[Next(rng, v.Length)];
                what.Append(CultureInfo.InvariantCulture, $"header: '{name}' shape[{d}] = {shape[d]}");
                break;
            }
            case 2:
            {
                var shape = entry["shape"] as JsonArray;
                if (shape is null) break;
                if (Next(rng, 2) == 0 && shape.Count > 0) shape.RemoveAt(shape.Count - 1); else shape.Add(JsonValue.Create(1));
                what.Append(CultureInfo.InvariantCulture, $"header: '{name}' shape rank → {shape.Count}");
                break;
            }
            case 3:
            case 4:
            {
                var off = entry["data_offsets"] as JsonArray;
                if (off is null || off.Count != 2) break;
                int i = Next(rng, 2);
                long cur = (long)off[i]!.GetValue<double>();
                long[] v = [cur + 1, cur - 1, cur + 4, cur - 4, cur + 2, 0, -1, long.MaxValue, cur * 2];
                off[i] = v[Next(rng, v.Length)];
                what.Append(CultureInfo.InvariantCulture, $"header: '{name}' data_offsets[{i}] = {off[i]}");
                break;
            }
            case 5:
            {
                // Point this tensor at another's bytes (an overlap) or just past it (a hole).
                string other = names[Next(rng, names.Count)];
                if (root[other]?["data_offsets"]?.DeepClone() is JsonArray off) entry["data_offsets"] = off;
                what.Append(CultureInfo.InvariantCulture, $"header: '{name}' takes the offsets of '{other}'");
                break;
            }
            case 6:
                root.Remove(name);
                what.Append(CultureInfo.InvariantCulture, $"header: '{name}' removed");
                break;
            case 7:
            {
                // A duplicate key: the same entry written twice (JsonObject cannot hold one, so it is spliced in as text).
                string text = root.ToJsonString();
                string dup = JsonValue.Create(name).ToJsonString() + ":" + entry.ToJsonString();
                what.Append(CultureInfo.InvariantCulture, $"header: '{name}' duplicated");
                return Encoding.UTF8.GetBytes(text.Insert(text.Length - 1, "," + dup));
            }
            default:
            {
                // Invalid UTF-8 in a tensor name.
                string text = root.ToJsonString();
                int at = text.IndexOf(JsonValue.Create(name).ToJsonString(), StringComparison.Ordinal) + 1;
                var bytes = Encoding.UTF8.GetBytes(text[..at]).Concat(new byte[] { 0xC3, 0x28 }).Concat(Encoding.UTF8.GetBytes(text[at..])).ToArray();
                what.Append(CultureInfo.InvariantCulture, $"header: invalid UTF-8 in the name '{name}'");
                return bytes;
            }
        }
        return Encoding.UTF8.GetBytes(root.ToJsonString());
    }

    /// <summary>Value-level mutations of a JSON object (config.json or a header): numbers, types, missing keys, bad bytes.</summary>
    private static byte[] MutateJson(Rng rng, byte[] json, StringBuilder what, string label)
    {
        JsonNode? root = null;
        try { root = JsonNode.Parse(json); _ = (root as JsonObject)?.Count; }
        catch (Exception e) when (e is JsonException or InvalidOperationException or ArgumentException) { root = null; }
        if (root is not JsonObject obj || Next(rng, 5) == 0) return Blind(rng, json, json.Length, what.Append(label).Append(": "));
        // A random leaf, walking into nested objects and arrays.
        JsonNode parent = obj;
        string path = "";
        object key = "";
        while (true)
        {
            if (parent is JsonObject o && o.Count > 0)
            {
                var p = o.ElementAt(Next(rng, o.Count));
                key = p.Key;
                path += "." + p.Key;
                if (p.Value is JsonObject or JsonArray && Next(rng, 3) > 0) { parent = p.Value; continue; }
            }
            else if (parent is JsonArray a && a.Count > 0)
            {
                int i = Next(rng, a.Count);
                key = i;
                path += $"[{i}]";
                if (a[i] is JsonObject or JsonArray && Next(rng, 3) > 0) { parent = a[i]!; continue; }
            }
            break;
        }
        JsonNode?[] values =
        [
            0, -1, 1, 2, 3, 2147483647, 2147483648L, -2147483648L, 4294967296L, 1e300, -1e300, 1.5, 1e-300, -0.0,
            "a", "", "softmax", "sigmoid", "greedy", "noaux_tc", "yarn", null, true, false, new JsonArray(), new JsonObject(),
            new JsonArray("a", "a"), new JsonArray(0, 0), new JsonArray(128, 64),
        ];
        int choice = Next(rng, values.Length + 2);
        if (choice == values.Length)
        {
            if (parent is JsonObject po) po.Remove((string)key);
            else if (parent is JsonArray pa && key is int ki) pa.RemoveAt(ki);
            what.Append(CultureInfo.InvariantCulture, $"{label}: {path.TrimStart('.')} removed");
        }
        else if (choice == values.Length + 1)
        {
            // Invalid UTF-8 inside the text of a string value (or of the key).
            string text = obj.ToJsonString();
            int at = text.IndexOf('"', Next(rng, Math.Max(1, text.Length)));
            if (at < 0) at = text.IndexOf('"');
            byte[] bytes = [.. Encoding.UTF8.GetBytes(text[..(at + 1)]), 0xFF, 0xFE, .. Encoding.UTF8.GetBytes(text[(at + 1)..])];
            what.Append(CultureInfo.InvariantCulture, $"{label}: invalid UTF-8 at character {at}");
            return bytes;
        }
        else
        {
            var v = values[choice]?.DeepClone();
            if (parent is JsonObject po) po[(string)key] = v;
            else if (parent is JsonArray pa && key is int ki) pa[ki] = v;
            what.Append(CultureInfo.InvariantCulture, $"{label}: {path.TrimStart('.')} = {v?.ToJsonString() ?? "null"}");
        }
        return Encoding.UTF8.GetBytes(obj.ToJsonString());
    }

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); }
        catch (IOException) { }
    }

    /// <summary>Where each metadata value and tensor info of the (valid) GGUF seed lies, for field-aware mutations.</summary>
    private sealed record GgufLayout(List<GgufLayout.Kv> Keys, List<GgufLayout.TensorInfo> Tensors, long HeaderEnd)
    {
        public sealed record Kv(string Key, GgufValueType Type, long TypeOffset, long ValueOffset, int Width, GgufValueType ElementType, List<(long Offset, long Width)> Elements);

        public sealed record TensorInfo(string Name, long DimsOffset, int Dims, long TypeOffset);

        public static GgufLayout Of(byte[] f)
        {
            long p = 8;
            ulong U64() { ulong v = BinaryPrimitives.ReadUInt64LittleEndian(f.AsSpan((int)p)); p += 8; return v; }
            uint U32() { uint v = BinaryPrimitives.ReadUInt32LittleEndian(f.AsSpan((int)p)); p += 4; return v; }
            string Str() { int n = (int)U64(); string s = Encoding.UTF8.GetString(f, (int)p, n); p += n; return s; }
            static int Width(GgufValueType t) => t switch
            {
                GgufValueType.UInt8 or GgufValueType.Int8 or GgufValueType.Bool => 1,
                GgufValueType.UInt16 or GgufValueType.Int16 => 2,
                GgufValueType.UInt32 or GgufValueType.Int32 or GgufValueType.Float32 => 4,
                _ => 8,
            };
            ulong tensors = U64(), kvs = U64();
            var keys = new List<Kv>();
            for (ulong i = 0; i < kvs; i++)
            {
                string key = Str();
                long typeAt = p;
                var type = (GgufValueType)U32();
                long valueAt = p;
                var elements = new List<(long, long)>();
                var elementType = GgufValueType.UInt8;
                if (type == GgufValueType.String) { long n = (long)U64(); p += n; }
                else if (type == GgufValueType.Array)
                {
                    elementType = (GgufValueType)U32();
                    ulong n = U64();
                    for (ulong e = 0; e < n; e++)
                    {
                        long at = p;
                        if (elementType == GgufValueType.String) { long len = (long)U64(); p += len; }
                        else p += Width(elementType);
                        if (elements.Count < 4096) elements.Add((at, p - at));
                    }
                }
                else p += Width(type);
                keys.Add(new Kv(key, type, typeAt, valueAt, type is GgufValueType.String or GgufValueType.Array ? 0 : Width(type), elementType, elements));
            }
            var infos = new List<TensorInfo>();
            for (ulong i = 0; i < tensors; i++)
            {
                string name = Str();
                long dimsAt = p;
                int dims = (int)U32();
                p += 8L * dims;
                long typeAt = p;
                p += 4 + 8;
                infos.Add(new TensorInfo(name, dimsAt, dims, typeAt));
            }
            return new GgufLayout(keys, infos, p);
        }
    }

    /// <summary>Resident memory from /proc: the peak since the last reset (Linux), or the working set elsewhere.</summary>
    internal static class Rss
    {
        public static void ResetPeak()
        {
            try { if (OperatingSystem.IsLinux()) File.WriteAllText("/proc/self/clear_refs", "5"); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }

        public static long Peak() => Read("VmHWM:") ?? Environment.WorkingSet;

        public static long Current() => Read("VmRSS:") ?? Environment.WorkingSet;

        private static long? Read(string field)
        {
            if (!OperatingSystem.IsLinux()) return null;
            try
            {
                foreach (string line in File.ReadLines("/proc/self/status"))
                    if (line.StartsWith(field, StringComparison.Ordinal))
                        return long.Parse(line[field.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException) { }
            return null;
        }
    }
}
