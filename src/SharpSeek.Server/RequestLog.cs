using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;
using SharpSeek.Serving;

namespace SharpSeek.Server;

/// <summary>
/// One log line per request, written when the response has ended (streams included): method, route, model, status,
/// prompt and completion tokens, milliseconds. The generating endpoints hand their streams to <see cref="Track"/>;
/// a client that hangs up is logged with nginx's status 499.
/// </summary>
internal static partial class RequestLog
{
    /// <summary>What the endpoints learn about a request while they serve it.</summary>
    private sealed class Facts
    {
        public string? Model;
        public readonly List<CompletionStream> Streams = [];
    }

    /// <summary>Records the model and the completion streams of this request, for its log line.</summary>
    public static void Track(HttpContext ctx, ChatPipeline pipeline, IEnumerable<CompletionStream> streams)
    {
        if (ctx.Features.Get<Facts>() is not { } facts) return;
        facts.Model ??= pipeline.Bundle.Name;
        facts.Streams.AddRange(streams);
    }

    /// <summary>Records the name of the model this request asked for, as it is served.</summary>
    public static void Model(HttpContext ctx, string name)
    {
        if (ctx.Features.Get<Facts>() is { } facts) facts.Model = name;
    }

    /// <summary>The middleware; outermost, so it sees the status the error handler chose.</summary>
    public static async Task Middleware(HttpContext ctx, RequestDelegate next, ILogger log)
    {
        if (!log.IsEnabled(LogLevel.Information))
        {
            await next(ctx);
            return;
        }
        var clock = Stopwatch.StartNew();
        var facts = new Facts();
        ctx.Features.Set(facts);
        try
        {
            await next(ctx);
        }
        finally
        {
            int status = ctx.RequestAborted.IsCancellationRequested ? 499 : ctx.Response.StatusCode;
            // The route template groups requests (/app/conversations/{id}); the fallback's catch-all names no route, so the path stands in.
            string route = ctx.GetEndpoint() is RouteEndpoint { RoutePattern.RawText: { } raw } && !raw.Contains('*') ? raw : ctx.Request.Path.ToString();
            int prompt = facts.Streams.Count > 0 ? facts.Streams[0].PromptTokens : 0; // n choices share one prompt
            int completion = facts.Streams.Sum(s => s.CompletionTokens);
            Served(log, ctx.Request.Method, route, facts.Model ?? "-", status, prompt, completion, Math.Round(clock.Elapsed.TotalMilliseconds, 1));
        }
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Information,
        Message = "{Method} {Route} model={Model} status={Status} prompt_tokens={PromptTokens} completion_tokens={CompletionTokens} ms={Milliseconds}")]
    private static partial void Served(ILogger log, string method, string route, string model, int status, int promptTokens, int completionTokens, double milliseconds);
}
