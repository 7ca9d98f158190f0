using System.Threading.Channels;
using SharpSeek.Generation;

namespace SharpSeek.Serving;

/// <summary>
/// A submitted sequence as its caller sees it: the tokens as they come, then the finish reason and counts.
/// Cancelling (or disposing) frees its place at the next scheduler step.
/// </summary>
public sealed class SequenceHandle : IDisposable
{
    private readonly Channel<GeneratedToken> _tokens = Channel.CreateUnbounded<GeneratedToken>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private volatile bool _cancelled;

    internal SequenceHandle(SequenceRequest request) => Request = request;

    public SequenceRequest Request { get; }

    /// <summary>Generated tokens; the reader completes when the sequence ends (with the error if it failed).</summary>
    public ChannelReader<GeneratedToken> Tokens => _tokens.Reader;

    /// <summary>Why the sequence ended; set before <see cref="Tokens"/> completes.</summary>
    public FinishReason FinishReason { get; internal set; } = FinishReason.Length;

    /// <summary>Prompt tokens taken from the prefix cache instead of being computed.</summary>
    public int CachedTokens { get; internal set; }

    public bool IsCancelled => _cancelled;

    /// <summary>Stops the sequence; the scheduler drops it before its next step.</summary>
    public void Cancel() => _cancelled = true;

    internal ChannelWriter<GeneratedToken> Writer => _tokens.Writer;

    public void Dispose() => Cancel();
}
