namespace SharpSeek.Serving;

/// <summary>Limits of a <see cref="Scheduler"/>.</summary>
public sealed record SchedulerOptions
{
    /// <summary>Sequences stepped together; more wait in the queue.</summary>
    public int MaxActive { get; init; } = 8;

    /// <summary>Sequences waiting to start; a full queue refuses new ones (HTTP 429).</summary>
    public int MaxQueue { get; init; } = 32;

    /// <summary>Prompt tokens fed per sequence and step, so a long prompt does not stall the others' decoding.</summary>
    public int PrefillChunk { get; init; } = Generation.Generator.PrefillChunk;

    /// <summary>The context each sequence may fill (prompt + completion).</summary>
    public int ContextSize { get; init; } = 4096;

    /// <summary>Prefix-cache granularity: a hit reuses whole blocks of this many tokens.</summary>
    public int BlockSize { get; init; } = 16;

    /// <summary>Finished sequences kept for prefix reuse (0 turns the prefix cache off).</summary>
    public int PrefixCacheEntries { get; init; } = 16;

    /// <summary>Where prefix blocks are saved to survive a restart (null keeps them in memory only).</summary>
    public string? PrefixCacheDirectory { get; init; }

    /// <summary>Bound of the prefix blocks on disk; the least recently used go first.</summary>
    public long PrefixCacheMaxBytes { get; init; } = 1L << 30;

    /// <summary>Speculative decoding of every sequence that does not ask otherwise (<c>--speculate</c>; <see cref="Generation.Speculation.Auto"/>: the model's default).</summary>
    public Generation.Speculation Speculation { get; init; } = Generation.Speculation.None;
}
