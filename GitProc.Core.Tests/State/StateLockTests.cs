using System.Runtime.Versioning;
using GitProc.Locking;
using GitProc.State;
using Microsoft.Extensions.Logging.Abstractions;

namespace GitProc.Core.Tests.State;

/// <summary>One daemon per state (CONTRACT §9): the lock beside the state file.</summary>
[Platform(Include = "Linux")]
[SupportedOSPlatform("linux")]
public sealed class StateLockTests
{
    private string _directory = null!;

    [SetUp]
    public void SetUp() => _directory = Directory.CreateTempSubdirectory("gitproc-statelock-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_directory, recursive: true);

    [Test]
    public void A_second_lock_of_the_same_state_is_refused_with_one_line_naming_the_holder_the_state_and_the_lock()
    {
        var state = Path.Combine(_directory, "nested", "state.json");
        using var first = StateLock.Acquire(state, NullLogger.Instance);

        var error = Assert.Throws<LockHeldException>(() => StateLock.Acquire(state, NullLogger.Instance));

        Assert.That(first, Is.Not.Null);
        Assert.That(File.Exists(state), Is.False, "only the lock file is created, beside the state file");
        Assert.That(File.Exists(state + ".lock"), Is.True);
        Assert.That(error!.Message, Is.EqualTo(
            $"Another gitproc daemon (PID {Environment.ProcessId}) owns the state {state} (lock {state}.lock); stop it first or give this one its own --state."));
        Assert.That(error.Message, Does.Not.Contain("\n"));
        Assert.That((error.Path, error.LockPath, error.HolderPid), Is.EqualTo((state, state + ".lock", (int?)Environment.ProcessId)));
    }

    [Test]
    public void The_lock_can_be_taken_again_once_released()
    {
        var state = Path.Combine(_directory, "state.json");
        StateLock.Acquire(state, NullLogger.Instance)!.Dispose();

        using var again = StateLock.Acquire(state, NullLogger.Instance);

        Assert.That(again, Is.Not.Null);
    }

    [Test]
    public void A_state_whose_directory_cannot_be_made_is_an_error_naming_the_state_and_the_lock_file()
    {
        var blocker = Path.Combine(_directory, "file");
        File.WriteAllText(blocker, "not a directory");
        var state = Path.Combine(blocker, "state.json");

        var error = Assert.Throws<StateFileException>(() => StateLock.Acquire(state, NullLogger.Instance));

        Assert.That(error!.Message, Does.Contain(state).And.Contain(state + ".lock"));
    }
}
