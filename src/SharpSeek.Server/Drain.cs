using System.Runtime.InteropServices;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;

namespace SharpSeek.Server;

/// <summary>
/// Graceful drain, as a load balancer or Kubernetes expects of a replica that is told to stop: <c>/ready</c> turns 503
/// at once (so it is taken out of rotation), new requests get 503 with <c>Retry-After</c>, the requests already running
/// finish within the grace period and are cancelled after it, and then the host stops.
/// </summary>
public sealed class Drain(TimeSpan grace)
{
    private readonly CancellationTokenSource _cancel = new();
    private readonly TaskCompletionSource _idle = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _inFlight;
    private int _draining;

    /// <summary>How long running requests may go on once the drain begins.</summary>
    public TimeSpan Grace { get; } = grace >= TimeSpan.Zero ? grace : throw new ArgumentOutOfRangeException(nameof(grace), "the drain time must be ≥ 0");

    public bool IsDraining => Volatile.Read(ref _draining) != 0;

    /// <summary>Requests being served now (probes and metrics not counted).</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>Requests cancelled because the grace period ran out.</summary>
    public int Cancelled { get; private set; }

    /// <summary>
    /// Counts a request in for the drain to wait on, and ties its <see cref="HttpContext.RequestAborted"/> to the end of
    /// the grace period. Null once draining: the caller answers 503.
    /// </summary>
    internal Lease? Enter(HttpContext ctx)
    {
        Interlocked.Increment(ref _inFlight);
        if (IsDraining)
        {
            Leave();
            return null;
        }
        var original = ctx.RequestAborted;
        var linked = CancellationTokenSource.CreateLinkedTokenSource(original, _cancel.Token);
        ctx.RequestAborted = linked.Token;
        return new Lease(this, linked, original);
    }

    /// <summary>What a request cut off by the drain is told (a 503 before its response starts, an error event after).</summary>
    internal static ApiException CutOffError => new(503, "the server shut down before the answer was complete; retry on another replica", "server_error", code: "server_draining");

    private void Leave()
    {
        if (Interlocked.Decrement(ref _inFlight) == 0 && IsDraining) _idle.TrySetResult();
    }

    /// <summary>
    /// Begins the drain and completes when no request is left: at once when none runs, else when the last finishes or,
    /// at the latest, shortly after the grace period (running requests are cancelled then). <paramref name="now"/>
    /// cancels them at once (a second Ctrl+C).
    /// </summary>
    public async Task RunAsync(CancellationToken now = default)
    {
        if (Interlocked.Exchange(ref _draining, 1) == 0 && InFlight == 0) _idle.TrySetResult();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(now);
        deadline.CancelAfter(Grace);
        try { await _idle.Task.WaitAsync(deadline.Token); }
        catch (OperationCanceledException)
        {
            Cancelled = InFlight;
            await _cancel.CancelAsync();
            // Cancelled requests end within a scheduler step; a handler stuck elsewhere does not hold the exit up.
            try { await _idle.Task.WaitAsync(TimeSpan.FromSeconds(5)); }
            catch (TimeoutException) { }
        }
    }

    internal sealed class Lease(Drain drain, CancellationTokenSource linked, CancellationToken client) : IDisposable
    {
        /// <summary>True when the request was cut off by the drain rather than by its client.</summary>
        public bool CutOff => drain._cancel.IsCancellationRequested && !client.IsCancellationRequested;

        public void Dispose()
        {
            linked.Dispose();
            drain.Leave();
        }
    }
}

/// <summary>
/// Takes SIGTERM, SIGINT and SIGQUIT from the host's default console lifetime: the first one drains (<see cref="Drain"/>)
/// and then stops the host; a second one cuts the drain short. The process then exits 0 as after any clean stop.
/// </summary>
internal sealed class DrainingLifetime(Drain drain, IHostApplicationLifetime app) : IHostLifetime, IDisposable
{
    private readonly List<PosixSignalRegistration> _signals = [];
    private readonly CancellationTokenSource _now = new();
    private int _signalled;

    public Task WaitForStartAsync(CancellationToken cancellationToken)
    {
        foreach (var s in new[] { PosixSignal.SIGTERM, PosixSignal.SIGINT, PosixSignal.SIGQUIT })
            _signals.Add(PosixSignalRegistration.Create(s, OnSignal));
        return Task.CompletedTask;
    }

    private void OnSignal(PosixSignalContext context)
    {
        context.Cancel = true;
        if (Interlocked.Increment(ref _signalled) == 1)
            _ = drain.RunAsync(_now.Token).ContinueWith(_ => app.StopApplication(), TaskScheduler.Default);
        else
        {
            try { _now.Cancel(); }
            catch (ObjectDisposedException) { }
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose()
    {
        foreach (var s in _signals) s.Dispose();
        _now.Dispose();
    }
}
