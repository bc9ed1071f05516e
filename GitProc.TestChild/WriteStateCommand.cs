using System.Globalization;
using GitProc.State;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace GitProc.TestChild;

/// <summary>
/// <c>write-state PATH COUNT</c>: saves COUNT states through the real StateManager, printing <c>saved 0</c> after the
/// first, so a test can kill it mid-write. State number i has applied commit <c>commit-i</c> and 1 + i % 40 services
/// <c>svc0..</c>, each with restart count i: a reader can tell a whole state from a torn one.
/// </summary>
internal static class WriteStateCommand
{
    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length != 2 || !int.TryParse(args[1], NumberStyles.None, CultureInfo.InvariantCulture, out var count))
        {
            Console.Error.WriteLine("usage: GitProc.TestChild write-state <path> <count>");
            return 2;
        }

        var manager = new StateManager(
            Options.Create(new PathOptions { StatePath = args[0] }),
            TimeProvider.System,
            NullLogger<StateManager>.Instance);

        for (var i = 0; i < count; i++)
        {
            await manager.SaveAsync(Build(i));
            if (i == 0)
            {
                Console.Out.WriteLine("saved 0");
                Console.Out.Flush();
            }
        }

        return 0;
    }

    private static SupervisorState Build(int i)
    {
        var services = new Dictionary<string, ServiceRecord>();
        for (var j = 0; j < 1 + (i % 40); j++)
        {
            var name = string.Create(CultureInfo.InvariantCulture, $"svc{j}");
            services[name] = new ServiceRecord
            {
                Name = name,
                Status = (ServiceStatus)(j % 3),
                Pid = 1000 + j,
                ProcessStartTicks = 123456789L + j,
                StartTime = new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero).AddSeconds(i),
                RestartCount = i,
                LastExitCode = j % 2 == 0 ? null : j,
                ManuallyStopped = j % 5 == 0,
            };
        }

        return new SupervisorState
        {
            AppliedCommit = string.Create(CultureInfo.InvariantCulture, $"commit-{i}"),
            Services = services,
        };
    }
}
