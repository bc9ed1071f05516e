using System.Diagnostics;
using System.Runtime.Versioning;
using System.Text;
using GitProc.Core.Tests.TestSupport;
using GitProc.Locking;
using Microsoft.Win32.SafeHandles;

namespace GitProc.Core.Tests.Locking;

/// <summary>The exclusive lock behind "one daemon per state and per cgroup root" (CONTRACT §9), on real files, directories and processes.</summary>
[Platform(Include = "Linux")]
[SupportedOSPlatform("linux")]
[CancelAfter(60_000)]
public class ExclusiveLockTests
{
    private string _directory = null!;
    private string _path = null!;

    [SetUp]
    public void SetUp()
    {
        _directory = Directory.CreateTempSubdirectory("gitproc-lock-").FullName;
        _path = Path.Combine(_directory, "state.json.lock");
    }

    [TearDown]
    public void TearDown() => Directory.Delete(_directory, recursive: true);

    [Test]
    public void A_second_acquisition_in_the_same_process_is_refused_and_names_this_process()
    {
        using var first = ExclusiveLock.TryAcquireFile(_path, out var noHolder);
        Assert.That(first, Is.Not.Null);
        Assert.That(noHolder, Is.Null);

        // flock belongs to the open file description: a second open in the same process conflicts too.
        using var second = ExclusiveLock.TryAcquireFile(_path, out var holder);

        Assert.That(second, Is.Null);
        Assert.That(holder, Is.EqualTo(Environment.ProcessId));
    }

    [Test]
    public void The_lock_file_holds_the_holders_pid_and_disposing_releases_the_lock()
    {
        using (var held = ExclusiveLock.TryAcquireFile(_path, out _))
        {
            Assert.That(held, Is.Not.Null);
            Assert.That(ReadContent(_path), Is.EqualTo($"{Environment.ProcessId}\n"));
            Assert.That(ExclusiveLock.ReadRecordedPid(_path), Is.EqualTo(Environment.ProcessId));
        }

        using var again = ExclusiveLock.TryAcquireFile(_path, out var holder);
        Assert.That(again, Is.Not.Null, "the lock is free once its holder is disposed");
        Assert.That(holder, Is.Null);
        Assert.That(File.Exists(_path), Is.True, "the lock file stays: removing it could race a daemon that just opened it");
    }

    [Test]
    public async Task Another_process_is_named_by_its_pid_even_when_the_file_names_someone_else()
    {
        using var child = await HoldInChildAsync(_path);

        // A stale or forged pid in the file does not fool it: /proc/locks says who holds the lock.
        Overwrite(_path, "4242\n");
        using var refused = ExclusiveLock.TryAcquireFile(_path, out var holder);

        Assert.That(refused, Is.Null);
        Assert.That(holder, Is.EqualTo(child.Id));
        Kill(child);
    }

    [Test]
    public async Task The_lock_is_released_when_its_holder_is_killed_with_SIGKILL()
    {
        using var child = await HoldInChildAsync(_path);
        using (var refused = ExclusiveLock.TryAcquireFile(_path, out var holder))
        {
            Assert.That(refused, Is.Null);
            Assert.That(holder, Is.EqualTo(child.Id));
        }

        Kill(child);

        using var acquired = ExclusiveLock.TryAcquireFile(_path, out _);
        Assert.That(acquired, Is.Not.Null, "a SIGKILLed holder leaves no lock behind");
        Assert.That(ExclusiveLock.ReadRecordedPid(_path), Is.EqualTo(Environment.ProcessId), "the new holder's pid replaces the dead one's");
    }

    [Test]
    public void A_directory_can_be_locked_and_a_second_lock_of_it_names_the_holder()
    {
        using var first = ExclusiveLock.TryAcquireDirectory(_directory, out _);
        using var second = ExclusiveLock.TryAcquireDirectory(_directory, out var holder);

        Assert.That(first, Is.Not.Null);
        Assert.That(second, Is.Null);
        Assert.That(holder, Is.EqualTo(Environment.ProcessId));
    }

    [Test]
    public void A_cgroupfs_directory_can_be_locked()
    {
        const string Memory = "/sys/fs/cgroup/memory";
        if (!Environment.IsPrivilegedProcess || !Directory.Exists(Memory))
        {
            Assert.Ignore("Needs root and a cgroup v1 memory hierarchy.");
        }

        var cgroup = Path.Combine(Memory, "gitproc-locktest-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(cgroup);
        try
        {
            using var first = ExclusiveLock.TryAcquireDirectory(cgroup, out _);
            using var second = ExclusiveLock.TryAcquireDirectory(cgroup, out var holder);

            Assert.That(first, Is.Not.Null, "flock works on cgroupfs directories");
            Assert.That(second, Is.Null);
            Assert.That(holder, Is.EqualTo(Environment.ProcessId));
        }
        finally
        {
            Directory.Delete(cgroup);
        }
    }

    [Test]
    public void The_descriptor_is_close_on_exec_until_KeepAcrossExec_clears_it()
    {
        using var held = ExclusiveLock.TryAcquireFile(_path, out _)!;
        Assert.That(CloseOnExec(held.Descriptor), Is.True, "a service spawned by the daemon must not inherit the lock");

        held.KeepAcrossExec();

        Assert.That(CloseOnExec(held.Descriptor), Is.False);
    }

    [Test]
    public void A_lock_kept_across_exec_is_held_by_the_executed_program_until_it_ends()
    {
        var held = ExclusiveLock.TryAcquireFile(_path, out _)!;
        held.KeepAcrossExec();
        using var child = Process.Start(new ProcessStartInfo("/bin/sleep", "30") { UseShellExecute = false })!;
        held.Dispose();
        try
        {
            using var refused = ExclusiveLock.TryAcquireFile(_path, out var holder);
            Assert.That(refused, Is.Null, "the executed program's copy of the descriptor still holds the lock");

            // The kernel records the process that took the lock.
            Assert.That(holder, Is.EqualTo(Environment.ProcessId));
        }
        finally
        {
            Kill(child);
        }

        using var acquired = ExclusiveLock.TryAcquireFile(_path, out _);
        Assert.That(acquired, Is.Not.Null);
    }

    [Test]
    public void An_inherited_descriptor_is_taken_over_and_made_close_on_exec_again()
    {
        var held = ExclusiveLock.TryAcquireFile(_path, out _)!;
        held.KeepAcrossExec();

        // What a re-executed daemon finds: the same open file description under some descriptor number.
        var inherited = Duplicate(held.Descriptor);
        held.Dispose();
        using var adopted = ExclusiveLock.FromInheritedDescriptor(inherited, _path);

        Assert.That(adopted.Descriptor, Is.EqualTo(inherited));
        Assert.That(CloseOnExec(inherited), Is.True);
        using (var refused = ExclusiveLock.TryAcquireFile(_path, out var holder))
        {
            Assert.That(refused, Is.Null, "the adopted descriptor holds the lock");
            Assert.That(holder, Is.EqualTo(Environment.ProcessId));
        }

        adopted.Dispose();
        using var free = ExclusiveLock.TryAcquireFile(_path, out _);
        Assert.That(free, Is.Not.Null);
    }

    [Test]
    public void A_descriptor_that_does_not_hold_the_lock_is_not_taken_over()
    {
        using var held = ExclusiveLock.TryAcquireFile(_path, out _)!;
        var other = Interop.Locking.Open(_path, Interop.Processes.O_RDONLY | Interop.Processes.O_CLOEXEC, 0);
        Assert.That(other, Is.GreaterThanOrEqualTo(0));

        var error = Assert.Throws<IOException>(() => ExclusiveLock.FromInheritedDescriptor(other, _path));

        Assert.That(error!.Message, Does.Contain(_path).And.Contain("does not hold the lock"));
    }

    [Test]
    public void A_lock_file_that_cannot_be_created_is_an_error_naming_it()
    {
        var missing = Path.Combine(_directory, "no-such-directory", "state.json.lock");

        var error = Assert.Throws<IOException>(() => ExclusiveLock.TryAcquireFile(missing, out _));

        Assert.That(error!.Message, Does.Contain(missing));
    }

    [Test]
    public void Proc_locks_lines_are_matched_by_device_and_inode_and_waiters_and_posix_locks_are_skipped()
    {
        const string Text = """
            1: POSIX  ADVISORY  WRITE 111 fd:01:5000 0 EOF
            2: FLOCK  ADVISORY  WRITE 222 00:20:62999 0 EOF
            2: -> FLOCK  ADVISORY  WRITE 333 00:20:62999 0 EOF
            3: FLOCK  ADVISORY  WRITE 444 fd:01:5000 0 EOF
            4: OFDLCK ADVISORY  READ  -1 fd:01:5000 0 EOF
            """;

        Assert.Multiple(() =>
        {
            Assert.That(LockHolders.Find(Text, 0x00, 0x20, 62999), Is.EqualTo(222));
            Assert.That(LockHolders.Find(Text, 0xfd, 0x01, 5000), Is.EqualTo(444));
            Assert.That(LockHolders.Find(Text, 0xfd, 0x01, 5001), Is.Null);
            Assert.That(LockHolders.Find(string.Empty, 0, 0x20, 62999), Is.Null);
        });
    }

    /// <summary>Starts GitProc.TestChild holding the lock on <paramref name="path"/>, once it says it holds it.</summary>
    private static async Task<Process> HoldInChildAsync(string path)
    {
        var info = TestChild.StartInfo("hold-lock", path);
        info.RedirectStandardInput = true;
        var child = Process.Start(info)!;
        var line = await child.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30));
        if (line != "locked")
        {
            Kill(child);
            Assert.Fail($"the child did not take the lock: '{line}' {await child.StandardError.ReadToEndAsync()}");
        }

        return child;
    }

    private static void Kill(Process process)
    {
        _ = Interop.Processes.Kill(process.Id, 9);
        process.WaitForExit(30_000);
        Assert.That(ProcScan.IsAlive(process.Id), Is.False);
    }

    private static bool CloseOnExec(int fd)
    {
        using var handle = new SafeFileHandle(fd, ownsHandle: false);
        var flags = Interop.Locking.Fcntl(handle, Interop.Locking.F_GETFD, 0);
        Assert.That(flags, Is.GreaterThanOrEqualTo(0));
        return (flags & Interop.Locking.FD_CLOEXEC) != 0;
    }

    private static int Duplicate(int fd)
    {
        const int F_DUPFD = 0;
        using var handle = new SafeFileHandle(fd, ownsHandle: false);
        var copy = Interop.Locking.Fcntl(handle, F_DUPFD, 3);
        Assert.That(copy, Is.GreaterThanOrEqualTo(0));
        return copy;
    }

    /// <summary>Reads the file without .NET's advisory locking, which conflicts with the exclusive lock.</summary>
    private static string ReadContent(string path)
    {
        using var handle = new SafeFileHandle(Interop.Locking.Open(path, Interop.Processes.O_RDONLY | Interop.Processes.O_CLOEXEC, 0), ownsHandle: true);
        var buffer = new byte[64];
        return Encoding.ASCII.GetString(buffer, 0, RandomAccess.Read(handle, buffer, 0));
    }

    private static void Overwrite(string path, string content)
    {
        using var handle = new SafeFileHandle(Interop.Locking.Open(path, Interop.Locking.O_RDWR | Interop.Processes.O_CLOEXEC, 0), ownsHandle: true);
        RandomAccess.Write(handle, Encoding.ASCII.GetBytes(content), 0);
    }
}
