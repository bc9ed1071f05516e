using System.Text.Json.Serialization.Metadata;

namespace GitProc.Ipc;

/// <summary>What a command produced: data to serialize with its type info, or an error message.</summary>
/// <param name="Data">The success data.</param>
/// <param name="TypeInfo">How to serialize <paramref name="Data"/>; <see langword="null"/> for an error.</param>
/// <param name="Error">The error message, for an error.</param>
/// <param name="Code">The error's code (<see cref="GitProcErrorCodes"/>), for an error.</param>
/// <param name="Stream">
/// For a streaming command (<c>logs</c> with <c>follow</c>): the further replies, sent one a line after this one until
/// the client closes the connection or the stream ends. A streaming connection serves no further request and is never
/// closed as idle.
/// </param>
/// <param name="AfterSent">Run once this reply has been sent (flushed): <c>reexec</c> answers before the daemon re-executes.</param>
/// <param name="Line">A line sent as it is, without the response envelope (an event of <c>subscribe</c>).</param>
internal readonly record struct IpcReply(
    object? Data,
    JsonTypeInfo? TypeInfo,
    string? Error,
    string? Code,
    Func<CancellationToken, IAsyncEnumerable<IpcReply>>? Stream = null,
    Action? AfterSent = null,
    byte[]? Line = null)
{
    /// <summary>
    /// For a streaming reply: disposed when the stream ends, however it ends (even before its first line), so what the
    /// stream holds (a subscription) never outlives the connection.
    /// </summary>
    public IDisposable? StreamResource { get; init; }

    /// <summary>
    /// For a streaming reply: fires when the stream gave up on a client that does not keep up. The connection then
    /// closes within <see cref="IpcConnection.DrainTimeout"/> even if the client never reads again, so the stream's
    /// last line (why) reaches a client that resumes reading but a stalled one holds nothing for long.
    /// </summary>
    public CancellationToken StreamAbandoned { get; init; }

    public static IpcReply Raw(byte[] line) => new(null, null, null, null, Line: line);

    public static IpcReply Success<T>(T data, JsonTypeInfo<T> typeInfo, Func<CancellationToken, IAsyncEnumerable<IpcReply>>? stream = null)
        where T : class => new(data, typeInfo, null, null, stream);

    public static IpcReply Failure(string error, string code) => new(null, null, error, code);
}
