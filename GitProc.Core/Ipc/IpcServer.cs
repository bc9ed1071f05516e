using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using System.Text;
using GitProc.Logs;
using GitProc.Reconciliation;
using GitProc.Supervision;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GitProc.Ipc;

/// <summary>
/// The daemon's Unix-socket server (CONTRACT §7). Claims the socket (replacing a stale file, refusing a live daemon's),
/// sets its mode and group before any client can reach it, and serves every connection independently: one slow,
/// broken or hostile client never delays or crashes another.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class IpcServer : IAsyncDisposable
{
    private readonly IpcCommandHandler _handler;
    private readonly GitProcOptions _options;
    private readonly ILogger<IpcServer> _logger;
    private readonly TimeProvider _timeProvider;
    private readonly ConcurrentDictionary<IpcConnection, Task> _connections = new();
    private readonly CancellationTokenSource _stopping = new();
    private Socket? _listener;
    private Task? _acceptLoop;
    private int _stopped;
    private long _lastRefusalLog;

    public IpcServer(
        ISupervisor supervisor,
        IReconciler reconciler,
        IServiceLogs logs,
        IOptions<GitProcOptions> options,
        ILogger<IpcServer> logger,
        TimeProvider timeProvider)
    {
        _handler = new IpcCommandHandler(supervisor, reconciler, logs);
        _options = options.Value;
        _logger = logger;
        _timeProvider = timeProvider;
        SocketPath = Path.GetFullPath(_options.SocketPath);
    }

    /// <summary>The socket file, as an absolute path.</summary>
    public string SocketPath { get; }

    /// <summary>How many client connections are open now.</summary>
    public int ConnectionCount => _connections.Count;

    /// <summary>Claims the socket and starts serving clients.</summary>
    /// <exception cref="IpcSocketInUseException">A live daemon listens on the socket.</exception>
    /// <exception cref="GitProcException">The socket could not be created, or its mode or group not set.</exception>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        await BindAsync(cancellationToken).ConfigureAwait(false);
        StartAccepting();
    }

    /// <summary>
    /// Claims the socket: afterwards a second daemon sees it as live (clients queue until <see cref="StartAccepting"/>).
    /// The daemon binds first so that it touches no service while another daemon owns them.
    /// </summary>
    /// <exception cref="IpcSocketInUseException">A live daemon listens on the socket.</exception>
    /// <exception cref="GitProcException">The socket could not be created, or its mode or group not set.</exception>
    public async Task BindAsync(CancellationToken cancellationToken = default)
    {
        if (_listener is not null)
        {
            throw new InvalidOperationException("The IPC server is already bound.");
        }

        if (!GitProcOptionsValidator.TryParseMode(_options.Ipc.SocketMode, out var mode))
        {
            throw new GitProcException($"The socket mode '{_options.Ipc.SocketMode}' is not an octal mode such as 0600.");
        }

        var directory = Path.GetDirectoryName(SocketPath)!;
        try
        {
            if (!Directory.Exists(directory))
            {
                Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                    | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new GitProcException($"Cannot create the socket's directory {directory}: {ex.Message}", ex);
        }

        if (File.Exists(SocketPath))
        {
            await RemoveStaleSocketAsync(cancellationToken).ConfigureAwait(false);
        }

        // Bind under a temporary name, set mode and group, then rename into place: the socket is never reachable at
        // its real path with the umask's permissions. Paths near the 108-byte limit bind in place instead.
        var temporary = Path.Combine(directory, string.Create(CultureInfo.InvariantCulture, $".gitproc-{Environment.ProcessId}-{Random.Shared.Next():x8}.sock"));
        var bindPath = Encoding.UTF8.GetByteCount(temporary) < 108 ? temporary : SocketPath;
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            listener.Bind(new UnixDomainSocketEndPoint(bindPath));
            File.SetUnixFileMode(bindPath, mode);
            if (!string.IsNullOrEmpty(_options.Ipc.SocketGroup))
            {
                SetGroup(bindPath, _options.Ipc.SocketGroup);
            }

            listener.Listen(512);
            if (bindPath != SocketPath)
            {
                File.Move(bindPath, SocketPath, overwrite: true);
            }
        }
        catch (Exception ex) when (ex is SocketException or IOException or UnauthorizedAccessException)
        {
            listener.Dispose();
            TryDelete(bindPath);
            throw new GitProcException($"Cannot listen on the socket {SocketPath}: {ex.Message}", ex);
        }
        catch
        {
            listener.Dispose();
            TryDelete(bindPath);
            throw;
        }

        _listener = listener;
        Log.Listening(_logger, SocketPath);
    }

    /// <summary>Starts accepting clients on the bound socket.</summary>
    public void StartAccepting()
    {
        var listener = _listener ?? throw new InvalidOperationException("Call BindAsync before StartAccepting.");
        _acceptLoop ??= Task.Run(() => AcceptLoopAsync(listener, _stopping.Token));
    }

    /// <summary>
    /// Stops accepting, closes every connection (cancelling the commands they run) and removes the socket file.
    /// </summary>
    /// <param name="cancellationToken">Stops waiting for connections to close.</param>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 1 || _listener is null)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        _listener.Dispose();
        if (_acceptLoop is not null)
        {
            await _acceptLoop.ConfigureAwait(false);
        }

        try
        {
            await Task.WhenAll(_connections.Values).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The host's shutdown timeout: stop waiting for commands that ignore cancellation.
        }

        TryDelete(SocketPath);
        Log.Stopped(_logger, SocketPath);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None).ConfigureAwait(false);
        _stopping.Dispose();
    }

    private async Task AcceptLoopAsync(Socket listener, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await listener.AcceptAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (cancellationToken.IsCancellationRequested || ex is ObjectDisposedException)
            {
                break;
            }
            catch (SocketException ex)
            {
                // Out of file descriptors and the like: log, breathe, go on serving the connections we have.
                Log.AcceptFailed(_logger, SocketPath, ex);
                try
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(100), _timeProvider, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }

                continue;
            }

            if (_connections.Count >= _options.Ipc.MaxConnections)
            {
                Refuse(client);
                continue;
            }

            var connection = new IpcConnection(client, _handler, _logger);
            var task = Task.Run(() => connection.RunAsync(cancellationToken), CancellationToken.None);
            _connections[connection] = task;
            _ = task.ContinueWith(
                _ => _connections.TryRemove(connection, out Task? _),
                CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
        }
    }

    /// <summary>Answers a client over the connection limit with one error line and closes it; logs once a second at most.</summary>
    private void Refuse(Socket client)
    {
        var now = _timeProvider.GetTimestamp();
        if (_lastRefusalLog == 0 || _timeProvider.GetElapsedTime(_lastRefusalLog, now) >= TimeSpan.FromSeconds(1))
        {
            _lastRefusalLog = now;
            Log.TooManyConnections(_logger, _options.Ipc.MaxConnections);
        }

        try
        {
            // A fresh connection's send buffer is empty, so this short write cannot block the accept loop.
            var message = string.Create(
                CultureInfo.InvariantCulture,
                $"{{\"status\":\"error\",\"error\":\"Too many connections: the daemon serves at most {_options.Ipc.MaxConnections} clients at once; close idle connections and retry\"}}\n");
            client.Send(Encoding.UTF8.GetBytes(message), SocketFlags.None);
            client.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
            // The client has gone already.
        }
        finally
        {
            client.Dispose();
        }
    }

    private async Task RemoveStaleSocketAsync(CancellationToken cancellationToken)
    {
        using (var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            try
            {
                await probe.ConnectAsync(new UnixDomainSocketEndPoint(SocketPath), cancellationToken).ConfigureAwait(false);
            }
            catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionRefused)
            {
                // Nobody listens: a daemon that died without cleaning up.
                try
                {
                    File.Delete(SocketPath);
                }
                catch (Exception deleteError) when (deleteError is IOException or UnauthorizedAccessException)
                {
                    throw new GitProcException($"Cannot remove the stale socket file {SocketPath}: {deleteError.Message}", deleteError);
                }

                Log.StaleSocketReplaced(_logger, SocketPath);
                return;
            }
            catch (SocketException ex)
            {
                throw new GitProcException($"Cannot tell whether a daemon owns the socket {SocketPath}: {ex.Message}", ex);
            }
        }

        throw new IpcSocketInUseException(SocketPath);
    }

    private static void SetGroup(string path, string group)
    {
        var gid = ResolveGroup(group)
            ?? throw new GitProcException($"The socket group '{group}' does not exist (not a number and not in /etc/group).");
        if (Interop.Ipc.Chown(path, -1, gid) != 0)
        {
            var error = Marshal.GetLastPInvokeErrorMessage();
            throw new GitProcException(
                $"Cannot give the socket {path} to group '{group}': {error}. Only root, or a member of that group, can do this.");
        }
    }

    /// <summary>A group's id: the number itself, or the name looked up in <c>/etc/group</c>.</summary>
    internal static int? ResolveGroup(string group)
    {
        if (int.TryParse(group, NumberStyles.None, CultureInfo.InvariantCulture, out var gid))
        {
            return gid;
        }

        if (!File.Exists("/etc/group"))
        {
            return null;
        }

        foreach (var line in File.ReadLines("/etc/group"))
        {
            // name:password:gid:members
            var fields = line.Split(':');
            if (fields.Length >= 3 && fields[0] == group
                && int.TryParse(fields[2], NumberStyles.None, CultureInfo.InvariantCulture, out gid))
            {
                return gid;
            }
        }

        return null;
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Best effort: a leftover file is replaced as stale by the next daemon.
        }
    }
}
