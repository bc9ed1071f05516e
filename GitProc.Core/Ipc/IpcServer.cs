using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using System.Text;
using GitProc.Delivery;
using GitProc.Events;
using GitProc.Health;
using GitProc.Logs;
using GitProc.Processes;
using GitProc.Reconciliation;
using GitProc.Supervision;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace GitProc.Ipc;

/// <summary>
/// The daemon's Unix-socket server. Claims the socket (replacing a stale file, refusing a live daemon's),
/// sets its mode and group before any client can reach it, and serves every connection independently: one slow,
/// broken or hostile client never delays or crashes another.
/// </summary>
/// <remarks>
/// Idle clients cannot lock others out: a sweeper closes connections idle for
/// <see cref="IpcOptions.IdleTimeout"/>, waking only when the next one can expire, and a client arriving at
/// <see cref="IpcOptions.MaxConnections"/> takes the place of the longest-idle connection. Only then are the
/// connections scanned; below the limit an accept costs one counter read.
/// </remarks>
[SupportedOSPlatform("linux")]
internal sealed class IpcServer : IIpcServer
{
    /// <summary>The name the listening socket is handed over under across an in-place upgrade.</summary>
    internal const string InheritedListenerName = "listener";

    /// <summary>How long a connection must have been idle before a newcomer at the limit may take its place.</summary>
    private static readonly TimeSpan EvictionGrace = TimeSpan.FromSeconds(1);

    /// <summary>How long the accept loop pauses after a failed accept (out of descriptors and the like).</summary>
    private static readonly TimeSpan AcceptRetryDelay = TimeSpan.FromMilliseconds(100);

    private readonly IpcCommandHandler _handler;
    private readonly IpcOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;
    private readonly ConcurrentDictionary<IpcConnection, Task> _connections = new();
    private readonly CancellationTokenSource _stopping = new();
    private Socket? _listener;
    private Task? _acceptLoop;
    private Task? _sweeper;
    private int _stopped;
    private int _connectionCount;
    private long _lastRefusalLog;
    private long _lastEvictionLog;
    private long _lastAcceptFailureLog;

    // Sweeps done so far and the next one's outcome: a sweep that closes nothing leaves no trace, and a test must know
    // one ran to see that it closed nothing.
    private long _sweeps;
    private TaskCompletionSource<int> _swept = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public IpcServer(
        ISupervisor supervisor,
        IReconciler reconciler,
        IServiceLogs logs,
        IDeliveryHistory history,
        IOptions<PathOptions> paths,
        IOptions<IpcOptions> options,
        TimeProvider timeProvider,
        IEventStream? events = null,
        ILogger<IpcServer>? logger = null)
    {
        _options = options.Value;
        _handler = new IpcCommandHandler(supervisor, reconciler, logs, history, paths.Value.RepositoryPath, events);
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _timeProvider = timeProvider;
        SocketPath = Path.GetFullPath(paths.Value.SocketPath);
    }

    /// <summary>The socket file, as an absolute path.</summary>
    public string SocketPath { get; }

    /// <summary>How many client connections are open now.</summary>
    public int ConnectionCount => Volatile.Read(ref _connectionCount);

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

        if (!GitProcOptionsValidator.TryParseMode(_options.SocketMode, out var mode))
        {
            throw new GitProcException($"The socket mode '{_options.SocketMode}' is not an octal mode such as 0600.");
        }

        await WarmUpAsync(cancellationToken).ConfigureAwait(false);

        // A re-executed daemon listens on the socket its previous image handed over: clients that connected during
        // the upgrade wait in its backlog and are served.
        if (SelfExec.TryTakeInherited(InheritedListenerName, out var inherited))
        {
            _listener = new Socket(new SafeSocketHandle(inherited, ownsHandle: true));
            Log.Listening(_logger, SocketPath);
            return;
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
            if (!string.IsNullOrEmpty(_options.SocketGroup))
            {
                SetGroup(bindPath, _options.SocketGroup);
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

    /// <summary>
    /// Serves one request (an invalid one, which touches no component) over a private connection before any client
    /// can connect. A JIT-compiled daemon loads assemblies on first use, and a type whose initializer failed for want
    /// of a descriptor stays broken for the process's life: serving once while descriptors are plentiful means a later
    /// shortage only makes new clients wait in the backlog, instead of failing every connection from then on.
    /// </summary>
    private async Task WarmUpAsync(CancellationToken cancellationToken)
    {
        // An abstract address (leading NUL): no file, and no client can reach it.
        var address = new UnixDomainSocketEndPoint(string.Create(
            CultureInfo.InvariantCulture, $"\0gitproc-warm-up-{Environment.ProcessId}-{Random.Shared.Next():x8}"));
        try
        {
            using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            listener.Bind(address);
            listener.Listen(1);
            using var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            await client.ConnectAsync(address, cancellationToken).ConfigureAwait(false);
            var connection = new IpcConnection(
                await listener.AcceptAsync(cancellationToken).ConfigureAwait(false), _handler, _options, _timeProvider, _logger);
            var serving = connection.RunAsync(cancellationToken);
            await client.SendAsync("{}\n"u8.ToArray(), SocketFlags.None, cancellationToken).ConfigureAwait(false);
            var reply = new byte[256];
            var received = 0;
            while (received < reply.Length && Array.IndexOf(reply, (byte)'\n', 0, received) < 0)
            {
                var read = await client.ReceiveAsync(reply.AsMemory(received), SocketFlags.None, cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                received += read;
            }

            client.Shutdown(SocketShutdown.Both);
            await serving.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is SocketException or IOException)
        {
            // Only a head start: serving works without it.
            Log.WarmUpFailed(_logger, ex);
        }
    }

    /// <summary>Starts an in-place upgrade when a client sends <c>reexec</c>; <see langword="null"/> refuses it.</summary>
    public Action? Reexec
    {
        get => _handler.Reexec;
        set => _handler.Reexec = value;
    }

    /// <summary>
    /// For an in-place upgrade: stops accepting and closes the connections, but keeps the listening socket (and its
    /// file) for the re-executed daemon, whose clients meanwhile wait in the backlog.
    /// </summary>
    /// <returns>The listening socket, to be kept across <c>execve</c>.</returns>
    public async Task<SafeSocketHandle> DetachListenerAsync()
    {
        var listener = _listener ?? throw new InvalidOperationException("The IPC server is not bound.");
        Interlocked.Exchange(ref _stopped, 1);
        await _stopping.CancelAsync().ConfigureAwait(false);
        foreach (var task in new[] { _acceptLoop, _sweeper })
        {
            if (task is not null)
            {
                await task.ConfigureAwait(false);
            }
        }

        return listener.SafeHandle;
    }

    /// <summary>Starts accepting clients on the bound socket.</summary>
    public void StartAccepting()
    {
        var listener = _listener ?? throw new InvalidOperationException("Call BindAsync before StartAccepting.");
        _acceptLoop ??= Task.Run(() => AcceptLoopAsync(listener, _stopping.Token));
        _sweeper ??= Task.Run(() => SweepIdleConnectionsAsync(_stopping.Token));
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

        if (_sweeper is not null)
        {
            await _sweeper.ConfigureAwait(false);
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
        using var reserve = new IpcDescriptorReserve();
        var shortOfDescriptors = false;
        while (!cancellationToken.IsCancellationRequested)
        {
            if (!reserve.TryHold())
            {
                // Out of descriptors: leave what is free to the process (clients wait in the backlog) and look again
                // shortly, ten cheap tries a second rather than a spinning core.
                if (!shortOfDescriptors)
                {
                    shortOfDescriptors = true;
                    Log.OutOfDescriptors(_logger, SocketPath, IpcDescriptorReserve.Size);
                }

                if (!await PauseAsync(AcceptRetryDelay, cancellationToken).ConfigureAwait(false))
                {
                    break;
                }

                continue;
            }

            if (shortOfDescriptors)
            {
                shortOfDescriptors = false;
                Log.AcceptingAgain(_logger, SocketPath);
            }

            Socket client;
            try
            {
                client = await listener.AcceptAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (cancellationToken.IsCancellationRequested || ex is ObjectDisposedException)
            {
                break;
            }
            catch (Exception ex)
            {
                // Out of file descriptors (the client stays queued in the backlog) and the like: log, pause, and go
                // on serving the connections we have. Nothing ends this loop but stopping.
                if (ex is SocketException { SocketErrorCode: SocketError.TooManyOpenSockets })
                {
                    // An expected condition, said once as such (not as a failure with a stack trace).
                    reserve.Release();
                    if (!shortOfDescriptors)
                    {
                        shortOfDescriptors = true;
                        Log.OutOfDescriptors(_logger, SocketPath, IpcDescriptorReserve.Size);
                    }
                }
                else if (ShouldLog(ref _lastAcceptFailureLog))
                {
                    Log.AcceptFailed(_logger, SocketPath, ex);
                }

                if (!await PauseAsync(AcceptRetryDelay, cancellationToken).ConfigureAwait(false))
                {
                    break;
                }

                continue;
            }

            // A client that took the last free descriptor must not leave the process without any until the next one
            // comes along: one open and close a connection, much less than serving it.
            reserve.KeepIfRoomLeft();
            try
            {
                Admit(client, cancellationToken);
            }
            catch (Exception ex)
            {
                client.Dispose();
                if (ShouldLog(ref _lastAcceptFailureLog))
                {
                    Log.AcceptFailed(_logger, SocketPath, ex);
                }
            }
        }
    }

    private void Admit(Socket client, CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _connectionCount) >= _options.MaxConnections && !TryEvictLongestIdle())
        {
            Refuse(client);
            return;
        }

        var connection = new IpcConnection(client, _handler, _options, _timeProvider, _logger);
        Interlocked.Increment(ref _connectionCount);
        var task = Task.Run(() => connection.RunAsync(cancellationToken), CancellationToken.None);
        _connections[connection] = task;
        _ = task.ContinueWith(
            _ =>
            {
                _connections.TryRemove(connection, out Task? _);
                Interlocked.Decrement(ref _connectionCount);
            },
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    /// <summary>
    /// Makes room for a newcomer at the connection limit by closing the connection idle longest, if it has been idle
    /// for <see cref="EvictionGrace"/> at least (so a burst of active clients does not push each other out). The
    /// closed connection leaves once it has sent its error line; the newcomer is served at once.
    /// </summary>
    private bool TryEvictLongestIdle()
    {
        // A connection may turn busy between the scan and the close: then look again, a few times at most.
        for (var attempt = 0; attempt < 3; attempt++)
        {
            IpcConnection? oldest = null;
            var oldestSince = long.MaxValue;
            foreach (var pair in _connections)
            {
                var since = pair.Key.IdleSince;
                if (since > 0 && since < oldestSince)
                {
                    oldest = pair.Key;
                    oldestSince = since;
                }
            }

            var idle = oldest is null ? TimeSpan.Zero : _timeProvider.GetElapsedTime(oldestSince);
            if (oldest is null || idle < EvictionGrace)
            {
                return false;
            }

            if (oldest.TryCloseIdle(IpcCloseReason.ConnectionLimit, oldestSince))
            {
                if (ShouldLog(ref _lastEvictionLog))
                {
                    Log.EvictedLongestIdle(_logger, HealthProbe.FormatDuration(idle), _options.MaxConnections);
                }

                return true;
            }
        }

        return false;
    }

    /// <summary>How many times the idle sweeper has swept (the first sweep runs when accepting starts).</summary>
    internal long Sweeps => Volatile.Read(ref _sweeps);

    /// <summary>
    /// Completes with the number of connections the next sweep closed, once that sweep has set its timer for the one
    /// after: taken before the clock moves, it stands for the sweep the move wakes.
    /// </summary>
    internal Task<int> NextSweep => Volatile.Read(ref _swept).Task;

    /// <summary>
    /// Closes connections idle for <see cref="IpcOptions.IdleTimeout"/>. Sleeps until the earliest one can expire (a
    /// connection that turns idle later expires later still), so an idle daemon wakes once per timeout at most.
    /// </summary>
    private async Task SweepIdleConnectionsAsync(CancellationToken cancellationToken)
    {
        var timeout = _options.IdleTimeout;
        while (true)
        {
            var next = timeout;
            var closed = 0;
            foreach (var pair in _connections)
            {
                var since = pair.Key.IdleSince;
                if (since <= 0)
                {
                    continue;
                }

                var left = timeout - _timeProvider.GetElapsedTime(since);
                if (left > TimeSpan.Zero)
                {
                    next = left < next ? left : next;
                }
                else if (pair.Key.TryCloseIdle(IpcCloseReason.IdleTimeout, since))
                {
                    closed++;
                }
            }

            // Bounded both ways: no spinning on a clock that does not move, no delay beyond what a timer takes.
            next = TimeSpan.FromTicks(Math.Clamp(next.Ticks, TimeSpan.TicksPerMillisecond * 10, TimeSpan.TicksPerDay));
            // The timer is set before the sweep is announced, so a test that moves the clock next wakes the following one.
            var pause = PauseAsync(next, cancellationToken);
            Interlocked.Increment(ref _sweeps);
            Interlocked.Exchange(ref _swept, new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously)).SetResult(closed);
            if (!await pause.ConfigureAwait(false))
            {
                return;
            }
        }
    }

    /// <summary>Waits on the injected clock; <see langword="false"/> if the server is stopping.</summary>
    private async Task<bool> PauseAsync(TimeSpan delay, CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(delay, _timeProvider, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>Whether a message logged at most once a second is due; marks it logged if so.</summary>
    private bool ShouldLog(ref long last)
    {
        var now = _timeProvider.GetTimestamp();
        if (last != 0 && _timeProvider.GetElapsedTime(last, now) < TimeSpan.FromSeconds(1))
        {
            return false;
        }

        last = now;
        return true;
    }

    /// <summary>Answers a client over the connection limit with one error line and closes it; logs once a second at most.</summary>
    private void Refuse(Socket client)
    {
        if (ShouldLog(ref _lastRefusalLog))
        {
            Log.TooManyConnections(_logger, _options.MaxConnections);
        }

        try
        {
            // A fresh connection's send buffer is empty, so this short write cannot block the accept loop.
            var message = string.Create(
                CultureInfo.InvariantCulture,
                $"{{\"status\":\"error\",\"error\":\"Too many connections: the daemon serves at most {_options.MaxConnections} clients at once; close idle connections and retry\"}}\n");
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
