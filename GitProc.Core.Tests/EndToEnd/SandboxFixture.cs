using System.Runtime.Versioning;

namespace GitProc.Core.Tests.EndToEnd;

/// <summary>
/// The base of end-to-end fixtures that need one <see cref="GitProcSandbox"/> per test: created (repository, config,
/// no daemon yet) before each test and any set-up of the derived fixture, disposed after its tear-down, which stops
/// the daemon and checks that nothing it started survives.
/// </summary>
[Platform(Include = "Linux")]
[SupportedOSPlatform("linux")]
public abstract class SandboxFixture
{
    /// <summary>This test's sandbox; the test starts its daemon.</summary>
    private protected GitProcSandbox Sandbox { get; private set; } = null!;

    [SetUp]
    public async Task CreateSandboxAsync() => Sandbox = await GitProcSandbox.CreateAsync(CancellationToken.None);

    [TearDown]
    public async Task DisposeSandboxAsync()
    {
        // Null when creating it failed: the failure is the test's result, not a second one here.
        if (Sandbox is not null)
        {
            await Sandbox.DisposeAsync();
        }
    }
}
