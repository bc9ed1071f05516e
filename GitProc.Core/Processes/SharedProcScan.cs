using System.Runtime.Versioning;

namespace GitProc.Processes;

/// <summary>
/// Walks of <c>/proc</c> shared by everyone who asks at the same moment. A walk costs time in proportion to the
/// number of processes on the machine; when N services stop together (daemon shutdown, a commit removing them) and
/// each walked <c>/proc</c> on its own, stopping cost O(N²). Here a caller gets the next walk that <em>begins after
/// its request</em>, which is exactly as fresh as a walk of its own (a process forked before the request is in it),
/// while every request made during one walk is answered by the single walk that follows it. At most one walk runs at
/// a time.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class SharedProcScan
{
    private readonly Func<ProcSnapshot> _take;
    private readonly Lock _lock = new();
    private TaskCompletionSource<ProcSnapshot>? _pending;
    private bool _running;
    private long _walks;

    /// <param name="take">Takes one snapshot; <see cref="ProcSnapshot.Take"/> outside tests.</param>
    internal SharedProcScan(Func<ProcSnapshot> take) => _take = take;

    /// <summary>The process-wide instance: <c>/proc</c> is one for the whole daemon.</summary>
    public static SharedProcScan Shared { get; } = new(ProcSnapshot.Take);

    /// <summary>How many walks were begun; the cost of stopping, as the tests observe it.</summary>
    internal long Walks => Interlocked.Read(ref _walks);

    /// <summary>A snapshot whose walk began after this call.</summary>
    public Task<ProcSnapshot> NextAsync()
    {
        lock (_lock)
        {
            if (_pending is null)
            {
                _pending = new TaskCompletionSource<ProcSnapshot>(TaskCreationOptions.RunContinuationsAsynchronously);
                if (!_running)
                {
                    _running = true;
                    _ = Task.Run(RunWalks);
                }
            }

            return _pending.Task;
        }
    }

    /// <summary>The live members of <paramref name="leader"/>'s process group and session, from the next walk.</summary>
    public async Task<List<int>> LiveMembersAsync(int leader) =>
        (await NextAsync().ConfigureAwait(false)).LiveMembers(leader);

    /// <summary>The live members of <paramref name="leader"/>'s session outside its process group, from the next walk.</summary>
    public async Task<List<int>> OutsideGroupAsync(int leader) =>
        (await NextAsync().ConfigureAwait(false)).OutsideGroup(leader);

    private void RunWalks()
    {
        while (true)
        {
            TaskCompletionSource<ProcSnapshot>? waiting;
            lock (_lock)
            {
                // Taken before the walk begins: whoever asks from now on waits for the next one.
                waiting = _pending;
                _pending = null;
                if (waiting is null)
                {
                    _running = false;
                    return;
                }
            }

            Interlocked.Increment(ref _walks);
            try
            {
                waiting.SetResult(_take());
            }
#pragma warning disable CA1031 // The waiters get the failure; the loop must go on serving the next ones.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                waiting.SetException(ex);
            }
        }
    }
}
