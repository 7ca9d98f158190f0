using System.Buffers;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace SharpSeek.Server;

/// <summary>
/// Reads request bodies leniently where clients differ (unknown fields are ignored) and strictly where a wrong
/// type would silently change the answer: a bad value is a 400 naming the parameter.
/// </summary>
internal static class RequestJson
{
    /// <summary>Bodies up to this size are read into buffers from the shared pool; larger ones into a buffer of their own.</summary>
    private const int PooledBodyBytes = 1 << 20;

    /// <summary>
    /// Reads the body as a JSON object. The body is read into one buffer of at most <see cref="ServerOptions.MaxBodyBytes"/>
    /// (more is a 413, and a declared Content-Length over the limit was refused before anything was read), checked for
    /// invalid UTF-8 and lone-surrogate escapes (400: System.Text.Json would only fail later, when a string is read),
    /// and parsed in place; the document and its buffer are released when the response ends.
    /// </summary>
    public static async Task<JsonElement> ReadObjectAsync(HttpRequest request)
    {
        long max = request.HttpContext.RequestServices.GetRequiredService<ServerOptions>().MaxBodyBytes;
        if (request.ContentLength > max) throw TooLarge(request.ContentLength.Value, max);
        int capacity = (int)Math.Min(max + 1, request.ContentLength is long declared ? declared + 1 : 16 << 10);
        byte[] buffer = Rent(capacity);
        int length = 0;
        try
        {
            var ct = request.HttpContext.RequestAborted;
            while (true)
            {
                if (length == buffer.Length)
                {
                    if (length > max) throw TooLarge(length, max);
                    var bigger = Rent((int)Math.Min(max + 1, 2L * buffer.Length));
                    buffer.AsSpan(0, length).CopyTo(bigger);
                    Return(buffer);
                    buffer = bigger;
                }
                int n = await request.Body.ReadAsync(buffer.AsMemory(length), ct);
                if (n == 0) break;
                length += n;
            }
            if (length > max) throw TooLarge(length, max);
            var json = buffer.AsMemory(0, length);
            if (Formats.StrictJson.Problem(json.Span, rejectDuplicateKeys: false) is { } problem)
                throw new ApiException(400, "the request body is not valid JSON text: " + problem, code: "invalid_json");
            JsonDocument doc;
            try { doc = JsonDocument.Parse(json); }
            catch (JsonException e) { throw new ApiException(400, "the request body is not valid JSON: " + e.Message, code: "invalid_json"); }
            byte[] owned = buffer;
            buffer = [];
            request.HttpContext.Response.RegisterForDispose(new Lease(doc, owned));
            // A large body leaves tens of MB of strings and token buffers behind; have them returned to the OS afterwards.
            if (length > PooledBodyBytes) request.HttpContext.Response.RegisterForDispose(request.HttpContext.RequestServices.GetRequiredService<LargeRequests>().Enter());
            if (doc.RootElement.ValueKind != JsonValueKind.Object) throw ApiException.BadRequest("the request body must be a JSON object");
            return doc.RootElement;
        }
        finally
        {
            Return(buffer);
        }
    }

    private static ApiException TooLarge(long bytes, long max) =>
        new(413, $"the request body is {(bytes > max ? "over " : "")}{bytes} bytes; this server accepts at most {max} bytes (--max-body-mb)", code: "request_too_large");

    private static byte[] Rent(int bytes) => bytes <= PooledBodyBytes ? ArrayPool<byte>.Shared.Rent(bytes) : GC.AllocateUninitializedArray<byte>(bytes);

    private static void Return(byte[] buffer)
    {
        if (buffer.Length is > 0 and <= PooledBodyBytes) ArrayPool<byte>.Shared.Return(buffer);
    }

    /// <summary>A parsed body and the buffer it points into, released together when the response ends.</summary>
    private sealed class Lease(JsonDocument doc, byte[] buffer) : IDisposable
    {
        public void Dispose()
        {
            doc.Dispose();
            Return(buffer);
        }
    }

    private static JsonElement? Get(JsonElement o, string name) =>
        o.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;

    public static string? String(JsonElement o, string name)
    {
        if (Get(o, name) is not { } v) return null;
        return v.ValueKind == JsonValueKind.String ? v.GetString() : throw ApiException.BadRequest($"'{name}' must be a string", name);
    }

    public static bool? Bool(JsonElement o, string name)
    {
        if (Get(o, name) is not { } v) return null;
        return v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw ApiException.BadRequest($"'{name}' must be a boolean", name),
        };
    }

    public static double? Number(JsonElement o, string name)
    {
        if (Get(o, name) is not { } v) return null;
        return v.ValueKind == JsonValueKind.Number ? v.GetDouble() : throw ApiException.BadRequest($"'{name}' must be a number", name);
    }

    public static long? Integer(JsonElement o, string name)
    {
        if (Get(o, name) is not { } v) return null;
        if (v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out long l)) return l;
        if (v.ValueKind == JsonValueKind.Number && v.TryGetDouble(out double d) && d == Math.Floor(d) && Math.Abs(d) < 9e18) return (long)d;
        throw ApiException.BadRequest($"'{name}' must be an integer", name);
    }

    public static JsonElement? Object(JsonElement o, string name)
    {
        if (Get(o, name) is not { } v) return null;
        return v.ValueKind == JsonValueKind.Object ? v : throw ApiException.BadRequest($"'{name}' must be an object", name);
    }

    public static JsonElement? Array(JsonElement o, string name)
    {
        if (Get(o, name) is not { } v) return null;
        return v.ValueKind == JsonValueKind.Array ? v : throw ApiException.BadRequest($"'{name}' must be an array", name);
    }

    /// <summary><c>stop</c>: a string or an array of strings (at most 16, DeepSeek's limit).</summary>
    public static IReadOnlyList<string> Stop(JsonElement o, string name = "stop")
    {
        if (Get(o, name) is not { } v) return [];
        if (v.ValueKind == JsonValueKind.String) return [v.GetString()!];
        if (v.ValueKind != JsonValueKind.Array) throw ApiException.BadRequest($"'{name}' must be a string or an array of strings", name);
        var list = new List<string>();
        foreach (var s in v.EnumerateArray())
            list.Add(s.ValueKind == JsonValueKind.String ? s.GetString()! : throw ApiException.BadRequest($"'{name}' must be a string or an array of strings", name));
        if (list.Count > 16) throw ApiException.BadRequest($"'{name}' has {list.Count} entries; at most 16 are allowed", name);
        return list;
    }

    /// <summary>Message content: a string, null, or an array of parts of which the text ones are joined.</summary>
    public static string? Content(JsonElement message, string name = "content")
    {
        if (Get(message, name) is not { } v) return null;
        switch (v.ValueKind)
        {
            case JsonValueKind.String:
                return v.GetString();
            case JsonValueKind.Array:
                var parts = new List<string>();
                foreach (var part in v.EnumerateArray())
                {
                    if (part.ValueKind == JsonValueKind.String) { parts.Add(part.GetString()!); continue; }
                    if (part.ValueKind != JsonValueKind.Object) throw ApiException.BadRequest("content parts must be objects", "messages");
                    string? type = String(part, "type");
                    if (type is "text" or "input_text") parts.Add(String(part, "text") ?? "");
                    else throw ApiException.BadRequest($"content part type '{type}' is not supported (text only)", "messages");
                }
                return string.Concat(parts);
            default:
                throw ApiException.BadRequest($"'{name}' must be a string or an array of parts", "messages");
        }
    }
}
