namespace GitProc.Core.Tests.Health;

/// <summary>What a supervisor offers to restart a service; mocked in the tests of <see cref="RestartOnUnhealthy"/>.</summary>
public interface IServiceRestarter
{
    Task RestartAsync(string service, CancellationToken cancellationToken);
}
