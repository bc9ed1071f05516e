namespace GitProc.Http;

/// <summary>What <see cref="HttpEndpoint"/> reads of a request: its method, path, query and <c>Host</c> header.</summary>
/// <param name="Method"><c>GET</c> or <c>HEAD</c> by the time a handler sees it.</param>
/// <param name="Path">The target up to <c>?</c>, still percent-encoded.</param>
/// <param name="Query">The target after <c>?</c>, or empty.</param>
/// <param name="Host">The <c>Host</c> header, or <see langword="null"/> when there is none.</param>
internal sealed record HttpRequest(string Method, string Path, string Query, string? Host)
{
    /// <summary>A <c>HEAD</c> request: the answer's head only.</summary>
    public bool IsHead => Method == "HEAD";
}
