using Microsoft.Extensions.Time.Testing;
using SharpSeek.Serving;

namespace SharpSeek.Server.Tests;

/// <summary>
/// The pool that loads models on first use and unloads them: one load for concurrent first requests, failures reported
/// and retried, least-recently-used eviction within the count and memory bounds, models in use never unloaded, and
/// keep-alive on a fake clock.
/// </summary>
public sealed class ModelPoolTests
{
    private static readonly CatalogModel Qwen = new("qwen", Fixtures.Path("llamacpp", "models", "tiny-qwen2-f32.gguf"));
    private static readonly CatalogModel DeepSeek = new("deepseek", Fixtures.Path("llamacpp", "models", "tiny-ds2-v3-f32.gguf"));
    private static readonly CatalogModel Lite = new("lite", Fixtures.Path("llamacpp", "models", "tiny-ds2-lite-f32.gguf"));
    private static readonly SchedulerOptions Small = new() { ContextSize = 64, MaxActive = 2, PrefixCacheEntries = 2 };

    /// <summary>Loads real tiny models, counting loads per name, each after <see cref="Gate"/> opens.</summary>
    private sealed class Loader
    {
        public readonly Dictionary<string, int> Loads = [];
        public readonly List<ChatPipeline> Made = [];
        public TaskCompletionSource Gate { get; set; } = Open();
        public Func<CatalogModel, Exception?> Fail { get; set; } = _ => null;

        private static TaskCompletionSource Open()
        {
            var t = new TaskCompletionSource();
            t.SetResult();
            return t;
        }

        public ChatPipeline Load(CatalogModel m)
        {
            lock (Loads) Loads[m.Name] = Loads.GetValueOrDefault(m.Name) + 1;
            Gate.Task.Wait();
            if (Fail(m) is { } e) throw e;
            var p = new ChatPipeline(ModelBundle.Load(m.Path), Small, ownsBundle: true);
            lock (Made) Made.Add(p);
            return p;
        }
    }

    private static string[] LoadedNames(ModelPool pool) => [.. pool.Loaded.Where(m => m.Ready).Select(m => m.Model.Name).Order()];

    [Fact]
    public async Task Concurrent_first_requests_share_one_load()
    {
        var loader = new Loader { Gate = new TaskCompletionSource() };
        using var pool = new ModelPool(new ModelPoolOptions(), loader.Load);
        var leases = Enumerable.Range(0, 8).Select(_ => pool.AcquireAsync(Qwen, null, default)).ToArray();
        await Task.Delay(100);
        Assert.All(leases, l => Assert.False(l.IsCompleted));
        Assert.False(Assert.Single(pool.Loaded).Ready);
        loader.Gate.SetResult();
        var got = await Task.WhenAll(leases);
        Assert.Equal(1, loader.Loads["qwen"]);
        Assert.All(got, l => Assert.Same(got[0].Pipeline, l.Pipeline));
        Assert.Equal(8, pool.Loaded[0].InFlight);
        foreach (var l in got) l.Dispose();
        Assert.Equal(0, pool.Loaded[0].InFlight);
        Assert.Equal(1, pool.Counters("qwen").Loads);
    }

    [Fact]
    public async Task A_failed_load_reaches_every_waiter_and_the_next_request_loads_again()
    {
        var loader = new Loader { Gate = new TaskCompletionSource(), Fail = m => new SharpSeekException($"{m.Path}: truncated") };
        using var pool = new ModelPool(new ModelPoolOptions(), loader.Load);
        var waiting = Enumerable.Range(0, 4).Select(_ => pool.AcquireAsync(Qwen, null, default)).ToArray();
        loader.Gate.SetResult();
        foreach (var w in waiting)
            Assert.Contains("truncated", (await Assert.ThrowsAsync<SharpSeekException>(() => w)).Message);
        Assert.Empty(pool.Loaded);
        Assert.Equal(1, loader.Loads["qwen"]);

        loader.Fail = _ => null;
        using var lease = await pool.AcquireAsync(Qwen, null, default);
        Assert.Equal(2, loader.Loads["qwen"]);
        Assert.Equal(["qwen"], LoadedNames(pool));
    }

    [Fact]
    public async Task Past_max_loaded_the_least_recently_used_idle_model_is_unloaded()
    {
        var loader = new Loader();
        using var pool = new ModelPool(new ModelPoolOptions { MaxLoaded = 2 }, loader.Load);
        (await pool.AcquireAsync(Qwen, null, default)).Dispose();
        (await pool.AcquireAsync(DeepSeek, null, default)).Dispose();
        (await pool.AcquireAsync(Qwen, null, default)).Dispose();     // qwen is now the more recently used
        (await pool.AcquireAsync(Lite, null, default)).Dispose();
        Assert.Equal(["lite", "qwen"], LoadedNames(pool));
        Assert.Equal(1, pool.Counters("deepseek").Unloads);
        Assert.Equal(1, loader.Loads["qwen"]);
    }

    [Fact]
    public async Task A_model_in_use_is_never_unloaded_and_a_load_waits_for_a_release()
    {
        var loader = new Loader();
        using var pool = new ModelPool(new ModelPoolOptions { MaxLoaded = 2 }, loader.Load);
        var qwen = await pool.AcquireAsync(Qwen, null, default);
        var deepseek = await pool.AcquireAsync(DeepSeek, null, default);
        var lite = pool.AcquireAsync(Lite, null, default);
        await Task.Delay(200);
        Assert.False(lite.IsCompleted);
        Assert.False(loader.Loads.ContainsKey("lite"));
        // The waiting load reserved nothing: both models in use stay, and answer.
        var r = await qwen.Pipeline.CompleteAsync(qwen.Pipeline.PrepareText("hello"), new CompletionOptions { MaxTokens = 2 });
        Assert.Equal(2, r.Usage.CompletionTokens);

        deepseek.Dispose();
        using var l = await lite.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(["lite", "qwen"], LoadedNames(pool));
        qwen.Dispose();
    }

    [Fact]
    public async Task A_waiting_load_whose_requests_all_left_loads_nothing()
    {
        var loader = new Loader();
        using var pool = new ModelPool(new ModelPoolOptions { MaxLoaded = 1 }, loader.Load);
        var qwen = await pool.AcquireAsync(Qwen, null, default);
        using var gone = new CancellationTokenSource();
        var waiting = pool.AcquireAsync(DeepSeek, null, gone.Token);
        await Task.Delay(100);
        await gone.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        qwen.Dispose();
        await Task.Delay(200);
        Assert.False(loader.Loads.ContainsKey("deepseek"));
        Assert.Equal(["qwen"], LoadedNames(pool));
        // A later request for it loads it as usual.
        using var d = await pool.AcquireAsync(DeepSeek, null, default);
        Assert.Equal(["deepseek"], LoadedNames(pool));
    }

    [Fact]
    public async Task The_memory_bound_unloads_idle_models_until_the_new_one_fits()
    {
        var loader = new Loader();
        Dictionary<string, long> size;
        using (var probe = new ModelPool(new ModelPoolOptions(), loader.Load))
        {
            (await probe.AcquireAsync(Qwen, null, default)).Dispose();
            (await probe.AcquireAsync(DeepSeek, null, default)).Dispose();
            (await probe.AcquireAsync(Lite, null, default)).Dispose();
            size = probe.Loaded.ToDictionary(m => m.Model.Name, m => m.Bytes);
            Assert.Equal(size.Values.Sum(), probe.Bytes);
        }
        // Room for all but half of the smallest: the third load unloads the least recently used.
        using var pool = new ModelPool(new ModelPoolOptions { MaxLoaded = 0, MaxBytes = size["deepseek"] + size["lite"] + size["qwen"] / 2 }, loader.Load);
        (await pool.AcquireAsync(Qwen, null, default)).Dispose();
        (await pool.AcquireAsync(DeepSeek, null, default)).Dispose();
        (await pool.AcquireAsync(Lite, null, default)).Dispose();
        Assert.Equal(["deepseek", "lite"], LoadedNames(pool));
        Assert.Equal(1, pool.Counters("qwen").Unloads);
        Assert.True(pool.Bytes <= pool.Options.MaxBytes, $"{pool.Bytes} bytes loaded, bound {pool.Options.MaxBytes}");
    }

    [Fact]
    public async Task A_model_larger_than_the_memory_bound_is_refused_and_nothing_is_unloaded()
    {
        var loader = new Loader();
        long qwenFile = ModelSummary.WeightBytes(Qwen.Path);
        using var pool = new ModelPool(new ModelPoolOptions { MaxBytes = qwenFile + 1 }, loader.Load);
        // Its files fit, its KV-cache budget does not: refused once measured, and disposed.
        var e = await Assert.ThrowsAsync<ModelTooLargeException>(() => pool.AcquireAsync(Qwen, null, default));
        Assert.Contains("qwen", e.Message);
        Assert.Contains("--max-memory-gb", e.Message);
        Assert.Empty(pool.Loaded);
        Assert.Equal(0, pool.Bytes);
        // Its files alone are too large: refused before loading.
        using var tiny = new ModelPool(new ModelPoolOptions { MaxBytes = 1000 }, loader.Load);
        await Assert.ThrowsAsync<ModelTooLargeException>(() => tiny.AcquireAsync(DeepSeek, null, default));
        Assert.False(loader.Loads.ContainsKey("deepseek"));
    }

    [Fact]
    public async Task Keep_alive_unloads_an_idle_model_when_it_runs_out()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        using var pool = new ModelPool(new ModelPoolOptions { KeepAlive = KeepAlive.For(TimeSpan.FromMinutes(5)) }, new Loader().Load, time: time);
        (await pool.AcquireAsync(Qwen, null, default)).Dispose();
        Assert.Equal(time.GetUtcNow() + TimeSpan.FromMinutes(5), pool.Loaded.Single().ExpiresAt);
        time.Advance(TimeSpan.FromMinutes(4));
        Assert.Equal(["qwen"], LoadedNames(pool));
        time.Advance(TimeSpan.FromMinutes(2));
        Assert.Empty(pool.Loaded);

        // A request's keep_alive replaces the default: -1 stays, 0 unloads as soon as the request ends.
        (await pool.AcquireAsync(Qwen, KeepAlive.Forever, default)).Dispose();
        Assert.Null(pool.Loaded.Single().ExpiresAt);
        time.Advance(TimeSpan.FromDays(30));
        Assert.Equal(["qwen"], LoadedNames(pool));
        var held = await pool.AcquireAsync(Qwen, KeepAlive.For(TimeSpan.Zero), default);
        var other = await pool.AcquireAsync(Qwen, null, default);
        held.Dispose();
        Assert.Equal(["qwen"], LoadedNames(pool));   // still in use by the other request
        other.Dispose();
        Assert.Empty(pool.Loaded);
        Assert.Equal(2, pool.Counters("qwen").Unloads);

        // A model in use does not expire; its keep-alive counts from its last request's end.
        var busy = await pool.AcquireAsync(Qwen, KeepAlive.For(TimeSpan.FromSeconds(10)), default);
        time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(["qwen"], LoadedNames(pool));
        busy.Dispose();
        time.Advance(TimeSpan.FromSeconds(9));
        Assert.Equal(["qwen"], LoadedNames(pool));
        time.Advance(TimeSpan.FromSeconds(2));
        Assert.Empty(pool.Loaded);
    }

    [Fact]
    public async Task Unload_frees_an_idle_model_at_once_and_a_busy_one_after_its_requests()
    {
        using var pool = new ModelPool(new ModelPoolOptions(), new Loader().Load);
        (await pool.AcquireAsync(Qwen, null, default)).Dispose();
        Assert.True(pool.Unload("qwen"));
        Assert.Empty(pool.Loaded);
        Assert.False(pool.Unload("qwen"));

        var busy = await pool.AcquireAsync(Qwen, null, default);
        Assert.True(pool.Unload("QWEN"));
        Assert.Equal(["qwen"], LoadedNames(pool));
        busy.Dispose();
        Assert.Empty(pool.Loaded);
    }

    [Theory]
    [InlineData("5m", 300.0)]
    [InlineData("1h30m", 5400.0)]
    [InlineData("1.5h", 5400.0)]
    [InlineData("300ms", 0.3)]
    [InlineData("0", 0.0)]
    [InlineData("10", 10.0)]
    [InlineData("-1", null)]
    [InlineData("-1m", null)]
    [InlineData("24h", 86400.0)]
    public void Keep_alive_reads_go_durations_and_seconds(string text, double? seconds)
    {
        var k = KeepAlive.TryParse(text, out string? why);
        Assert.Null(why);
        Assert.Equal(seconds, k!.Value.Duration?.TotalSeconds);
    }

    [Theory]
    [InlineData("5 minutes")]
    [InlineData("m")]
    [InlineData("")]
    [InlineData("10d")]
    public void Keep_alive_refuses_what_is_not_a_duration(string text)
    {
        Assert.Null(KeepAlive.TryParse(text, out string? why));
        Assert.False(string.IsNullOrEmpty(why));
    }
}
