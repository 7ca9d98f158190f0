using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace SharpSeek.Server;

/// <summary>
/// <c>GET /metrics</c>: Prometheus text format. The <c>sharpseek_num_requests_*</c>, <c>sharpseek_kv_cache_usage_perc</c> and
/// <c>sharpseek_cache_config_info</c> series follow the model-server protocol of the Gateway API Inference Extension
/// (vLLM's semantics under our names), so its endpoint picker can score replicas by them (README, "Scaling out").
/// </summary>
internal static class MetricsEndpoint
{
    public static async Task Handle(HttpContext ctx, ModelHost host, Drain drain)
    {
        var sb = new StringBuilder();
        void Metric(string name, string type, string help, double value)
        {
            sb.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n');
            sb.Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');
            sb.Append(name).Append(' ').Append(value.ToString("R", CultureInfo.InvariantCulture)).Append('\n');
        }
        Metric("sharpseek_model_loaded", "gauge", "1 once the model is loaded.", host.IsReady ? 1 : 0);
        Metric("sharpseek_draining", "gauge", "1 once a drain (SIGTERM) has begun.", drain.IsDraining ? 1 : 0);
        Metric("sharpseek_requests_in_flight", "gauge", "HTTP requests being served (probes and metrics not counted).", drain.InFlight);
        if (host.IsReady)
        {
            var s = host.Pipeline.Scheduler;
            var m = s.Metrics;
            Metric("sharpseek_requests_total", "counter", "Sequences submitted.", m.Requests);
            Metric("sharpseek_requests_completed_total", "counter", "Sequences that ran to their end.", m.Completed);
            Metric("sharpseek_requests_cancelled_total", "counter", "Sequences cancelled (client gone, stop string).", m.Cancelled);
            Metric("sharpseek_requests_rejected_total", "counter", "Requests refused with 429 because the queue was full.", m.Rejected);
            Metric("sharpseek_queue_depth", "gauge", "Sequences waiting to start.", m.QueueDepth);
            Metric("sharpseek_active_sequences", "gauge", "Sequences being decoded.", m.ActiveSequences);
            Metric("sharpseek_prompt_tokens_total", "counter", "Prompt tokens received.", m.PromptTokens);
            Metric("sharpseek_prefix_cache_hit_tokens_total", "counter", "Prompt tokens served from the prefix cache.", m.PrefixCacheHitTokens);
            Metric("sharpseek_prefix_cache_entries", "gauge", "Sequences kept for prefix reuse.", s.PrefixCache.Count);
            if (s.PrefixCache.Disk is { } disk)
            {
                Metric("sharpseek_prefix_cache_disk_bytes", "gauge", "Bytes of prefix blocks on disk.", disk.Bytes);
                Metric("sharpseek_prefix_cache_disk_blocks_written_total", "counter", "Prefix blocks written to disk.", disk.BlocksWritten);
                Metric("sharpseek_prefix_cache_disk_blocks_loaded_total", "counter", "Prefix blocks loaded from disk.", disk.BlocksLoaded);
                Metric("sharpseek_prefix_cache_disk_blocks_rejected_total", "counter", "Damaged or foreign prefix block files ignored.", disk.BlocksRejected);
            }
            Metric("sharpseek_generated_tokens_total", "counter", "Tokens generated.", m.GeneratedTokens);
            Metric("sharpseek_steps_total", "counter", "Scheduler steps.", m.Steps);
            Metric("sharpseek_busy_seconds_total", "counter", "Seconds spent stepping.", m.BusySeconds);
            Metric("sharpseek_tokens_per_second", "gauge", "Generated tokens per busy second since start.", m.BusySeconds > 0 ? m.GeneratedTokens / m.BusySeconds : 0);
            // The endpoint picker's gauges (vLLM: num_requests_waiting, num_requests_running, kv_cache_usage_perc).
            Metric("sharpseek_num_requests_waiting", "gauge", "Requests waiting in the queue.", m.QueueDepth);
            Metric("sharpseek_num_requests_running", "gauge", "Requests being decoded.", m.ActiveSequences);
            long used = m.ActiveCacheBytes + s.PrefixCache.Bytes;
            Metric("sharpseek_kv_cache_usage_perc", "gauge", "KV-cache bytes in use (running sequences and prefix cache) over the budget, 0 to 1.",
                m.CacheBudgetBytes > 0 ? Math.Min(1.0, (double)used / m.CacheBudgetBytes) : 0);
            Metric("sharpseek_kv_cache_bytes", "gauge", "KV-cache bytes in use.", used);
            Metric("sharpseek_kv_cache_budget_bytes", "gauge", "KV-cache budget: parallel slots and prefix-cache entries at the full context.", m.CacheBudgetBytes);
            Metric("sharpseek_prefix_cache_hit_ratio", "gauge", "Prompt tokens served from the prefix cache over prompt tokens received, since start.", m.PrefixCacheHitRatio);
            int block = s.Options.BlockSize;
            sb.Append("# HELP sharpseek_cache_config_info Prefix-cache block size and the budget in blocks (the endpoint picker's cache-info metric).\n");
            sb.Append("# TYPE sharpseek_cache_config_info gauge\n");
            sb.Append(CultureInfo.InvariantCulture, $"sharpseek_cache_config_info{{block_size=\"{block}\",num_gpu_blocks=\"{(long)(s.Options.MaxActive + s.Options.PrefixCacheEntries) * s.ContextSize / block}\"}} 1\n");
        }
        ctx.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
        await ctx.Response.WriteAsync(sb.ToString(), ctx.RequestAborted);
    }
}
