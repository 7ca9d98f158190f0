namespace SharpSeek.Threading;

/// <summary>One unit of parallel work: executes item <paramref name="index"/> of a batch on worker <paramref name="worker"/>.</summary>
public interface IParallelWork
{
    void Execute(int index, int worker);
}

/// <summary>
/// Persistent worker threads for the engine's data-parallel kernels. Callers pass a reusable work object,
/// so dispatching allocates nothing; items are claimed with an atomic counter, which balances uneven rows.
/// Workers spin briefly between operations because a decode step issues hundreds of small ones back to back.
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
    private int _next;
    private int _active;
    private long _generation;
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

    /// <summary>Runs items 0..count-1 of <paramref name="work"/> across the pool and returns when all are done.</summary>
    public void For(int count, IParallelWork work)
    {
        if (count <= 0) return;
        if (count == 1 || _threads.Length == 0 || _insideWork)
        {
            // Nested or trivial: run inline on worker 0's scratch only when we own the pool; otherwise use a private slot.
            bool outer = !_insideWork;
            if (outer) Monitor.Enter(_callGate);
            try
            {
                for (int i = 0; i < count; i++) work.Execute(i, 0);
            }
            finally
            {
                if (outer) Monitor.Exit(_callGate);
            }
            return;
        }

        lock (_callGate)
        {
            _work = work;
            _count = count;
            _next = 0;
            _failure = null;
            Volatile.Write(ref _active, _threads.Length);
            lock (_wake)
            {
                Interlocked.Increment(ref _generation);
                Monitor.PulseAll(_wake);
            }
            RunItems(0);
            var spin = new SpinWait();
            while (Volatile.Read(ref _active) != 0) spin.SpinOnce(sleep1Threshold: -1);
            _work = null;
            if (_failure is { } f) throw new AggregateException("a parallel kernel failed", f);
        }
    }

    private void RunItems(int worker)
    {
        var work = _work!;
        _insideWork = true;
        try
        {
            while (true)
            {
                int i = Interlocked.Increment(ref _next) - 1;
                if (i >= _count) break;
                work.Execute(i, worker);
            }
        }
        catch (Exception e)
        {
            _failure = e;
            Volatile.Write(ref _next, int.MaxValue / 2);
        }
        finally
        {
            _insideWork = false;
        }
    }

    private void WorkerLoop(int worker)
    {
        long seen = 0;
        while (true)
        {
            long gen = Volatile.Read(ref _generation);
            if (gen == seen)
            {
                for (int spins = 0; spins < 20000 && gen == seen; spins++)
                {
                    Thread.SpinWait(20);
                    gen = Volatile.Read(ref _generation);
                }
                if (gen == seen)
                {
                    lock (_wake)
                    {
                        while ((gen = Volatile.Read(ref _generation)) == seen && !_disposed) Monitor.Wait(_wake);
                    }
                }
            }
            if (_disposed) return;
            seen = gen;
            RunItems(worker);
            Interlocked.Decrement(ref _active);
        }
    }

    public void Dispose()
    {
        _disposed = true;
        lock (_wake) Monitor.PulseAll(_wake);
    }
}
