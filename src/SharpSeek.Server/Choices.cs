using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Microsoft.AspNetCore.Http;
using SharpSeek.Serving;

namespace SharpSeek.Server;

/// <summary>Starts the <c>n</c> choices of a request and merges their streams, tagged with the choice index.</summary>
internal static class Choices
{
    /// <summary>
    /// Queues every choice before anything is sent, so a full queue is a clean 429 and a bad prompt a 400; the request's
    /// log line counts their tokens.
    /// </summary>
    public static List<CompletionStream> Start(HttpContext ctx, ChatPipeline pipeline, PreparedPrompt prompt, CompletionOptions options, int n)
    {
        var streams = new List<CompletionStream>(n);
        try
        {
            for (int i = 0; i < n; i++)
            {
                // Distinct seeds give distinct choices, and the same request still gives the same n answers.
                var o = i == 0 || options.Sampling.Seed is null ? options : options with { Sampling = options.Sampling with { Seed = options.Sampling.Seed + (ulong)i } };
                streams.Add(pipeline.Start(prompt, o));
            }
            RequestLog.Track(ctx, pipeline, streams);
            return streams;
        }
        catch (Exception e)
        {
            foreach (var s in streams) s.Dispose();
            throw Map(e);
        }
    }

    public static Exception Map(Exception e) => e switch
    {
        QueueFullException q => new ApiException(429, q.Message, "rate_limit_error", code: "rate_limit_exceeded"),
        PromptTooLongException p => new ApiException(400, p.Message, param: "messages", code: "context_length_exceeded"),
        SharpSeekException s => ApiException.BadRequest(s.Message),
        _ => e,
    };

    /// <summary>A prompt that could not be built: 400, with OpenAI's <c>context_length_exceeded</c> code when it is too long.</summary>
    public static ApiException BadPrompt(SharpSeekException e, string param) =>
        e is PromptTooLongException ? new ApiException(400, e.Message, param: param, code: "context_length_exceeded") : ApiException.BadRequest(e.Message, param);

    public static async IAsyncEnumerable<(int Index, CompletionChunk Chunk)> Merge(IReadOnlyList<CompletionStream> streams, [EnumeratorCancellation] CancellationToken ct)
    {
        if (streams.Count == 1)
        {
            await foreach (var c in streams[0].ReadAsync(ct)) yield return (0, c);
            yield break;
        }
        var channel = Channel.CreateUnbounded<(int, CompletionChunk)>();
        var pumps = streams.Select(async (s, i) =>
        {
            await foreach (var c in s.ReadAsync(ct)) await channel.Writer.WriteAsync((i, c), ct);
        }).ToArray();
        _ = Task.WhenAll(pumps).ContinueWith(t => channel.Writer.TryComplete(t.Exception?.InnerException), TaskScheduler.Default);
        await foreach (var item in channel.Reader.ReadAllAsync(ct)) yield return item;
    }
}
