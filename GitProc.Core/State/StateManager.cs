using System.Globalization;
using System.Text.Json;
using GitProc.UnitFiles;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace GitProc.State;

/// <summary>
/// The default <see cref="IStateManager"/>: JSON written to a temporary file in the same directory,
/// flushed to disk, renamed over the state file, and the directory synced, so a crash at any moment leaves the old
/// or the new file. Saves are serialized and the most recent call's state wins.
/// </summary>
internal sealed class StateManager : IStateManager
{
    private const string TemporaryInfix = AtomicFile.TemporaryInfix;
    private const string CorruptInfix = ".corrupt-";

    private readonly string _path;
    private readonly string _directory;
    private readonly string _fileName;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger<StateManager> _logger;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private long _lastTicket;
    private long _writtenTicket;

    public StateManager(IOptions<PathOptions> options, TimeProvider timeProvider, ILogger<StateManager>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);

        _path = Path.GetFullPath(options.Value.StatePath);
        _directory = Path.GetDirectoryName(_path) ?? throw new ArgumentException($"The state path '{_path}' has no directory.", nameof(options));
        _fileName = Path.GetFileName(_path);
        _timeProvider = timeProvider;
        _logger = logger ?? NullLogger<StateManager>.Instance;
    }

    public async Task<SupervisorState> LoadAsync(CancellationToken cancellationToken = default)
    {
        // Under the gate so no save of ours is between writing its temporary file and renaming it.
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await ReadAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task SaveAsync(SupervisorState state, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(state);

        // The ticket is taken at call time: a call whose state is older than one already written skips its write,
        // so the last call wins however the gate orders the waiters.
        var ticket = Interlocked.Increment(ref _lastTicket);
        var document = ToDocument(state);

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (ticket < _writtenTicket)
            {
                return;
            }

            await WriteAtomicallyAsync(document, cancellationToken).ConfigureAwait(false);
            _writtenTicket = ticket;
            Log.StateSaved(_logger, _path, document.Services?.Count ?? 0, document.AppliedCommit);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task RegisterServiceAsync(ServiceRecord service, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(service);
        if (!UnitFileParser.IsValidServiceName(service.Name))
        {
            throw new ArgumentException(
                $"'{service.Name}' is not a valid service name: use only A-Z, a-z, 0-9, ':', '_', '.', '@' and '-', not starting with '.'.",
                nameof(service));
        }

        await ChangeServiceAsync(service.Name, _ => service, cancellationToken).ConfigureAwait(false);
    }

    public async Task<ServiceRecord?> GetServiceAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        var state = await LoadAsync(cancellationToken).ConfigureAwait(false);
        return state.Services.GetValueOrDefault(name);
    }

    public Task<ServiceRecord> UpdateStatusAsync(string name, ServiceStatus status, int? exitCode = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!Enum.IsDefined(status))
        {
            throw new ArgumentOutOfRangeException(nameof(status), status, "Not a service status: use Running, Stopped or Failed.");
        }

        return ChangeServiceAsync(
            name,
            recorded =>
            {
                if (recorded is null)
                {
                    throw new KeyNotFoundException($"The state file {_path} records no service named '{name}'; register it first.");
                }

                var updated = recorded with { Status = status, LastExitCode = exitCode ?? recorded.LastExitCode };

                // A later daemon takes over (or stops) a recorded process by its pid and start ticks: a service said
                // not to run must not leave them behind for a process that may since be another one.
                return status == ServiceStatus.Running
                    ? updated
                    : updated with { Pid = null, ProcessStartTicks = null, OutputPipe = null, PendingOutput = null, UnitDigest = null };
            },
            cancellationToken);
    }

    public async Task<IReadOnlyDictionary<string, ServiceRecord>> GetAllServicesAsync(CancellationToken cancellationToken = default)
    {
        var state = await LoadAsync(cancellationToken).ConfigureAwait(false);
        return state.Services;
    }

    /// <summary>
    /// Reads the file, replaces one service with what <paramref name="change"/> makes of it (given <see langword="null"/>
    /// when it is not recorded) and writes the file back, all under the gate, so no other call's change comes between.
    /// </summary>
    /// <remarks>
    /// It takes no save ticket, so a whole-document save waiting for the gate still writes: that save is its
    /// caller's latest word, and the whole document replaces this change as it replaces any earlier file.
    /// </remarks>
    private async Task<ServiceRecord> ChangeServiceAsync(string name, Func<ServiceRecord?, ServiceRecord> change, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var state = await ReadAsync(cancellationToken).ConfigureAwait(false);
            var updated = change(state.Services.GetValueOrDefault(name));
            var services = new Dictionary<string, ServiceRecord>(state.Services, StringComparer.Ordinal) { [name] = updated };
            var document = ToDocument(state with { Services = services });
            await WriteAtomicallyAsync(document, cancellationToken).ConfigureAwait(false);
            Log.ServiceSaved(_logger, _path, name, updated.Status);
            return updated;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Reads the state file; the caller holds the gate.</summary>
    private async Task<SupervisorState> ReadAsync(CancellationToken cancellationToken)
    {
        RemoveTemporaryLeftovers();

        byte[] bytes;
        try
        {
            bytes = await File.ReadAllBytesAsync(_path, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            Log.StateFileMissing(_logger, _path);
            return new SupervisorState();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new StateFileException(_path, $"Could not read the state file {_path}: {ex.Message}", ex);
        }

        if (TryParse(bytes, out var state, out var error))
        {
            Log.StateLoaded(_logger, _path, state.Services.Count, state.AppliedCommit);
            return state;
        }

        var corruptPath = MoveAside();
        Log.StateFileCorrupt(_logger, _path, error, corruptPath);
        return new SupervisorState();
    }

    private static StateDocument ToDocument(SupervisorState state)
    {
        var services = new Dictionary<string, ServiceRecord>(StringComparer.Ordinal);
        foreach (var (name, service) in state.Services)
        {
            ArgumentNullException.ThrowIfNull(service, nameof(state));
            services[name] = service.Name == name ? service : service with { Name = name };
        }

        return new StateDocument
        {
            Version = StateDocument.CurrentVersion,
            AppliedCommit = state.AppliedCommit,
            RejectedCommit = state.RejectedCommit,
            Services = services,
            AppliedUnits = [.. state.AppliedUnits],
        };
    }

    private static bool TryParse(byte[] bytes, out SupervisorState state, out string error)
    {
        state = new SupervisorState();
        StateDocument? document;
        try
        {
            document = JsonSerializer.Deserialize(bytes, StateJsonContext.Default.StateDocument);
        }
        catch (JsonException ex)
        {
            error = ex.Message;
            return false;
        }

        if (document is null)
        {
            error = "the file holds null instead of an object";
            return false;
        }

        if (document.Version != StateDocument.CurrentVersion)
        {
            error = $"unknown format version {document.Version.ToString(CultureInfo.InvariantCulture)} (this GitProc reads version {StateDocument.CurrentVersion.ToString(CultureInfo.InvariantCulture)})";
            return false;
        }

        var services = new Dictionary<string, ServiceRecord>(StringComparer.Ordinal);
        foreach (var (name, service) in document.Services ?? [])
        {
            if (service is null)
            {
                error = $"the entry of service '{name}' is null";
                return false;
            }

            // The key is authoritative: it is what every other part of the file refers to.
            services[name] = service.Name == name ? service : service with { Name = name };
        }

        var nullUnit = document.AppliedUnits?.FindIndex(u => u is null) ?? -1;
        if (nullUnit >= 0)
        {
            error = $"applied unit {nullUnit} is null";
            return false;
        }

        state = new SupervisorState
        {
            AppliedCommit = document.AppliedCommit,
            RejectedCommit = document.RejectedCommit,
            Services = services,
            AppliedUnits = document.AppliedUnits ?? [],
        };
        error = string.Empty;
        return true;
    }

    private Task WriteAtomicallyAsync(StateDocument document, CancellationToken cancellationToken) =>
        AtomicFile.WriteJsonAsync(_path, document, StateJsonContext.Default.StateDocument, _logger, cancellationToken);

    private string MoveAside()
    {
        var stamp = _timeProvider.GetUtcNow().UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        var baseName = _path + CorruptInfix + stamp;
        var target = baseName;
        for (var attempt = 2; ; attempt++)
        {
            try
            {
                // No overwrite: an earlier corrupt file from the same second is kept too.
                File.Move(_path, target, overwrite: false);
                return target;
            }
            catch (IOException) when (File.Exists(target) && attempt < 1000)
            {
                target = string.Create(CultureInfo.InvariantCulture, $"{baseName}-{attempt}");
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new StateFileException(
                    _path,
                    $"The state file {_path} is unreadable and could not be moved aside to {target}: {ex.Message} "
                    + "Move or fix it by hand; GitProc will not overwrite it.",
                    ex);
            }
        }
    }

    private void RemoveTemporaryLeftovers()
    {
        if (!Directory.Exists(_directory))
        {
            return;
        }

        foreach (var leftover in Directory.EnumerateFiles(_directory, _fileName + TemporaryInfix + "*"))
        {
            if (IsHeldByAnotherLiveWriter(leftover))
            {
                continue;
            }

            try
            {
                File.Delete(leftover);
                Log.TemporaryFileRemoved(_logger, leftover);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                Log.TemporaryFileRemovalFailed(_logger, leftover, ex);
            }
        }
    }

    private bool IsHeldByAnotherLiveWriter(string temporaryPath)
    {
        // The name carries the writer's pid. Our own are leftovers (no save of ours runs under the gate); another
        // process's are only leftovers once it is gone, so a second process sharing the file is not broken.
        var suffix = Path.GetFileName(temporaryPath).AsSpan((_fileName + TemporaryInfix).Length);
        var dash = suffix.IndexOf('-');
        if (dash <= 0 || !int.TryParse(suffix[..dash], NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
        {
            return false;
        }

        return pid != Environment.ProcessId && OperatingSystem.IsLinux() && Directory.Exists($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}");
    }
}
