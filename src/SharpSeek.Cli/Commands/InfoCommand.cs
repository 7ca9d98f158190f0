using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using SharpSeek.Models;

namespace SharpSeek.Cli.Commands;

/// <summary><c>sharpseek info --model PATH [--json]</c>: architecture, parameter counts, dtypes, context length, KV-cache cost.</summary>
internal static class InfoCommand
{
    public static Command Create()
    {
        var model = CommonOptions.Model();
        var json = new Option<bool>("--json") { Description = "Print the report as JSON" };
        var cmd = new Command("info", "Describe a model: architecture, parameters, dtypes, context, KV-cache bytes per token") { model, json };
        cmd.SetAction(pr =>
        {
            using var m = ModelLoader.Load(pr.GetValue(model)!);
            var info = ModelInfo.Of(m);
            Console.Out.Write(pr.GetValue(json) ? ToJson(info) : ToText(info));
            return 0;
        });
        return cmd;
    }

    private static string N(long v) => v.ToString("N0", CultureInfo.InvariantCulture);

    public static string ToText(ModelInfo i)
    {
        var w = new StringWriter(CultureInfo.InvariantCulture);
        w.WriteLine($"model:             {i.Path}");
        w.WriteLine($"architecture:      {i.Architecture} ({i.ModelType})");
        w.WriteLine($"layers:            {i.Layers}" + (i.MtpModules > 0 ? $" (+{i.MtpModules} MTP)" : ""));
        w.WriteLine($"hidden size:       {i.HiddenSize}");
        w.WriteLine($"vocabulary:        {i.VocabSize}");
        w.WriteLine($"parameters:        {N(i.Parameters)} total");
        w.WriteLine($"active per token:  {N(i.ActiveParameters)}");
        if (i.MtpModules > 0) w.WriteLine($"mtp parameters:    {N(i.MtpParameters)}");
        w.WriteLine("dtypes:            " + string.Join(", ", i.DTypes.Select(kv => $"{kv.Key} ({kv.Value.Tensors} tensors, {N(kv.Value.Elements)} values)")));
        w.WriteLine($"context length:    {i.ContextLength}");
        double ratio = i.KvCacheBytesPerToken == 0 ? 0 : (double)i.PlainKvCacheBytesPerToken / i.KvCacheBytesPerToken;
        w.WriteLine($"kv cache / token:  {N(i.KvCacheBytesPerToken)} bytes (float32; {i.KvCacheLayout})");
        w.WriteLine($"plain mha cache:   {N(i.PlainKvCacheBytesPerToken)} bytes per token ({ratio:0.0}x)");
        return w.ToString();
    }

    public static string ToJson(ModelInfo i)
    {
        var obj = new Dictionary<string, object>
        {
            ["path"] = i.Path,
            ["architecture"] = i.Architecture,
            ["model_type"] = i.ModelType,
            ["layers"] = i.Layers,
            ["mtp_modules"] = i.MtpModules,
            ["hidden_size"] = i.HiddenSize,
            ["vocab_size"] = i.VocabSize,
            ["parameters"] = i.Parameters,
            ["active_parameters"] = i.ActiveParameters,
            ["mtp_parameters"] = i.MtpParameters,
            ["dtypes"] = i.DTypes.ToDictionary(kv => kv.Key, kv => new Dictionary<string, long> { ["tensors"] = kv.Value.Tensors, ["values"] = kv.Value.Elements }),
            ["context_length"] = i.ContextLength,
            ["kv_cache_bytes_per_token"] = i.KvCacheBytesPerToken,
            ["plain_kv_cache_bytes_per_token"] = i.PlainKvCacheBytesPerToken,
            ["kv_cache_layout"] = i.KvCacheLayout,
        };
        return JsonSerializer.Serialize(obj, new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }) + Environment.NewLine;
    }
}
