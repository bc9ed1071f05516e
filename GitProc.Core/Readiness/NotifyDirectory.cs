using System.Globalization;
using System.Runtime.Versioning;
using System.Security.Cryptography;
using System.Text;
using GitProc.Processes;
using Microsoft.Extensions.Logging;

namespace GitProc.Readiness;

/// <summary>
/// The directory of the daemon's notification sockets, one per service, beside its IPC socket in the runtime
/// directory (<c>/run/gitproc.notify/</c> for <c>/run/gitproc.sock</c>): one daemon owns an IPC socket, so no other
/// daemon uses this directory. Sockets of a previous run are swept when the daemon starts, each service's socket is
/// removed when the service stops, and the directory when the daemon does. Datagrams are received on one event-loop thread for all services, made on first use.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class NotifyDirectory : IDisposable
{
    private readonly ILogger _logger;
    private readonly Lock _lock = new();
    private ProcessEventLoop? _loop;
    private bool _disposed;

    public NotifyDirectory(string path, ILogger logger)
    {
        Path = path;
        _logger = logger;
    }

    /// <summary>The directory.</summary>
    public string Path { get; }

    /// <summary>The directory for the daemon whose IPC socket is <paramref name="socketPath"/>.</summary>
    public static string For(string socketPath)
    {
        var full = System.IO.Path.GetFullPath(socketPath);
        var directory = System.IO.Path.GetDirectoryName(full) ?? "/";
        return System.IO.Path.Combine(directory, System.IO.Path.GetFileNameWithoutExtension(full) + ".notify");
    }

    /// <summary>Removes every socket a previous run left; the services taken over bind theirs again.</summary>
    public void Sweep()
    {
        if (!Directory.Exists(Path))
        {
            return;
        }

        foreach (var file in Directory.EnumerateFileSystemEntries(Path))
        {
            try
            {
                File.Delete(file);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                Log.SweepFailed(_logger, file, ex.Message);
            }
        }
    }

    /// <summary>Binds <paramref name="service"/>'s socket; datagrams go to <paramref name="receive"/> (pid, uid, text) on the loop thread.</summary>
    /// <exception cref="IOException">The directory or the socket could not be made.</exception>
    public NotifySocket Open(string service, Action<int, uint, string> receive)
    {
        ProcessEventLoop loop;
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!Directory.Exists(Path))
            {
                // Reachable (not listable) by every user, for services running as another User=.
                Directory.CreateDirectory(Path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                    | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
            }

            loop = _loop ??= new ProcessEventLoop(_logger);
        }

        return NotifySocket.Bind(SocketPath(service), loop, service, receive, _logger);
    }

    /// <summary>Completes when <paramref name="pid"/>, a process the daemon did not start, has ended; null when it is gone already.</summary>
    public Task<ProcessExit>? WatchExit(int pid)
    {
        ProcessEventLoop loop;
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            loop = _loop ??= new ProcessEventLoop(_logger);
        }

        return PidWatch.Watch(pid, loop);
    }

    /// <summary>
    /// <c>NAME.sock</c>, or where that would not fit a Unix socket address (a long runtime directory or name), a
    /// name made of the service name's hash.
    /// </summary>
    internal string SocketPath(string service)
    {
        var path = System.IO.Path.Combine(Path, service + ".sock");
        if (Encoding.UTF8.GetByteCount(path) < Interop.Readiness.SunPathSize)
        {
            return path;
        }

        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(service)))[..16];
        return System.IO.Path.Combine(Path, string.Create(CultureInfo.InvariantCulture, $"{hash}.sock"));
    }

    /// <summary>Stops the event loop and removes the directory once its sockets are gone (each service removes its own when it stops).</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
        }

        _loop?.Dispose();
        try
        {
            // Empty by now: each service removed its socket when it stopped. Left in place if not.
            Directory.Delete(Path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Gone already, or not empty.
        }
    }
}
