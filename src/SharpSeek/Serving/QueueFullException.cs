namespace SharpSeek.Serving;

/// <summary>The scheduler's queue is full; the caller should retry later (HTTP 429).</summary>
public sealed class QueueFullException(int capacity) : SharpSeekException($"the server is busy: {capacity} requests are already waiting; retry later");
