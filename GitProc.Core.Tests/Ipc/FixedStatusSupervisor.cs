using GitProc.Supervision;
using GitProc.UnitFiles;

namespace GitProc.Core.Tests.Ipc;

/// <summary>
/// A supervisor that answers every status with one fixed value. Used instead of a Moq mock only where the mock's own
/// interception cost (microseconds per call) would swamp what the test measures: the IPC server's throughput.
/// </summary>
internal sealed class FixedStatusSupervisor(ServiceSnapshot status) : ISupervisor
{
    public ServiceSnapshot GetStatus(string service) => status;

    public Task<ServiceSnapshot> GetStatusAsync(string service, CancellationToken cancellationToken = default) => Task.FromResult(status);

    public IReadOnlyList<ServiceSnapshot> ListServices() => [status];

    public IReadOnlyList<UnitFile> AppliedUnits => [];

    public StateSaveError? LastStateError => null;

    public ApplyPlan Plan(IReadOnlyCollection<UnitFile> units) => throw new NotSupportedException();

    public Task<string?> InitializeAsync(CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public Task<ApplyResult> ApplyAsync(IReadOnlyCollection<UnitFile> units, string? commit = null, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException();

    public Task<ServiceSnapshot> StartAsync(string service, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public Task<ServiceSnapshot> StopAsync(string service, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public Task<ServiceSnapshot> RestartAsync(string service, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public Task<ServiceSnapshot> ReloadAsync(string service, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public Task StopAllAsync(CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public Task HandOverAsync(CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
