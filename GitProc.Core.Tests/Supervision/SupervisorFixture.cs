using System.Runtime.Versioning;

namespace GitProc.Core.Tests.Supervision;

/// <summary>
/// The base of fixtures that need one <see cref="SupervisorHarness"/> per test: created before each test and any set-up
/// of the derived fixture, disposed after its tear-down, and then checked: no process and no cgroup of the test survives.
/// </summary>
[Platform(Include = "Linux")]
[SupportedOSPlatform("linux")]
public abstract class SupervisorFixture
{
    /// <summary>This test's harness.</summary>
    private protected SupervisorHarness Harness { get; private set; } = null!;

    [SetUp]
    public void CreateHarness() => Harness = new SupervisorHarness();

    [TearDown]
    public async Task DisposeHarnessAsync()
    {
        await Harness.DisposeAsync();
        Assert.That(Harness.LeftAfterDispose, Is.Empty, "processes of the test survived the supervisor's disposal");
        Assert.That(Harness.CgroupDirectories(), Is.Empty, "cgroups of the test were left behind");
    }
}
