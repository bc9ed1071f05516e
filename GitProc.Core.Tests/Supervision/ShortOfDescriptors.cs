using GitProc.Processes;

namespace GitProc.Core.Tests.Supervision;

/// <summary>
/// A real process manager whose starts (main commands and Exec* commands alike) follow <see cref="Plan"/>: each start
/// takes the plan's next letter, and <c>S</c> makes it fail the way the real one fails when the daemon is out of
/// descriptors; any other letter, or an exhausted plan, starts the process.
/// </summary>
internal sealed class ShortOfDescriptors(IProcessManager inner) : IProcessManager
{
    private readonly Lock _lock = new();
    private string _plan = string.Empty;
    private int _attempts;
    private int _started;

    /// <summary>What the next starts do, one letter each: <c>S</c> for short of descriptors.</summary>
    public string Plan
    {
        get
        {
            lock (_lock)
            {
                return _plan;
            }
        }

        set
        {
            lock (_lock)
            {
                _plan = value;
            }
        }
    }

    /// <summary>Every start asked for, failed or not.</summary>
    public int Attempts => Volatile.Read(ref _attempts);

    /// <summary>The starts that were passed on to the real process manager.</summary>
    public int Started => Volatile.Read(ref _started);

    public async Task<IServiceProcess> StartAsync(ProcessLaunch launch, CancellationToken cancellationToken = default)
    {
        await FailIfShortAsync(launch);
        return await inner.StartAsync(launch, cancellationToken);
    }

    public async Task<ProcessExit> RunAsync(ProcessLaunch launch, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        await FailIfShortAsync(launch);
        return await inner.RunAsync(launch, timeout, cancellationToken);
    }

    public bool IsSameProcessAlive(int pid, long startTicks) => inner.IsSameProcessAlive(pid, startTicks);

    public IServiceProcess? Adopt(ProcessLaunch launch, ProcessInfo recorded) => inner.Adopt(launch, recorded);

    public void Suspend() => inner.Suspend();

    public Task StopRecordedAsync(int pid, long startTicks, int signal, TimeSpan timeout, CancellationToken cancellationToken = default) =>
        inner.StopRecordedAsync(pid, startTicks, signal, timeout, cancellationToken);

    private async Task FailIfShortAsync(ProcessLaunch launch)
    {
        Interlocked.Increment(ref _attempts);
        bool shortOfDescriptors;
        lock (_lock)
        {
            shortOfDescriptors = _plan.StartsWith('S');
            _plan = _plan.Length > 0 ? _plan[1..] : _plan;
        }

        if (!shortOfDescriptors)
        {
            Interlocked.Increment(ref _started);
            return;
        }

        // As the real one: the output writer is the manager's from the call on, and a failed start disposes it.
        if (launch.Output is not null)
        {
            await launch.Output.DisposeAsync();
        }

        throw new ProcessStartException(
            launch.Unit.Name,
            launch.Command.Arguments[0],
            "cannot create its output pipe: Too many open files: the daemon is out of file descriptors (its open-file limit is reached)")
        {
            IsResourceShortage = true,
        };
    }
}
