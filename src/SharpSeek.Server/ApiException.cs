namespace SharpSeek.Server;

/// <summary>A request error that becomes OpenAI's <c>{"error":{message,type,param,code}}</c> with an HTTP status.</summary>
public sealed class ApiException(int status, string message, string type = "invalid_request_error", string? param = null, string? code = null) : Exception(message)
{
    public int Status { get; } = status;
    public string Type { get; } = type;
    public string? Param { get; } = param;
    public string? Code { get; } = code;

    public static ApiException BadRequest(string message, string? param = null) => new(400, message, "invalid_request_error", param, "invalid_value");
}
