using System.Runtime.CompilerServices;

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
public sealed unsafe class WorkerPool : IDisposable
{
    private static readonly Lazy<WorkerPool> SharedPool = new(() => new WorkerPool(DefaultThreadCount()));

    [ThreadStatic] private static bool _insideWork;

    private readonly Thread[] _threads;
    private readonly object _callGate = new();
    private readonly object _wake = new();
    private readonly float[][] _scratch;
    private readonly List<object>[] _locals;
    private IParallelWork? _work;
    private delegate*<void*, int, int, void> _run;   // a struct work's Execute, and the work itself (on the caller's stack)
    private void* _arg;
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
        _locals = new List<object>[threads];
        for (int i = 0; i < threads; i++) { _scratch[i] = []; _locals[i] = []; }
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

    /// <summary>
    /// Worker <paramref name="worker"/>'s own instance of <typeparamref name="T"/> (a reusable buffer such as quantized activations),
    /// made on first use; items running on different workers never share one.
    /// </summary>
    public T Local<T>(int worker) where T : class, new()
    {
        var slots = _locals[worker];
        foreach (var o in slots)
            if (o is T t) return t;
        var made = new T();
        slots.Add(made);
        return made;
    }

    /// <summary>Runs items 0..count-1 of <paramref name="work"/> and returns when all are done.</summary>
    /// <param name="parallel">False runs everything on the calling thread (work too small to be worth a hand-off).</param>
    public void For(int count, IParallelWork work, bool parallel = true) => Dispatch(count, work, null, null, parallel);

    /// <summary>
    /// Runs items 0..count-1 of a kernel operation held in a struct: the operation's arguments live in <paramref name="work"/>,
    /// a local of the caller (which waits here until every item is done), so dispatching allocates nothing and no work object
    /// keeps state between calls. Pass a local, never a field of a heap object (the workers read it through its address).
    /// </summary>
    public void For<T>(int count, ref T work, bool parallel = true) where T : struct, IParallelWork
    {
        if (!parallel || count == 1 || _threads.Length == 0)
        {
            if (count <= 0) return;
            if (_insideWork) throw new InvalidOperationException("parallel kernels cannot be nested");
            lock (_callGate)
            {
                _insideWork = true;
                try { for (int i = 0; i < count; i++) work.Execute(i, 0); }
                finally { _insideWork = false; }
            }
            return;
        }
        Dispatch(count, null, &Run<T>, Unsafe.AsPointer(ref work), parallel);
    }

    private static void Run<T>(void* work, int index, int worker) where T : struct, IParallelWork => Unsafe.AsRef<T>(work).Execute(index, worker);

    private void Dispatch(int count, IParallelWork? work, delegate*<void*, int, int, void> run, void* arg, bool parallel)
    {
        if (count <= 0) return;
        // An item that dispatched again would share scratch with the worker it runs on; kernels never nest.
        if (_insideWork) throw new InvalidOperationException("parallel kernels cannot be nested");
        lock (_callGate)
        {
            if (!parallel || count == 1 || _threads.Length == 0)
            {
                _insideWork = true;
                try { for (int i = 0; i < count; i++) Execute(work, run, arg, i, 0); }
                finally { _insideWork = false; }
                return;
            }
            _work = work;
            _run = run;
            _arg = arg;
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
            _run = null;
            _arg = null;
            if (_failure is { } f) throw new AggregateException("a parallel kernel failed", f);
        }
    }

    private static void Execute(IParallelWork? work, delegate*<void*, int, int, void> run, void* arg, int index, int worker)
    {
        if (work is not null) work.Execute(index, worker);
        else run(arg, index, worker);
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
                var run = _run;
                void* arg = _arg;
                int count = _count;
                if (i >= count || (work is null && run == null)) return;
                if (Interlocked.CompareExchange(ref _state, s + 1, s) != s) continue;
                try { Execute(work, run, arg, i, worker); }
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
