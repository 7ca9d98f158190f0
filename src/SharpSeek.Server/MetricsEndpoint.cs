using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace SharpSeek.Server;

/// <summary>
/// <c>GET /metrics</c>: Prometheus text format. The <c>sharpseek_num_requests_*</c>, <c>sharpseek_kv_cache_usage_perc</c> and
/// <c>sharpseek_cache_config_info</c> series follow the model-server protocol of the Gateway API Inference Extension
/// (vLLM's semantics under our names), so its endpoint picker can score replicas by them (README, "Scaling out").
/// Unlabelled series are the server's totals over all its models (counters include models since unloaded, so they never
/// go down); the <c>sharpseek_model_*</c> series carry a <c>model</c> label, one per model the server has.
/// </summary>
internal static class MetricsEndpoint
{
    public static async Task Handle(HttpContext ctx, ModelHost host, Drain drain)
    {
        var sb = new StringBuilder();
        void Head(string name, string type, string help)
        {
            sb.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n');
            sb.Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');
        }
        void Value(string name, string? model, double value)
        {
            sb.Append(name);
            if (model is not null) sb.Append("{model=\"").Append(model.Replace("\\", "\\\\").Replace("\"", "\\\"")).Append("\"}");
            sb.Append(' ').Append(value.ToString("R", CultureInfo.InvariantCulture)).Append('\n');
        }
        void Metric(string name, string type, string help, double value)
        {
            Head(name, type, help);
            Value(name, null, value);
        }

        var loaded = host.Pool.Loaded;
        var live = loaded.Where(m => m.Ready && m.Pipeline is not null).Select(m => m.Pipeline!).ToList();
        var names = host.Catalog.Models.Select(m => m.Name).ToList();
        var counters = names.ToDictionary(n => n, host.Pool.Counters);
        var total = counters.Values.Aggregate(new ModelCounters(), (a, c) => a with
        {
            Loads = a.Loads + c.Loads, Unloads = a.Unloads + c.Unloads, Requests = a.Requests + c.Requests, Completed = a.Completed + c.Completed,
            Cancelled = a.Cancelled + c.Cancelled, Rejected = a.Rejected + c.Rejected, PromptTokens = a.PromptTokens + c.PromptTokens,
            CachedTokens = a.CachedTokens + c.CachedTokens, CopiedTokens = a.CopiedTokens + c.CopiedTokens, GeneratedTokens = a.GeneratedTokens + c.GeneratedTokens, DraftTokens = a.DraftTokens + c.DraftTokens, AcceptedTokens = a.AcceptedTokens + c.AcceptedTokens, Steps = a.Steps + c.Steps,
            BusySeconds = a.BusySeconds + c.BusySeconds, DiskBlocksWritten = a.DiskBlocksWritten + c.DiskBlocksWritten,
            DiskBlocksLoaded = a.DiskBlocksLoaded + c.DiskBlocksLoaded, DiskBlocksRejected = a.DiskBlocksRejected + c.DiskBlocksRejected,
        });

        Metric("sharpseek_model_loaded", "gauge", host.IsSingle ? "1 once the model is loaded." : "Models loaded now.", live.Count);
        Metric("sharpseek_models_available", "gauge", "Models the server can load by name.", names.Count);
        Metric("sharpseek_models_bytes", "gauge", "Memory the loaded models take: weights and KV-cache budgets.", host.Pool.Bytes);
        Metric("sharpseek_models_max_bytes", "gauge", "The bound on sharpseek_models_bytes (--max-memory-gb; 0: none).", host.Pool.Options.MaxBytes);
        Metric("sharpseek_models_max_loaded", "gauge", "The bound on models loaded at once (--max-loaded; 0: none).", host.IsSingle ? 1 : host.Pool.Options.MaxLoaded);
        Metric("sharpseek_models_loads_total", "counter", "Model loads.", total.Loads);
        Metric("sharpseek_models_unloads_total", "counter", "Model unloads (keep-alive ran out, made room for another, or asked to).", total.Unloads);
        Metric("sharpseek_draining", "gauge", "1 once a drain (SIGTERM) has begun.", drain.IsDraining ? 1 : 0);
        Metric("sharpseek_requests_in_flight", "gauge", "HTTP requests being served (probes and metrics not counted).", drain.InFlight);
        if (host.IsReady)
        {
            var metrics = live.Select(p => p.Scheduler.Metrics).ToList();
            int waiting = metrics.Sum(m => m.QueueDepth), running = metrics.Sum(m => m.ActiveSequences);
            Metric("sharpseek_requests_total", "counter", "Sequences submitted.", total.Requests);
            Metric("sharpseek_requests_completed_total", "counter", "Sequences that ran to their end.", total.Completed);
            Metric("sharpseek_requests_cancelled_total", "counter", "Sequences cancelled (client gone, stop string).", total.Cancelled);
            Metric("sharpseek_requests_rejected_total", "counter", "Requests refused with 429 because the queue was full.", total.Rejected);
            Metric("sharpseek_queue_depth", "gauge", "Sequences waiting to start.", waiting);
            Metric("sharpseek_active_sequences", "gauge", "Sequences being decoded.", running);
            Metric("sharpseek_prompt_tokens_total", "counter", "Prompt tokens received.", total.PromptTokens);
            Metric("sharpseek_prefix_cache_hit_tokens_total", "counter", "Prompt tokens served from the prefix cache.", total.CachedTokens);
            Metric("sharpseek_prefix_cache_entries", "gauge", "Sequences kept for prefix reuse.", live.Sum(p => p.Scheduler.PrefixCache.Count));
            Metric("sharpseek_prefix_cache_copied_tokens_total", "counter", "Cached prefix tokens copied for a sequence while their entry stayed cached (shared prefixes).",
                total.CopiedTokens);
            var disks = live.Select(p => p.Scheduler.PrefixCache.Disk).OfType<Serving.PrefixBlockStore>().ToList();
            if (disks.Count > 0 || total.DiskBlocksWritten > 0)
            {
                Metric("sharpseek_prefix_cache_disk_bytes", "gauge", "Bytes of prefix blocks on disk.", disks.Sum(d => d.Bytes));
                Metric("sharpseek_prefix_cache_disk_blocks_written_total", "counter", "Prefix blocks written to disk.", total.DiskBlocksWritten);
                Metric("sharpseek_prefix_cache_disk_blocks_loaded_total", "counter", "Prefix blocks loaded from disk.", total.DiskBlocksLoaded);
                Metric("sharpseek_prefix_cache_disk_blocks_rejected_total", "counter", "Damaged or foreign prefix block files ignored.", total.DiskBlocksRejected);
            }
            Metric("sharpseek_generated_tokens_total", "counter", "Tokens generated.", total.GeneratedTokens);
            Metric("sharpseek_steps_total", "counter", "Scheduler steps.", total.Steps);
            Metric("sharpseek_busy_seconds_total", "counter", "Seconds spent stepping.", total.BusySeconds);
            Metric("sharpseek_tokens_per_second", "gauge", "Generated tokens per busy second since start.", total.BusySeconds > 0 ? total.GeneratedTokens / total.BusySeconds : 0);
            // The endpoint picker's gauges (vLLM: num_requests_waiting, num_requests_running, kv_cache_usage_perc), over every loaded model.
            Metric("sharpseek_num_requests_waiting", "gauge", "Requests waiting in the queue.", waiting);
            Metric("sharpseek_num_requests_running", "gauge", "Requests being decoded.", running);
            long used = metrics.Sum(m => m.ActiveCacheBytes) + live.Sum(p => p.Scheduler.PrefixCache.Bytes);
            long budget = metrics.Sum(m => m.CacheBudgetBytes);
            Metric("sharpseek_speculative_draft_tokens_total", "counter", "Tokens drafted for speculative decoding (--speculate).", total.DraftTokens);
            Metric("sharpseek_speculative_accepted_tokens_total", "counter", "Drafted tokens the model accepted.", total.AcceptedTokens);
            Metric("sharpseek_speculative_accept_rate", "gauge", "Accepted ÷ drafted tokens since start (0 before any draft).", total.DraftTokens > 0 ? (double)total.AcceptedTokens / total.DraftTokens : 0);
            Metric("sharpseek_kv_cache_usage_perc", "gauge", "KV-cache bytes in use (running sequences and prefix cache) over the budget, 0 to 1.",
                budget > 0 ? Math.Min(1.0, (double)used / budget) : 0);
            Metric("sharpseek_kv_cache_bytes", "gauge", "KV-cache bytes in use.", used);
            Metric("sharpseek_kv_cache_budget_bytes", "gauge", "KV-cache budget: parallel slots and prefix-cache entries at the full context.", budget);
            Metric("sharpseek_prefix_cache_hit_ratio", "gauge", "Prompt tokens served from the prefix cache over prompt tokens received, since start.",
                total.PromptTokens > 0 ? (double)total.CachedTokens / total.PromptTokens : 0);
            int block = host.BlockSize;
            long blocks = live.Sum(p => (long)(p.Scheduler.Options.MaxActive + p.Scheduler.Options.PrefixCacheEntries) * p.Scheduler.ContextSize / block);
            sb.Append("# HELP sharpseek_cache_config_info Prefix-cache block size and the budget in blocks (the endpoint picker's cache-info metric).\n");
            sb.Append("# TYPE sharpseek_cache_config_info gauge\n");
            sb.Append(CultureInfo.InvariantCulture, $"sharpseek_cache_config_info{{block_size=\"{block}\",num_gpu_blocks=\"{blocks}\"}} 1\n");
        }

        // One series per model, loaded or not.
        var byName = loaded.ToDictionary(m => m.Model.Name, StringComparer.OrdinalIgnoreCase);
        void PerModel(string name, string type, string help, Func<string, double> value)
        {
            Head(name, type, help);
            foreach (string n in names) Value(name, n, value(n));
        }
        LoadedModel? At(string n) => byName.GetValueOrDefault(n);
        PerModel("sharpseek_model_resident", "gauge", "1 while the model is loaded, 0 while it loads or is not loaded.", n => At(n) is { Ready: true } ? 1 : 0);
        PerModel("sharpseek_model_loading", "gauge", "1 while the model loads.", n => At(n) is { Ready: false } ? 1 : 0);
        PerModel("sharpseek_model_memory_bytes", "gauge", "Memory the model takes while loaded: weights and KV-cache budget.", n => At(n)?.Bytes ?? 0);
        PerModel("sharpseek_model_requests_held", "gauge", "Requests holding the model (it is not unloaded while any does).", n => At(n)?.InFlight ?? 0);
        PerModel("sharpseek_model_requests_waiting", "gauge", "The model's sequences waiting in its queue.", n => At(n)?.Pipeline?.Scheduler.Metrics.QueueDepth ?? 0);
        PerModel("sharpseek_model_requests_running", "gauge", "The model's sequences being decoded.", n => At(n)?.Pipeline?.Scheduler.Metrics.ActiveSequences ?? 0);
        PerModel("sharpseek_model_expires_seconds", "gauge", "Seconds until the idle model is unloaded (-1: in use, loading, not loaded, or kept).",
            n => At(n)?.ExpiresAt is { } e ? Math.Max(0, (e - DateTimeOffset.UtcNow).TotalSeconds) : -1);
        PerModel("sharpseek_model_loads_total", "counter", "Loads of the model.", n => counters[n].Loads);
        PerModel("sharpseek_model_unloads_total", "counter", "Unloads of the model.", n => counters[n].Unloads);
        PerModel("sharpseek_model_load_seconds", "gauge", "How long the model's last load took.", n => counters[n].LastLoadSeconds);
        PerModel("sharpseek_model_requests_total", "counter", "The model's sequences submitted.", n => counters[n].Requests);
        PerModel("sharpseek_model_prompt_tokens_total", "counter", "The model's prompt tokens.", n => counters[n].PromptTokens);
        PerModel("sharpseek_model_prefix_cache_hit_tokens_total", "counter", "The model's prompt tokens served from its prefix cache.", n => counters[n].CachedTokens);
        PerModel("sharpseek_model_generated_tokens_total", "counter", "Tokens the model generated.", n => counters[n].GeneratedTokens);
        ctx.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
        await ctx.Response.WriteAsync(sb.ToString(), ctx.RequestAborted);
    }
}
