using System.Text.Json.Serialization.Metadata;

namespace GitProc.Ipc;

/// <summary>What a command produced: data to serialize with its type info, or an error message.</summary>
/// <param name="Data">The success data.</param>
/// <param name="TypeInfo">How to serialize <paramref name="Data"/>; <see langword="null"/> for an error.</param>
/// <param name="Error">The error message, for an error.</param>
/// <param name="FollowService">For <c>logs</c> with <c>follow</c>: keep sending this service's new lines.</param>
internal readonly record struct IpcReply(object? Data, JsonTypeInfo? TypeInfo, string? Error, string? FollowService = null)
{
    public static IpcReply Success<T>(T data, JsonTypeInfo<T> typeInfo, string? followService = null)
        where T : class => new(data, typeInfo, null, followService);

    public static IpcReply Failure(string error) => new(null, null, error);
}
