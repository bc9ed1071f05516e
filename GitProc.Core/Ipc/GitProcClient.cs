using System.Buffers;
using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using GitProc.Events;

namespace GitProc.Ipc;

/// <summary>
/// A client of the daemon's Unix socket. Connects on first use and keeps one connection for any number
/// of requests, sent one at a time; if the daemon closed it meanwhile (idle timeout, connection limit), the next
/// request reconnects. Reflection-free and light on generic code, so a CLI process starts fast and can
/// be NativeAOT-compiled.
/// </summary>
/// <example>
/// <code>
/// await using var client = new GitProcClient("/run/gitproc.sock");
/// var status = await client.GetStatusAsync("web");
/// </code>
/// </example>
public sealed class GitProcClient : IAsyncDisposable
{
    /// <summary>
    /// After this long unused, the connection is checked for a close by the daemon before it is used again. The
    /// daemon closes a connection only after it has been idle a second or more (<see cref="IpcOptions.IdleTimeout"/>
    /// is at least that, and so is the grace before a connection is evicted at the limit), so busy clients skip the
    /// check's system call.
    /// </summary>
    private static readonly TimeSpan CheckAfter = TimeSpan.FromMilliseconds(250);

    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly ArrayBufferWriter<byte> _requestBuffer = new(256);
    private Socket? _socket;
    private byte[] _buffer = [];
    private int _start;
    private int _end;
    private long _lastUsed;

    /// <summary>Creates a client of the daemon listening on <paramref name="socketPath"/>; nothing is connected yet.</summary>
    /// <param name="socketPath">The daemon's socket.</param>
    public GitProcClient(string socketPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(socketPath);
        SocketPath = socketPath;
    }

    /// <summary>The daemon's socket.</summary>
    public string SocketPath { get; }

    /// <summary>Connects now (every other method connects when needed).</summary>
    /// <param name="cancellationToken">Cancels connecting.</param>
    /// <exception cref="DaemonUnreachableException">The socket is missing or nobody listens on it.</exception>
    public async Task ConnectAsync(CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await EnsureConnectedAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Sends one request and returns the daemon's response as it is, error or not.</summary>
    /// <param name="request">The request.</param>
    /// <param name="cancellationToken">Cancels waiting; the connection is then closed, since its answer is lost.</param>
    /// <returns>The response.</returns>
    /// <exception cref="DaemonUnreachableException">The daemon cannot be reached or closed the connection.</exception>
    public async Task<IpcResponse> SendAsync(IpcRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await ExchangeAsync(request, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Starts a service.</summary>
    /// <param name="service">The service name.</param>
    /// <param name="cancellationToken">Cancels waiting.</param>
    /// <returns>Its pid and name.</returns>
    /// <exception cref="GitProcClientException">Not found, already running, or failed to start.</exception>
    /// <exception cref="DaemonUnreachableException">The daemon cannot be reached.</exception>
    public Task<IpcStartResult> StartAsync(string service, CancellationToken cancellationToken = default) =>
        CallAsync(new IpcRequest { Command = IpcCommands.Start, Service = service }, IpcClientJson.ReadStart, cancellationToken);

    /// <summary>Stops a service.</summary>
    /// <param name="service">The service name.</param>
    /// <param name="cancellationToken">Cancels waiting.</param>
    /// <returns>Its name.</returns>
    /// <exception cref="GitProcClientException">Not found, or not running.</exception>
    /// <exception cref="DaemonUnreachableException">The daemon cannot be reached.</exception>
    public Task<IpcStopResult> StopAsync(string service, CancellationToken cancellationToken = default) =>
        CallAsync(new IpcRequest { Command = IpcCommands.Stop, Service = service }, IpcClientJson.ReadStop, cancellationToken);

    /// <summary>Restarts a service.</summary>
    /// <param name="service">The service name.</param>
    /// <param name="cancellationToken">Cancels waiting.</param>
    /// <returns>Its new pid and name.</returns>
    /// <exception cref="GitProcClientException">Not found, or failed to start.</exception>
    /// <exception cref="DaemonUnreachableException">The daemon cannot be reached.</exception>
    public Task<IpcStartResult> RestartAsync(string service, CancellationToken cancellationToken = default) =>
        CallAsync(new IpcRequest { Command = IpcCommands.Restart, Service = service }, IpcClientJson.ReadStart, cancellationToken);

    /// <summary>Reloads a running service (its ExecReload= commands, or its ReloadSignal=).</summary>
    /// <param name="service">The service name.</param>
    /// <param name="cancellationToken">Cancels waiting.</param>
    /// <returns>Its main process's pid and its name.</returns>
    /// <exception cref="GitProcClientException">Not found, not running, not reloadable, or a reload command failed.</exception>
    /// <exception cref="DaemonUnreachableException">The daemon cannot be reached.</exception>
    public Task<IpcStartResult> ReloadAsync(string service, CancellationToken cancellationToken = default) =>
        CallAsync(new IpcRequest { Command = IpcCommands.Reload, Service = service }, IpcClientJson.ReadStart, cancellationToken);

    /// <summary>One service's status.</summary>
    /// <param name="service">The service name.</param>
    /// <param name="cancellationToken">Cancels waiting.</param>
    /// <returns>The status.</returns>
    /// <exception cref="GitProcClientException">Not found.</exception>
    /// <exception cref="DaemonUnreachableException">The daemon cannot be reached.</exception>
    public Task<IpcStatusResult> GetStatusAsync(string service, CancellationToken cancellationToken = default) =>
        CallAsync(new IpcRequest { Command = IpcCommands.Status, Service = service }, IpcClientJson.ReadStatus, cancellationToken);

    /// <summary>Every service, ordered by name.</summary>
    /// <param name="cancellationToken">Cancels waiting.</param>
    /// <returns>The services.</returns>
    /// <exception cref="DaemonUnreachableException">The daemon cannot be reached.</exception>
    public Task<IpcListResult> ListAsync(CancellationToken cancellationToken = default) =>
        CallAsync(new IpcRequest { Command = IpcCommands.List }, IpcClientJson.ReadList, cancellationToken);

    /// <summary>A service's last stored log lines.</summary>
    /// <param name="service">The service name.</param>
    /// <param name="lines">How many lines at most.</param>
    /// <param name="cancellationToken">Cancels waiting.</param>
    /// <returns>The lines, each ending with <c>\n</c>.</returns>
    /// <exception cref="GitProcClientException">Not found.</exception>
    /// <exception cref="DaemonUnreachableException">The daemon cannot be reached.</exception>
    public async Task<string> GetLogsAsync(string service, int lines = IpcCommands.DefaultLogLines, CancellationToken cancellationToken = default)
    {
        var request = new IpcRequest { Command = IpcCommands.Logs, Service = service, Args = new IpcRequestArgs { Lines = lines } };
        var result = await CallAsync(request, IpcClientJson.ReadLogs, cancellationToken).ConfigureAwait(false);
        return result.Logs;
    }

    /// <summary>
    /// A service's last stored lines, then each new line as it is written, until <paramref name="cancellationToken"/>
    /// fires or the enumeration is abandoned. Following takes the connection: it is closed afterwards (the next call
    /// reconnects).
    /// </summary>
    /// <param name="service">The service name.</param>
    /// <param name="lines">How many stored lines come first.</param>
    /// <param name="cancellationToken">Ends following.</param>
    /// <returns>Texts of whole lines, each ending with <c>\n</c>: first the stored ones together, then one per new line.</returns>
    /// <exception cref="GitProcClientException">Not found.</exception>
    /// <exception cref="DaemonUnreachableException">The daemon cannot be reached.</exception>
    public async IAsyncEnumerable<string> FollowLogsAsync(
        string service,
        int lines = IpcCommands.DefaultLogLines,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var request = new IpcRequest
        {
            Command = IpcCommands.Logs,
            Service = service,
            Args = new IpcRequestArgs { Lines = lines, Follow = true },
        };

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var first = await ExchangeAsync(request, cancellationToken).ConfigureAwait(false);
            yield return Unwrap(first, IpcClientJson.ReadLogs).Logs;
            while (true)
            {
                var next = await ReceiveAsync(cancellationToken).ConfigureAwait(false);
                yield return Unwrap(next, IpcClientJson.ReadLogs).Logs;
            }
        }
        finally
        {
            // The daemon streams until the connection closes.
            Disconnect();
            _gate.Release();
        }
    }

    /// <summary>
    /// The daemon's events (<c>docs/events.md</c>) from now on, as they happen, until <paramref name="cancellationToken"/>
    /// fires or the enumeration is abandoned. Subscribing takes the connection: it is closed afterwards (the next call
    /// reconnects).
    /// </summary>
    /// <param name="service">Only events about this service; <see langword="null"/> for all.</param>
    /// <param name="types">Only these types or families (<c>service.state</c>, <c>commit</c>); <see langword="null"/> for all.</param>
    /// <param name="cancellationToken">Ends the subscription.</param>
    /// <returns>The events, in order.</returns>
    /// <exception cref="GitProcClientException">
    /// An unknown service or type; the daemon dropped this subscriber because it fell behind (the message says so).
    /// </exception>
    /// <exception cref="GitProcClientException">The daemon closed the stream (it stopped).</exception>
    /// <exception cref="DaemonUnreachableException">The daemon cannot be reached.</exception>
    public async IAsyncEnumerable<GitProcEvent> SubscribeAsync(
        string? service = null,
        IReadOnlyList<string>? types = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var line in SubscribeJsonAsync(service, types, cancellationToken).ConfigureAwait(false))
        {
            yield return ParseEvent(line);
        }
    }

    /// <summary>
    /// <see cref="SubscribeAsync"/>'s events as the daemon sent them, one JSON object each without the newline: for
    /// tools that pass them on unchanged (<c>gitproc events --json</c>).
    /// </summary>
    /// <param name="service">Only events about this service; <see langword="null"/> for all.</param>
    /// <param name="types">Only these types or families; <see langword="null"/> for all.</param>
    /// <param name="cancellationToken">Ends the subscription.</param>
    /// <returns>The events' JSON texts, in order.</returns>
    /// <exception cref="GitProcClientException">An unknown service or type; dropped for falling behind; the daemon closed the stream.</exception>
    /// <exception cref="DaemonUnreachableException">The daemon cannot be reached.</exception>
    public async IAsyncEnumerable<string> SubscribeJsonAsync(
        string? service = null,
        IReadOnlyList<string>? types = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var request = new IpcRequest
        {
            Command = IpcCommands.Subscribe,
            Service = service,
            Args = types is null ? null : new IpcRequestArgs { Types = types },
        };

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            Unwrap(await ExchangeAsync(request, cancellationToken).ConfigureAwait(false), static data => data);
            while (true)
            {
                string line;
                try
                {
                    line = Encoding.UTF8.GetString((await ReceiveLineAsync(cancellationToken).ConfigureAwait(false)).Span);
                }
                catch (DaemonUnreachableException ex) when (ex.ClosedBeforeAnswer)
                {
                    throw new GitProcClientException($"The daemon at {SocketPath} closed the event stream (it stopped or is restarting)", GitProcErrorCodes.StreamClosed);
                }

                // Events have no "status"; an error response is the stream's last line (the subscriber was dropped).
                if (line.StartsWith("{\"status\":", StringComparison.Ordinal))
                {
                    Unwrap(Parse(Encoding.UTF8.GetBytes(line)), static data => data);
                    continue;
                }

                yield return line;
            }
        }
        finally
        {
            // The daemon streams until the connection closes.
            Disconnect();
            _gate.Release();
        }
    }

    private GitProcEvent ParseEvent(string line)
    {
        try
        {
            return JsonSerializer.Deserialize(line, EventJsonContext.Default.GitProcEvent)
                ?? throw new JsonException("an event must be a JSON object");
        }
        catch (JsonException ex)
        {
            throw new GitProcClientException($"The daemon at {SocketPath} sent an event that is not valid JSON: {ex.Message}", GitProcErrorCodes.Internal);
        }
    }

    /// <summary>
    /// Fetches the remote (when the daemon has one) and applies the tip of the watched branch now; answers once the apply
    /// has finished, or with <paramref name="wait"/> once the commit's verification ended.
    /// </summary>
    /// <param name="wait">Wait for the verdict: the commit kept (<c>applied</c>) or <c>rolled back</c>.</param>
    /// <param name="cancellationToken">Cancels waiting.</param>
    /// <returns>The applied commit, what applying it changed (reported once), its warnings, and with <paramref name="wait"/> the verdict.</returns>
    /// <exception cref="GitProcClientException">The fetch or Git failed, or the commit was rejected.</exception>
    /// <exception cref="DaemonUnreachableException">The daemon cannot be reached.</exception>
    public Task<IpcSyncResult> SyncAsync(bool wait = false, CancellationToken cancellationToken = default) =>
        CallAsync(
            new IpcRequest { Command = IpcCommands.Sync, Args = wait ? new IpcRequestArgs { Wait = true } : null },
            IpcClientJson.ReadSync,
            cancellationToken);

    /// <summary>
    /// What applying a revision (default: the branch tip) would do, service by service, or why it would be rejected; with
    /// <paramref name="host"/>, what it would do on that other host of the fleet, by the units' <c>ConditionHost=</c>,
    /// assuming that host applied the same commit as this daemon.
    /// </summary>
    /// <param name="revision">A commit id or anything Git resolves; <see langword="null"/> for the tip.</param>
    /// <param name="host">The host's name; <see langword="null"/> for the daemon's own host.</param>
    /// <param name="machineId">That host's machine id, for units whose <c>ConditionHost=</c> names one; <see langword="null"/> when unknown.</param>
    /// <param name="cancellationToken">Cancels waiting.</param>
    /// <returns>The plan.</returns>
    /// <exception cref="GitProcClientException">The revision cannot be resolved or read, or the host name or machine id is invalid.</exception>
    /// <exception cref="DaemonUnreachableException">The daemon cannot be reached.</exception>
    public Task<IpcPlanResult> PlanAsync(string? revision = null, string? host = null, string? machineId = null, CancellationToken cancellationToken = default) =>
        CallAsync(
            new IpcRequest
            {
                Command = IpcCommands.Plan,
                Args = revision is null && host is null && machineId is null ? null : new IpcRequestArgs { Commit = revision, Host = host, MachineId = machineId },
            },
            IpcClientJson.ReadPlan,
            cancellationToken);

    /// <summary>The commits the daemon saw and what became of each, newest first.</summary>
    /// <param name="limit">How many; <see langword="null"/> for all that are kept.</param>
    /// <param name="cancellationToken">Cancels waiting.</param>
    /// <returns>The records.</returns>
    /// <exception cref="DaemonUnreachableException">The daemon cannot be reached.</exception>
    public Task<IpcHistoryResult> GetHistoryAsync(int? limit = null, CancellationToken cancellationToken = default) =>
        CallAsync(
            new IpcRequest { Command = IpcCommands.History, Args = limit is null ? null : new IpcRequestArgs { Limit = limit } },
            IpcClientJson.ReadHistory,
            cancellationToken);

    /// <summary>Restores a commit's tree as a new commit on the watched branch and applies it.</summary>
    /// <param name="commit">The commit (full or short hash, or any revision).</param>
    /// <param name="cancellationToken">Cancels waiting.</param>
    /// <returns>The restored and new commits and what changed.</returns>
    /// <exception cref="GitProcClientException">Unknown commit, invalid units, or a Git error.</exception>
    /// <exception cref="DaemonUnreachableException">The daemon cannot be reached.</exception>
    public Task<IpcRollbackResult> RollbackAsync(string commit, CancellationToken cancellationToken = default) =>
        CallAsync(new IpcRequest { Command = IpcCommands.Rollback, Args = new IpcRequestArgs { Commit = commit } }, IpcClientJson.ReadRollback, cancellationToken);

    /// <summary>Closes the connection.</summary>
    /// <returns>A completed task.</returns>
    public ValueTask DisposeAsync()
    {
        Disconnect();
        if (_buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = [];
        }

        return ValueTask.CompletedTask;
    }

    private async Task<T> CallAsync<T>(IpcRequest request, Func<JsonElement, T> read, CancellationToken cancellationToken)
    {
        var response = await SendAsync(request, cancellationToken).ConfigureAwait(false);
        return Unwrap(response, read);
    }

    private static T Unwrap<T>(IpcResponse response, Func<JsonElement, T> read)
    {
        if (!response.IsSuccess)
        {
            throw new GitProcClientException(response.Error ?? "The daemon reported an error without a message.", response.Code);
        }

        if (response.Data is not { } data)
        {
            throw new GitProcClientException("The daemon's response has no data.", GitProcErrorCodes.Internal);
        }

        if (data.ValueKind != JsonValueKind.Object)
        {
            throw new GitProcClientException("The daemon's response data is not a JSON object.", GitProcErrorCodes.Internal);
        }

        return read(data);
    }

    private async Task<IpcResponse> ExchangeAsync(IpcRequest request, CancellationToken cancellationToken)
    {
        try
        {
            return await ExchangeOnceAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (DaemonUnreachableException ex) when (ex.ClosedBeforeAnswer && request.Command is IpcCommands.Status or IpcCommands.List or IpcCommands.Logs)
        {
            // The daemon closed the connection without answering: it was stopping, or upgrading in place (a new
            // connection then waits in the socket's backlog for the new image). A question that changes nothing is
            // asked again, once.
            return await ExchangeOnceAsync(request, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<IpcResponse> ExchangeOnceAsync(IpcRequest request, CancellationToken cancellationToken)
    {
        await EnsureConnectedAsync(cancellationToken).ConfigureAwait(false);
        _requestBuffer.ResetWrittenCount();
        IpcClientJson.WriteRequest(_requestBuffer, request);
        _requestBuffer.Write("\n"u8);
        try
        {
            await _socket!.SendAsync(_requestBuffer.WrittenMemory, SocketFlags.None, cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException ex)
        {
            Disconnect();
            throw new DaemonUnreachableException(SocketPath, $"sending the request failed: {ex.Message}", ex);
        }
        catch (OperationCanceledException)
        {
            Disconnect();
            throw;
        }

        return await ReceiveAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task<IpcResponse> ReceiveAsync(CancellationToken cancellationToken) =>
        Parse(await ReceiveLineAsync(cancellationToken).ConfigureAwait(false));

    /// <summary>The next line the daemon sends, without its newline; valid until the next receive.</summary>
    private async Task<ReadOnlyMemory<byte>> ReceiveLineAsync(CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                var newline = Array.IndexOf(_buffer, (byte)'\n', _start, _end - _start);
                if (newline >= 0)
                {
                    var line = _buffer.AsMemory(_start, newline - _start);
                    _start = newline + 1;
                    _lastUsed = Stopwatch.GetTimestamp();
                    return line;
                }

                MakeRoom();
                var read = await _socket!.ReceiveAsync(_buffer.AsMemory(_end), SocketFlags.None, cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    Disconnect();
                    throw new DaemonUnreachableException(SocketPath, "the daemon closed the connection before answering") { ClosedBeforeAnswer = true };
                }

                _end += read;
            }
        }
        catch (SocketException ex)
        {
            // A daemon that closes a connection whose request it has not read (one handing over to its new image, say)
            // resets it: for the client that is a close before the answer, like an orderly one.
            var beforeAnswer = ex.SocketErrorCode == SocketError.ConnectionReset && _start == _end;
            Disconnect();
            throw new DaemonUnreachableException(SocketPath, $"reading the answer failed: {ex.Message}", ex) { ClosedBeforeAnswer = beforeAnswer };
        }
        catch (OperationCanceledException)
        {
            Disconnect();
            throw;
        }
    }

    private IpcResponse Parse(ReadOnlyMemory<byte> line)
    {
        try
        {
            return IpcClientJson.ParseResponse(line);
        }
        catch (JsonException ex)
        {
            Disconnect();
            throw new GitProcClientException($"The daemon at {SocketPath} sent a response that is not valid JSON: {ex.Message}", GitProcErrorCodes.Internal);
        }
    }

    private void MakeRoom()
    {
        if (_buffer.Length == 0)
        {
            _buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
            return;
        }

        if (_start > 0)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }

        if (_end == _buffer.Length)
        {
            var larger = ArrayPool<byte>.Shared.Rent(_buffer.Length * 2);
            Buffer.BlockCopy(_buffer, 0, larger, 0, _end);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = larger;
        }
    }

    private async Task EnsureConnectedAsync(CancellationToken cancellationToken)
    {
        if (_socket is not null)
        {
            if (!ClosedByDaemon(_socket))
            {
                return;
            }

            Disconnect();
        }

        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(SocketPath), cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException ex)
        {
            socket.Dispose();
            var reason = ex.SocketErrorCode switch
            {
                _ when !File.Exists(SocketPath) => "the socket does not exist (is the daemon running?)",
                SocketError.ConnectionRefused => "connection refused (no daemon is listening; is it running?)",
                SocketError.AccessDenied => "permission denied (the socket's mode or group does not admit this user)",
                _ => ex.Message,
            };
            throw new DaemonUnreachableException(SocketPath, reason, ex);
        }
        catch (ArgumentException ex)
        {
            socket.Dispose();
            throw new DaemonUnreachableException(SocketPath, "the path is not a usable socket path (too long?)", ex);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        _socket = socket;
        _start = _end = 0;
        _lastUsed = Stopwatch.GetTimestamp();
    }

    /// <summary>
    /// Whether the daemon has closed a connection that was idle: between requests it sends nothing, so anything to
    /// read (its parting error line, or the end of the stream) means it is gone.
    /// </summary>
    private bool ClosedByDaemon(Socket socket)
    {
        if (_start < _end)
        {
            return true;
        }

        if (Stopwatch.GetElapsedTime(_lastUsed) < CheckAfter)
        {
            return false;
        }

        try
        {
            return socket.Poll(0, SelectMode.SelectRead);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            return true;
        }
    }

    private void Disconnect()
    {
        _socket?.Dispose();
        _socket = null;
        _start = _end = 0;
    }
}
