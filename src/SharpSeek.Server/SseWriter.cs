using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace SharpSeek.Server;

/// <summary>
/// Writes JSON events: SSE (<c>data: …\n\n</c>, OpenAI) or NDJSON (one object per line, Ollama), flushed one by one.
/// </summary>
/// <remarks>
/// A cancellation token is checked between events and never handed to Kestrel's write or flush: Kestrel aborts the
/// whole connection when a pending write is cancelled through its token (the response's framing is then unknown), so a
/// request cut off mid-write reached its client as a connection reset rather than an error event. A client that stops
/// reading is still cut off, by Kestrel's minimum response data rate.
/// </remarks>
internal sealed class SseWriter(HttpResponse response, bool ndjson = false)
{
    public static readonly JsonWriterOptions JsonOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly ArrayBufferWriter<byte> _buffer = new(4096);

    public void Start()
    {
        response.StatusCode = 200;
        response.ContentType = ndjson ? "application/x-ndjson" : "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        // Proxies such as nginx would otherwise buffer the stream.
        response.Headers["X-Accel-Buffering"] = "no";
    }

    public async Task WriteAsync(Action<Utf8JsonWriter> write, CancellationToken ct)
    {
        _buffer.ResetWrittenCount();
        if (!ndjson) _buffer.Write("data: "u8);
        using (var w = new Utf8JsonWriter(_buffer, JsonOptions)) write(w);
        _buffer.Write(ndjson ? "\n"u8 : "\n\n"u8);
        ct.ThrowIfCancellationRequested();
        await response.Body.WriteAsync(_buffer.WrittenMemory, CancellationToken.None);
        await response.Body.FlushAsync(CancellationToken.None);
    }

    public async Task DoneAsync(CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        await response.Body.WriteAsync("data: [DONE]\n\n"u8.ToArray(), CancellationToken.None);
        await response.Body.FlushAsync(CancellationToken.None);
    }

    /// <summary>Ends a started stream with an error: OpenAI's <c>data: {"error":{…}}</c>, or Ollama's <c>{"error":"…"}</c> line.</summary>
    public Task ErrorAsync(ApiException error, CancellationToken ct) => ndjson
        ? WriteAsync(w => { w.WriteStartObject(); w.WriteString("error", error.Message); w.WriteEndObject(); }, ct)
        : WriteAsync(w => OpenAiJson.Error(w, error), ct);

    /// <summary>Writes a whole JSON response (non-streaming).</summary>
    public static async Task JsonAsync(HttpResponse response, Action<Utf8JsonWriter> write, int status = 200, CancellationToken? ct = null)
    {
        var buffer = new ArrayBufferWriter<byte>(4096);
        using (var w = new Utf8JsonWriter(buffer, JsonOptions)) write(w);
        response.StatusCode = status;
        response.ContentType = "application/json";
        (ct ?? response.HttpContext.RequestAborted).ThrowIfCancellationRequested();
        await response.Body.WriteAsync(buffer.WrittenMemory, CancellationToken.None);
    }
}
