namespace SharpSeek.Threading;

/// <summary>One unit of parallel work: executes item <paramref name="index"/> of a batch on worker <paramref name="worker"/>.</summary>
public interface IParallelWork
{
    void Execute(int index, int worker);
}

/// <summary>
/// Persistent worker threads for the engine's data-parallel kernels. Callers pass a reusable work object,
/// so dispatching allocates nothing. Items are claimed with one compare-and-swap on a (generation, next item)
/// word, and the caller works too and waits only for items actually claimed: a worker the OS has not
/// scheduled yet never holds up a kernel (this machine is often shared). Workers spin briefly between
/// kernels, since a decode step issues hundreds of small ones back to back, then sleep.
/// </summary>
public sealed class WorkerPool : IDisposable
{
    private static readonly Lazy<WorkerPool> SharedPool = new(() => new WorkerPool(DefaultThreadCount()));

    [ThreadStatic] private static bool _insideWork;

    private readonly Thread[] _threads;
    private readonly object _callGate = new();
    private readonly object _wake = new();
    private readonly float[][] _scratch;
    private IParallelWork? _work;
    private int _count;
    private long _state;        // generation << 32 | next item
    private int _done;
    private int _sleepers;
    private volatile bool _disposed;
    private Exception? _failure;

    public WorkerPool(int threads)
    {
        if (threads < 1) throw new ArgumentOutOfRangeException(nameof(threads), "at least one thread is needed");
        ThreadCount = threads;
        _scratch = new float[threads][];
        for (int i = 0; i < threads; i++) _scratch[i] = [];
        _threads = new Thread[threads - 1];
        for (int i = 0; i < _threads.Length; i++)
        {
            int worker = i + 1;
            _threads[i] = new Thread(() => WorkerLoop(worker)) { IsBackground = true, Name = $"sharpseek-worker-{worker}" };
            _threads[i].Start();
        }
    }

    /// <summary>The process-wide pool: one thread per core, or <c>SHARPSEEK_THREADS</c>.</summary>
    public static WorkerPool Shared => SharedPool.Value;

    /// <summary>Threads that execute work, the calling thread included.</summary>
    public int ThreadCount { get; }

    public static int DefaultThreadCount()
    {
        string? env = Environment.GetEnvironmentVariable("SHARPSEEK_THREADS");
        if (env is not null && int.TryParse(env, out int n) && n > 0) return n;
        return Math.Max(1, Environment.ProcessorCount);
    }

    /// <summary>Per-worker scratch of at least <paramref name="length"/> floats; grows rarely, never shrinks.</summary>
    public float[] Scratch(int worker, int length)
    {
        var s = _scratch[worker];
        if (s.Length < length) _scratch[worker] = s = new float[Math.Max(length, s.Length * 2)];
        return s;
    }

    /// <summary>Runs items 0..count-1 of <paramref name="work"/> and returns when all are done.</summary>
    /// <param name="parallel">False runs everything on the calling thread (work too small to be worth a hand-off).</param>
    public void For(int count, IParallelWork work, bool parallel = true)
    {
        if (count <= 0) return;
        // An item that dispatched again would share scratch with the worker it runs on; kernels never nest.
        if (_insideWork) throw new InvalidOperationException("parallel kernels cannot be nested");
        lock (_callGate)
        {
            if (!parallel || count == 1 || _threads.Length == 0)
            {
                _insideWork = true;
                try { for (int i = 0; i < count; i++) work.Execute(i, 0); }
                finally { _insideWork = false; }
                return;
            }
            _work = work;
            _count = count;
            _failure = null;
            Volatile.Write(ref _done, 0);
            long gen = (Volatile.Read(ref _state) >> 32) + 1;
            Volatile.Write(ref _state, gen << 32);
            if (Volatile.Read(ref _sleepers) > 0)
                lock (_wake) Monitor.PulseAll(_wake);
            RunItems(0, gen);
            var spin = new SpinWait();
            while (Volatile.Read(ref _done) < count) spin.SpinOnce(sleep1Threshold: -1);
            _work = null;
            if (_failure is { } f) throw new AggregateException("a parallel kernel failed", f);
        }
    }

    private void RunItems(int worker, long gen)
    {
        _insideWork = true;
        // Items done are counted here and published once: a shared counter bumped per item bounces between cores.
        int done = 0;
        try
        {
            while (true)
            {
                long s = Volatile.Read(ref _state);
                if (s >> 32 != gen) return;
                int i = (int)(s & 0xFFFFFFFF);
                var work = _work;
                int count = _count;
                if (i >= count || work is null) return;
                if (Interlocked.CompareExchange(ref _state, s + 1, s) != s) continue;
                try { work.Execute(i, worker); }
                catch (Exception e) { _failure ??= e; }
                finally { done++; }
            }
        }
        finally
        {
            if (done > 0) Interlocked.Add(ref _done, done);
            _insideWork = false;
        }
    }

    private void WorkerLoop(int worker)
    {
        long seen = 0;
        while (!_disposed)
        {
            long gen = Volatile.Read(ref _state) >> 32;
            if (gen == seen)
            {
                // Spin ~tens of microseconds: the next kernel of a decode step usually follows at once.
                for (int spins = 0; spins < 2000 && gen == seen; spins++)
                {
                    Thread.SpinWait(10);
                    gen = Volatile.Read(ref _state) >> 32;
                }
                if (gen == seen)
                {
                    lock (_wake)
                    {
                        Interlocked.Increment(ref _sleepers);
                        while ((gen = Volatile.Read(ref _state) >> 32) == seen && !_disposed) Monitor.Wait(_wake, 50);
                        Interlocked.Decrement(ref _sleepers);
                    }
                }
            }
            if (_disposed) return;
            seen = gen;
            RunItems(worker, gen);
        }
    }

    public void Dispose()
    {
        _disposed = true;
        lock (_wake) Monitor.PulseAll(_wake);
    }
}
