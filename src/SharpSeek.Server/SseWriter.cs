using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace SharpSeek.Server;

/// <summary>Writes JSON events: SSE (<c>data: …\n\n</c>, OpenAI) or NDJSON (one object per line, Ollama), flushed one by one.</summary>
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
        await response.Body.WriteAsync(_buffer.WrittenMemory, ct);
        await response.Body.FlushAsync(ct);
    }

    public async Task DoneAsync(CancellationToken ct)
    {
        await response.Body.WriteAsync("data: [DONE]\n\n"u8.ToArray(), ct);
        await response.Body.FlushAsync(ct);
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
        await response.Body.WriteAsync(buffer.WrittenMemory, ct ?? response.HttpContext.RequestAborted);
    }
}
