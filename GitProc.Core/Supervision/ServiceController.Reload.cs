using System.Globalization;
using GitProc.Processes;
using GitProc.UnitFiles;

namespace GitProc.Supervision;

/// <summary><c>gitproc reload NAME</c>: ExecReload= commands, else ReloadSignal= to the main process.</summary>
internal sealed partial class ServiceController
{
    // systemd bounds a reload by TimeoutStartSec=, whose default is 90 s.
    private static readonly TimeSpan DefaultReloadTimeout = TimeSpan.FromSeconds(90);

    /// <summary>
    /// Reloads the running service: runs its <c>ExecReload=</c> commands in order with <c>$MAINPID</c> set and waits for
    /// them (bounded by <c>TimeoutStartSec=</c>/<c>TimeoutSec=</c>, else 90 s), or, without any, sends its
    /// <c>ReloadSignal=</c> to the main process. The service keeps running whatever the outcome.
    /// </summary>
    /// <exception cref="ServiceOperationException">
    /// The unit has neither, the service is not running, or a command failed; the message says which.
    /// </exception>
    public async Task<ServiceSnapshot> ReloadAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            IServiceProcess? process;
            UnitFile unit;
            bool exitedActive;
            lock (_sync)
            {
                process = _process is { Exited.IsCompleted: false } p ? p : null;
                unit = _unit;
                exitedActive = _state.ExitedActive;
            }

            if (unit.ExecReload.Count == 0 && unit.ReloadSignal is null)
            {
                // systemd: "Job type reload is not applicable for unit NAME.service".
                throw new ServiceOperationException(Name, $"{Name} has no ExecReload= and no ReloadSignal=, so it cannot be reloaded; restart it instead");
            }

            if (process is null && !(exitedActive && unit.ExecReload.Count > 0))
            {
                throw new ServiceOperationException(Name, $"Service not running: {Name}");
            }

            if (unit.ExecReload.Count > 0)
            {
                foreach (var command in unit.ExecReload)
                {
                    await RunReloadCommandAsync(unit, command, process).ConfigureAwait(false);
                }

                _context.Logger.ServiceReloaded(Name, $"ran {unit.ExecReload.Count} ExecReload command(s)");
            }
            else if (process!.Signal(unit.ReloadSignal!.Value))
            {
                _context.Logger.ServiceReloaded(Name, string.Create(CultureInfo.InvariantCulture, $"sent SIG{SignalNames.ToName(unit.ReloadSignal.Value)} to PID {process.Info.Pid}"));
            }
            else
            {
                throw new ServiceOperationException(Name, $"Service not running: {Name}");
            }
        }
        finally
        {
            _gate.Release();
        }

        return Snapshot();
    }

    private async Task RunReloadCommandAsync(UnitFile unit, UnitCommand command, IServiceProcess? process)
    {
        ProcessExit exit;
        try
        {
            exit = await _context.Processes.RunAsync(_launch.Launch(unit, command).WithEnvironment(LaunchSequence.MainPidVariable(process)), ReloadTimeout(unit)).ConfigureAwait(false);
        }
        catch (ProcessStartException ex) when (!command.IgnoreFailure)
        {
            throw new ServiceOperationException(Name, $"Reloading {Name} failed: {ex.Message}", ex);
        }
        catch (ProcessStartException)
        {
            return;
        }

        if (!exit.IsSuccess && !(command.IgnoreFailure && !exit.TimedOut))
        {
            throw new ServiceOperationException(Name, $"Reloading {Name} failed: ExecReload command '{command.CommandLine}' {exit}");
        }
    }

    /// <summary>
    /// <c>TimeoutStartSec=</c> (or <c>TimeoutSec=</c>) as written in the unit, else systemd's 90 s; <c>0</c> and
    /// <c>infinity</c> mean no limit. Read from the unit's raw keys: the typed unit has only the stop timeout.
    /// </summary>
    internal static TimeSpan ReloadTimeout(UnitFile unit)
    {
        if (unit.Sections.TryGetValue(SystemdKeys.ServiceSection, out var keys))
        {
            foreach (var key in (ReadOnlySpan<string>)["TimeoutStartSec", "TimeoutSec"])
            {
                if (keys.TryGetValue(key, out var values) && values.Count > 0 && values[^1].Length > 0
                    && SystemdTimeSpan.TryParse(values[^1], out var span, out var infinite, out _))
                {
                    return infinite || span == TimeSpan.Zero ? Timeout.InfiniteTimeSpan : span;
                }
            }
        }

        return DefaultReloadTimeout;
    }
}
