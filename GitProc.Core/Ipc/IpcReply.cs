using System.Text.Json.Serialization.Metadata;

namespace GitProc.Ipc;

/// <summary>What a command produced: data to serialize with its type info, or an error message.</summary>
/// <param name="Data">The success data.</param>
/// <param name="TypeInfo">How to serialize <paramref name="Data"/>; <see langword="null"/> for an error.</param>
/// <param name="Error">The error message, for an error.</param>
/// <param name="Stream">
/// For a streaming command (<c>logs</c> with <c>follow</c>): the further replies, sent one a line after this one until
/// the client closes the connection or the stream ends. A streaming connection serves no further request and is never
/// closed as idle.
/// </param>
/// <param name="AfterSent">Run once this reply has been sent (flushed): <c>reexec</c> answers before the daemon re-executes.</param>
internal readonly record struct IpcReply(
    object? Data,
    JsonTypeInfo? TypeInfo,
    string? Error,
    Func<CancellationToken, IAsyncEnumerable<IpcReply>>? Stream = null,
    Action? AfterSent = null)
{
    public static IpcReply Success<T>(T data, JsonTypeInfo<T> typeInfo, Func<CancellationToken, IAsyncEnumerable<IpcReply>>? stream = null)
        where T : class => new(data, typeInfo, null, stream);

    public static IpcReply Failure(string error) => new(null, null, error);
}
