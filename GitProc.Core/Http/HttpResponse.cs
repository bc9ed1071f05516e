using System.Text;

namespace GitProc.Http;

/// <summary>An answer of <see cref="HttpEndpoint"/>: a status, a content type and a body, or a body streamed until it ends.</summary>
internal sealed record HttpResponse
{
    private const string PlainText = "text/plain; charset=utf-8";

    /// <summary>The status code and reason (<c>200 OK</c>).</summary>
    public required string Status { get; init; }

    /// <summary>The <c>Content-Type</c>.</summary>
    public required string ContentType { get; init; }

    /// <summary>The whole body; empty for a streamed one.</summary>
    public ReadOnlyMemory<byte> Body { get; init; }

    /// <summary>More headers, each ending with <c>\r\n</c>.</summary>
    public string Headers { get; init; } = "";

    /// <summary>
    /// Writes the body after the head (which then has no <c>Content-Length</c>), until it returns or its token is
    /// cancelled (the client went away, or the endpoint stops); <see langword="null"/> for a whole <see cref="Body"/>.
    /// </summary>
    public Func<HttpStream, CancellationToken, Task>? Stream { get; init; }

    /// <summary>A plain-text answer.</summary>
    public static HttpResponse Text(string status, string text, string headers = "") =>
        new() { Status = status, ContentType = PlainText, Body = Encoding.UTF8.GetBytes(text), Headers = headers };
}
