using GitProc.Health;
using GitProc.Processes;
using GitProc.ResourceControl;
using GitProc.State;

namespace EmbeddedGitOps;

/// <summary>One service as the report sees it.</summary>
/// <param name="Name">The service.</param>
/// <param name="Status">Its status as recorded in the state file.</param>
/// <param name="Pid">Its main process, when recorded.</param>
/// <param name="ProcessAlive">Whether that very process (same pid and start time) still runs.</param>
/// <param name="Health">Its health check's verdict; <see langword="null"/> when it has no check.</param>
internal sealed record ServiceRow(string Name, ServiceStatus Status, int? Pid, bool ProcessAlive, HealthReport? Health);

/// <summary>The application's view of its services, and whether it is ready.</summary>
/// <param name="Services">Every recorded service, by name.</param>
/// <param name="ResourceLimits">Whether cgroup limits are enforced, and where (or why not).</param>
/// <param name="Problems">Why the application is not ready; empty when it is.</param>
internal sealed record ServiceReportResult(IReadOnlyList<ServiceRow> Services, string ResourceLimits, IReadOnlyList<string> Problems)
{
    /// <summary>No service failed, and every running one has its process and is not unhealthy.</summary>
    public bool IsReady => Problems.Count == 0;
}

/// <summary>
/// A readiness report over GitProc's components, as a load balancer's probe or an operator's page would want it: the
/// recorded services (from the state file, so it sees what the supervisor last saved), whether each recorded process
/// is still that process, each health check's verdict, and whether resource limits are enforced.
/// </summary>
internal sealed class ServiceReport(IStateManager state, IProcessManager processes, IHealthMonitor health, IResourceController resources)
{
    public async Task<ServiceReportResult> CreateAsync(CancellationToken cancellationToken = default)
    {
        var recorded = await state.GetAllServicesAsync(cancellationToken);
        var rows = new List<ServiceRow>();
        var problems = new List<string>();
        foreach (var service in recorded.Values.OrderBy(s => s.Name, StringComparer.Ordinal))
        {
            var alive = service is { Status: ServiceStatus.Running, Pid: { } pid, ProcessStartTicks: { } startTicks }
                && processes.IsSameProcessAlive(pid, startTicks);
            var report = health.GetReport(service.Name);
            rows.Add(new ServiceRow(service.Name, service.Status, service.Pid, alive, report));

            if (service.Status == ServiceStatus.Failed)
            {
                problems.Add($"{service.Name} failed (last exit code {service.LastExitCode?.ToString() ?? "unknown"})");
            }
            else if (service.Status == ServiceStatus.Running && !alive)
            {
                problems.Add($"{service.Name} is recorded as running, but its process {service.Pid} is gone");
            }
            else if (report?.State == HealthState.Unhealthy)
            {
                problems.Add($"{service.Name} is unhealthy: {report.LastError}");
            }
        }

        return new ServiceReportResult(rows, resources.Status.ToString(), problems);
    }
}
