namespace SharpSeek.Server;

/// <summary>
/// Gives the memory of large requests back to the operating system. A body of several MB becomes strings, a rendered
/// prompt and token buffers many times its size; once they are garbage nothing makes the GC run again on an idle
/// server, and a collection alone keeps the pages committed for reuse, so RSS would stay at its peak for good. When the
/// last large request in flight ends, one aggressive (decommitting) full collection runs on the thread pool. Bodies
/// under 1 MiB (every ordinary request) never trigger it.
/// </summary>
public sealed class LargeRequests
{
    private int _inFlight;
    private long _collections;

    /// <summary>Full collections run after large requests (for tests and metrics).</summary>
    public long Collections => Interlocked.Read(ref _collections);

    /// <summary>Marks a large request in flight until the returned lease is disposed (the end of the response).</summary>
    public IDisposable Enter()
    {
        Interlocked.Increment(ref _inFlight);
        return new Lease(this);
    }

    private void Exit()
    {
        if (Interlocked.Decrement(ref _inFlight) != 0) return;
        ThreadPool.UnsafeQueueUserWorkItem(static self =>
        {
            // Another large request may have started meanwhile; it will collect when it ends.
            if (Volatile.Read(ref self._inFlight) != 0) return;
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
            Interlocked.Increment(ref self._collections);
        }, this, preferLocal: false);
    }

    private sealed class Lease(LargeRequests owner) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0) owner.Exit();
        }
    }
}
